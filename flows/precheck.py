"""Deciding that a command has nothing to do before it imports Prefect (1.7 s) or needs a server.

An `ingest` whose every file is already in the warehouse with the same bytes and parser version would
only count them as unchanged: the check reads and hashes the files and looks their hashes up, and the
command prints the usual summary and records its `runs` row without a flow run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from flows import settings
from flows.shards import in_shard
from flows.sources.seeds import discover_files, read_file
from flows.summary import RunSummary
from parsers.records import PARSER_VERSION
from warehouse.backends import is_lake, open_warehouse
from warehouse.load import known_documents
from warehouse.schema import report_path


def file_hashes(paths: Sequence[str]) -> dict[str, str] | None:
    """path -> content hash of every file; None when one cannot be read (the flow reports it as a reject)."""
    hashes = {}
    for path in paths:
        try:
            hashes[path] = read_file(path).content_hash
        except OSError:
            return None
    return hashes


def unchanged_ingest(paths: Sequence[str], db: str, *, shard: int = 0, shards: int = 1) -> RunSummary | None:
    """The summary of an ingest that would change nothing, recorded in `runs`; None when there is work to do.

    Raises InputError for a path that does not exist, as the flow would.
    """
    started = datetime.now()
    t0 = time.perf_counter()
    files = in_shard(discover_files(paths), shard, shards)
    lake = is_lake(db)
    if not files or not (lake or Path(db).exists()):
        return None
    hashes = file_hashes(files)
    if hashes is None:
        return None
    with open_warehouse(db, lake_data=settings.LAKE_DATA, lock_wait=settings.LOCK_WAIT_SECONDS) as warehouse:
        known = known_documents(warehouse.connection, files)
        if any(known.get(path) != (digest, PARSER_VERSION) for path, digest in hashes.items()):
            return None
        summary = RunSummary("ingest-files", f"local-{time.time_ns()}", started)
        summary.inputs = summary.articles_unchanged = len(files)
        summary.timings["check"] = time.perf_counter() - t0
        summary.finished_at = datetime.now()
        summary.warehouse = db
        if not lake and report_path(db).exists():  # written by the run that last changed something: still current
            summary.report = str(report_path(db).resolve())
        warehouse.record_run(summary.run_row())
    return summary
