# civic-ingest: `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(STAMP)  ## seeds/ -> warehouse.duckdb, then a summary
	$(BIN)/civic-ingest ingest seeds --db $${CIVIC_DB:-warehouse.duckdb}
	$(BIN)/civic-ingest stats --db $${CIVIC_DB:-warehouse.duckdb}

test: $(DEV_STAMP)  ## the whole suite, Prefect server test included
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) warehouse.duckdb warehouse.snapshot.duckdb .pytest_cache
