"""Stages shared by every flow: parse a batch (both cores), load a batch (one transaction), report."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from functools import partial
from typing import TypeVar

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE

from flows import settings
from flows.summary import RunSummary
from flows.vocabulary import metric_rules
from parsers.article import parse_document
from parsers.metrics import MetricRule
from parsers.records import Article, ParseError, RawDocument
from warehouse.load import FetchState, LoadResult, Reject, record_run, upsert_batch
from warehouse.schema import connect, publish_snapshot

T = TypeVar("T")
# Below this many documents a process pool costs more to start than it saves.
MIN_DOCS_FOR_POOL = 24


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items (itertools.batched is Python 3.12+)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def parse_one(raw: RawDocument, selector: str | None, rules: Sequence[MetricRule]) -> Article | Reject:
    """Parse one document; a failure becomes a Reject with its reason instead of stopping the batch."""
    try:
        return parse_document(raw, selector=selector, rules=rules)
    except ParseError as exc:
        return Reject(raw.uri, exc.stage, exc.reason)
    except Exception as exc:
        return Reject(raw.uri, "parse", f"internal parser error: {type(exc).__name__}: {exc}")


def _worker_count(requested: int | None) -> int:
    return max(1, requested or os.cpu_count() or 1)


@task(name="parse", cache_policy=NO_CACHE)
def parse_batch(
    raws: Sequence[RawDocument],
    selectors: dict[str, str] | None = None,
    workers: int | None = None,
) -> tuple[list[Article], list[Reject]]:
    """Articles and rejects of a batch, parsed on all cores when the batch is large enough."""
    selectors = selectors or {}
    rules = metric_rules()
    jobs = [(raw, selectors.get(raw.source_name)) for raw in raws]
    n = _worker_count(workers)
    if n > 1 and len(jobs) >= MIN_DOCS_FOR_POOL:
        with ProcessPoolExecutor(max_workers=n) as pool:
            results = list(pool.map(partial(_parse_job, rules=rules), jobs, chunksize=8))
    else:
        results = [parse_one(raw, selector, rules) for raw, selector in jobs]
    articles = [r for r in results if isinstance(r, Article)]
    rejects = [r for r in results if isinstance(r, Reject)]
    return articles, rejects


def _parse_job(job: tuple[RawDocument, str | None], rules: Sequence[MetricRule]) -> Article | Reject:
    raw, selector = job
    return parse_one(raw, selector, rules)


@task(name="load", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def load_batch(
    db: str,
    articles: Sequence[Article],
    rejects: Sequence[Reject] = (),
    fetch_states: Sequence[FetchState] = (),
) -> LoadResult:
    """Upsert a batch into the warehouse in one transaction (retried: the file may be briefly locked)."""
    con = connect(db, wait_seconds=settings.LOCK_WAIT_SECONDS)
    try:
        return upsert_batch(con, articles, rejects=rejects, fetch_states=fetch_states)
    finally:
        con.close()


def finish_run(summary: RunSummary, db: str) -> RunSummary:
    """Stamp the end time, store the run in `runs`, publish the read snapshot and the artifact, log the report."""
    summary.finished_at = datetime.now()
    summary.warehouse = db
    con = connect(db, wait_seconds=settings.LOCK_WAIT_SECONDS)
    try:
        record_run(con, summary.run_row())
        publish_snapshot(con, db)
    finally:
        con.close()
    create_markdown_artifact(
        key=f"{summary.flow}-summary",
        markdown=summary.to_markdown(),
        description=f"{summary.flow} run summary",
    )
    get_run_logger().info("run summary\n%s", summary.to_text())
    return summary


class Progress:
    """'files done of total' on a terminal; silent when output is not a terminal (scheduled runs)."""

    def __init__(self, total: int, label: str = "files") -> None:
        self.total = total
        self.done = 0
        self.label = label
        self.started = time.monotonic()
        self.enabled = sys.stderr.isatty()

    def advance(self, n: int) -> None:
        self.done += n
        if self.enabled:
            rate = self.done / max(time.monotonic() - self.started, 1e-6)
            sys.stderr.write(f"\r  {self.label} {self.done}/{self.total} ({rate:.0f}/s)   ")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()
