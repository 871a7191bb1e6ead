"""Flow `ingest-files`: local .txt/.html files -> parsed articles -> the warehouse (a DuckDB file or a lake)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from flows import settings
from flows.pipeline import BatchLoader, Progress, batched, finish_run, open_run_warehouse, parse_batch
from flows.shards import in_shard
from flows.sources.seeds import discover_files, read_file
from flows.summary import RunSummary
from parsers.records import PARSER_VERSION, RawDocument
from warehouse.backends import Warehouse
from warehouse.load import Reject, known_documents


@task(name="read-files", cache_policy=NO_CACHE)
def read_files(paths: Sequence[str]) -> tuple[list[RawDocument], list[Reject]]:
    """Bytes of each file; unreadable files become rejects."""
    raws, rejects = [], []
    for path in paths:
        try:
            raws.append(read_file(path))
        except OSError as exc:
            rejects.append(Reject(path, "read", f"cannot read file: {exc.strerror or exc}"))
    return raws, rejects


@task(name="skip-unchanged", cache_policy=NO_CACHE)
def split_unchanged(warehouse: Warehouse, raws: Sequence[RawDocument]) -> tuple[list[RawDocument], list[RawDocument]]:
    """(changed, unchanged): an input whose bytes and parser version match the warehouse is not parsed again."""
    known = known_documents(warehouse.connection, [r.uri for r in raws])
    is_unchanged = [known.get(r.uri) == (r.content_hash, PARSER_VERSION) for r in raws]
    changed = [r for r, same in zip(raws, is_unchanged, strict=True) if not same]
    unchanged = [r for r, same in zip(raws, is_unchanged, strict=True) if same]
    return changed, unchanged


@flow(name="ingest-files", log_prints=True)
def ingest_files(
    paths: list[str] | None = None,
    db: str | None = None,
    batch_size: int = 500,
    workers: int | None = None,
    shard: int = 0,
    shards: int = 1,
) -> RunSummary:
    """Ingest local seed files (.txt, .html) into the warehouse; returns the run summary.

    With `shards` > 1 only the files of shard `shard` (a stable hash of each path as given): n runs started
    together on one lake, one per shard, ingest every file once.
    """
    files = in_shard(discover_files(paths or [settings.DEFAULT_SEEDS]), shard, shards)
    summary = RunSummary("ingest-files", str(flow_run.get_id() or f"local-{time.time_ns()}"), datetime.now())
    summary.inputs = len(files)
    progress = Progress(len(files))
    logger = get_run_logger()
    with open_run_warehouse(db) as warehouse:
        logger.info("ingesting %d files into %s", len(files), warehouse.name)
        with BatchLoader(warehouse, summary) as loader:
            for batch in batched(files, batch_size):
                t0 = time.perf_counter()
                raws, read_rejects = read_files(list(batch))
                t1 = time.perf_counter()
                changed, unchanged = split_unchanged(quote(warehouse), quote(raws))
                t2 = time.perf_counter()
                rows, parse_rejects = parse_batch(changed, workers=workers)
                summary.timings.update({"read": t1 - t0, "skip": t2 - t1, "parse": time.perf_counter() - t2})
                summary.articles_unchanged += len(unchanged)
                loader.add(rows, read_rejects + parse_rejects)  # loads once enough rows are gathered
                progress.advance(len(batch))
                logger.info(
                    "batch: %d changed, %d unchanged, %d rejected",
                    len(changed),
                    len(unchanged),
                    len(read_rejects) + len(parse_rejects),
                )
        return finish_run(summary, warehouse)
