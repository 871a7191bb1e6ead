# civic-ingest: `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint bench bench-commands bench-lake clean server pool worker deploy

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(STAMP)  ## seeds/ -> warehouse.duckdb (and its report page), a summary, where the Prefect UI is
	$(BIN)/civic-ingest ingest seeds --db $${CIVIC_DB:-warehouse.duckdb}
	$(BIN)/civic-ingest stats --db $${CIVIC_DB:-warehouse.duckdb}
	@$(BIN)/civic-ingest server status || true

test: $(DEV_STAMP)  ## the whole suite, Prefect server test included
	$(BIN)/ruff check .
	$(BIN)/pytest -q

# --- running it as a service (README: "Running it as a service") ------------------------------------
# These targets talk to the server at $PREFECT_API_URL (default: the one `make server` starts).
PREFECT_PORT ?= 4200
POOL ?= civic-ingest
# Flow runs at once: 1 for a DuckDB file (one writer); on a DuckLake, the number of workers (hosts) you run.
POOL_LIMIT ?= 1
server pool worker deploy: export PREFECT_API_URL ?= http://127.0.0.1:$(PREFECT_PORT)/api

server: $(STAMP)  ## a Prefect server and its UI on http://127.0.0.1:4200 (keep it running)
	$(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT)

pool: $(STAMP)  ## the process work pool: one flow run at a time on a file; POOL_LIMIT=N on a lake
	$(BIN)/prefect work-pool create $(POOL) --type process --overwrite
	$(BIN)/prefect work-pool set-concurrency-limit $(POOL) $(POOL_LIMIT)

worker: $(STAMP)  ## runs the deployments' flow runs (keep it running; CIVIC_DB etc. from this environment)
	$(BIN)/prefect worker start --pool $(POOL)

deploy: pool  ## create or update the deployments of deployments/prefect.yaml
	$(BIN)/prefect --no-prompt deploy --all --prefect-file deployments/prefect.yaml

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

bench-commands: $(STAMP)  ## first/second command with and without PREFECT_API_URL, re-run ratio (~2 min)
	$(BIN)/python benchmarks/commands.py

bench-lake: $(STAMP)  ## one writer into a lake vs the file; two writers on two shards vs one (needs PostgreSQL)
	$(BIN)/python benchmarks/lake.py

clean:
	-[ -x $(BIN)/civic-ingest ] && $(BIN)/civic-ingest server stop
	rm -rf $(VENV) warehouse.duckdb warehouse.snapshot.duckdb warehouse.report.html .prefect .pytest_cache test-artifacts
