"""Stages shared by every flow: parse a batch (both cores), load a batch (one transaction), report."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from functools import cache, partial
from typing import TypeVar

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE
from prefect.utilities.annotations import quote

from flows import settings
from flows.summary import RunSummary
from flows.vocabulary import metric_rules
from parsers.article import parse_document
from parsers.metrics import MetricRule
from parsers.records import Article, ParseError, RawDocument
from warehouse.load import FetchState, LoadResult, Reject, record_run, upsert_batch
from warehouse.schema import connect, publish_snapshot, snapshot_path

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


def _parse_job(job: tuple[RawDocument, str | None], rules: Sequence[MetricRule]) -> Article | Reject:
    raw, selector = job
    return parse_one(raw, selector, rules)


def _worker_count(requested: int | None) -> int:
    return max(1, requested or os.cpu_count() or 1)


@cache
def parser_pool(workers: int) -> ProcessPoolExecutor:
    """The parser processes of this process: started on first use, kept warm for every later batch and run."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))


@task(name="parse", cache_policy=NO_CACHE)
def parse_task(
    raws: Sequence[RawDocument], selectors: dict[str, str], workers: int | None
) -> tuple[list[Article], list[Reject]]:
    """Articles and rejects of a batch, parsed on all cores when the batch is large enough."""
    rules = metric_rules()
    jobs = [(raw, selectors.get(raw.source_name)) for raw in raws]
    n = _worker_count(workers)
    if n > 1 and len(jobs) >= MIN_DOCS_FOR_POOL:
        # Small chunks: the batch ends with both workers busy (a chunk is ~2 x 30 ms of work).
        try:
            outcomes = list(parser_pool(n).map(partial(_parse_job, rules=rules), jobs, chunksize=2))
        except BrokenProcessPool:
            parser_pool.cache_clear()  # a worker was killed (out of memory?): later batches start new ones
            raise
    else:
        outcomes = [parse_one(raw, selector, rules) for raw, selector in jobs]
    articles = [r for r in outcomes if isinstance(r, Article)]
    rejects = [r for r in outcomes if isinstance(r, Reject)]
    return articles, rejects


@task(name="load", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def load_task(
    db: str, articles: Sequence[Article], rejects: Sequence[Reject], fetch_states: Sequence[FetchState]
) -> LoadResult:
    """Upsert a batch into the warehouse in one transaction (retried: the file may be briefly locked)."""
    con = connect(db, wait_seconds=settings.LOCK_WAIT_SECONDS)
    try:
        return upsert_batch(con, articles, rejects=rejects, fetch_states=fetch_states)
    finally:
        con.close()


# Batches go to the tasks quoted: unquoted, Prefect walks and rebuilds every record of every article
# looking for futures before the task starts (~15 ms per article, half the cost of parsing it).
def parse_batch(
    raws: Sequence[RawDocument],
    selectors: dict[str, str] | None = None,
    workers: int | None = None,
) -> tuple[list[Article], list[Reject]]:
    """Articles and rejects of a batch (the `parse` task), parsed on all cores when the batch is large enough."""
    return parse_task(quote(raws), quote(selectors or {}), workers)


def load_batch(
    db: str,
    articles: Sequence[Article],
    rejects: Sequence[Reject] = (),
    fetch_states: Sequence[FetchState] = (),
) -> LoadResult:
    """Upsert a batch into the warehouse in one transaction (the `load` task, retried)."""
    return load_task(db, quote(articles), quote(rejects), quote(fetch_states))


def finish_run(summary: RunSummary, db: str) -> RunSummary:
    """Stamp the end time, store the run in `runs`, publish the read snapshot and the artifact, log the report.

    A run that changed no data (an unchanged corpus again) keeps the published snapshot: copying the whole
    warehouse would cost more than the rest of such a run. Its `runs` row is in the warehouse, and reaches
    the snapshot with the next run that changes something.
    """
    summary.finished_at = datetime.now()
    summary.warehouse = db
    con = connect(db, wait_seconds=settings.LOCK_WAIT_SECONDS)
    try:
        record_run(con, summary.run_row())
        if has_changes(summary) or not snapshot_path(db).exists():
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


def has_changes(summary: RunSummary) -> bool:
    """True when the run wrote anything but its own `runs` row: articles, rejects or crawl state."""
    return bool(summary.articles_new or summary.articles_updated or summary.rejects or summary.fetch_counts)


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
