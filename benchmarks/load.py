"""The load step alone: the rows of a warehouse loaded again into a fresh one, as a run loads them; one JSON line.

    .venv/bin/python benchmarks/load.py WAREHOUSE [--memory-limit 128MB] [--flush-rows 250000]

Inside `make bench` the load shares the machine with parsing (and the figure moves with whatever else the
machine does); this measures it alone, in its own process, so DuckDB settings can be compared. The rows of
WAREHOUSE (benchmarks/run.py passes the one its ingest built) are read as the Arrow tables the parser workers
return, cut into parse batches of 250 documents, gathered to about --flush-rows rows a transaction and loaded
into a new warehouse held open, which is then closed (its checkpoint is part of the load, as in a run).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from flows.pipeline import LOAD_FLUSH_ROWS, batched
from warehouse import schema
from warehouse.load import (
    CLEANING_COLUMNS,
    INDICATOR_COLUMNS,
    PARAGRAPH_COLUMNS,
    PARSED_DOCUMENT_COLUMNS,
    SECTION_COLUMNS,
    ArticleRows,
    upsert_batch,
)

BATCH_DOCS = 250  # documents of a parse batch (the fetch batch size)
SHAPES = {
    "documents": PARSED_DOCUMENT_COLUMNS,
    "sections": SECTION_COLUMNS,
    "paragraphs": PARAGRAPH_COLUMNS,
    "indicators": INDICATOR_COLUMNS,
    "cleaning_log": CLEANING_COLUMNS,
}


def warehouse_rows(db: Path) -> ArticleRows:
    """Every article of a warehouse as the rows a parser worker would have returned."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            con.sql(f"SELECT {', '.join(shape.names)} FROM {name} ORDER BY doc_id").to_arrow_table().cast(shape)
            for name, shape in SHAPES.items()
        ]
    finally:
        con.close()
    return ArticleRows(*tables)


def load(parts: list[ArticleRows], db: Path, flush_rows: int) -> tuple[int, float]:
    """(rows loaded, seconds) of loading parse batches into a new warehouse the way BatchLoader does."""
    started = time.perf_counter()
    con = schema.connect(db)
    loaded = 0
    gathered: list[ArticleRows] = []
    pending = 0
    for part in parts:
        gathered.append(part)
        pending += part.rows
        if pending >= flush_rows:
            loaded += upsert_batch(con, ArticleRows.concat(gathered).combined()).rows
            gathered, pending = [], 0
    if gathered:
        loaded += upsert_batch(con, ArticleRows.concat(gathered).combined()).rows
    con.close()
    return loaded, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--memory-limit", default=schema.WRITER_SETTINGS["memory_limit"])
    parser.add_argument("--flush-rows", type=int, default=LOAD_FLUSH_ROWS)
    args = parser.parse_args()
    rows = warehouse_rows(args.warehouse)
    parts = [rows.only(ids).combined() for ids in batched(rows.column("doc_id"), BATCH_DOCS)]  # as parsed
    schema.WRITER_SETTINGS["memory_limit"] = args.memory_limit
    with tempfile.TemporaryDirectory(dir=args.warehouse.parent) as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        loaded, seconds = load(parts, db, args.flush_rows)
        size = db.stat().st_size
    print(
        json.dumps(
            {
                "documents": len(rows),
                "rows": loaded,
                "seconds": round(seconds, 3),
                "rows_s": round(loaded / seconds),
                "memory_limit": args.memory_limit,
                "flush_rows": args.flush_rows,
                "warehouse_mib": round(size / 2**20, 1),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
