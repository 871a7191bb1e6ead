"""Stages shared by every flow: parse a batch (both cores), load a batch (one transaction), report."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import pickle
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import duckdb
from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE
from prefect.utilities.annotations import quote

from flows import settings
from flows.summary import RunSummary
from flows.vocabulary import metric_rules
from parsers.article import parse_document
from parsers.metrics import MetricRule
from parsers.records import Article, ParseError, RawDocument
from warehouse.backends import Warehouse, open_warehouse
from warehouse.load import ArticleRows, FetchState, LoadResult, Reject
from warehouse.schema import report_path

T = TypeVar("T")
log = logging.getLogger(__name__)
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


ParsedChunk = tuple[ArticleRows, list[Reject]]
# Documents a worker parses per task: ~4 x 30 ms, small enough that a batch ends with both workers busy.
CHUNK_DOCS = 4


_VOCABULARIES: dict[str, tuple[MetricRule, ...]] = {}  # in a parser process: each vocabulary, unpickled once


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Metric rules as sent to parser processes: pickled once by the run, unpickled once per process.

    Unpickling ~200 rules recompiles their patterns (~8 ms): done for every chunk of 4 pages it doubled the
    cost of parsing a page.
    """

    digest: str
    payload: bytes

    @classmethod
    def of(cls, rules: Sequence[MetricRule]) -> Vocabulary:
        payload = pickle.dumps(tuple(rules))
        return cls(hashlib.sha1(payload).hexdigest(), payload)

    def rules(self) -> tuple[MetricRule, ...]:
        found = _VOCABULARIES.get(self.digest)
        if found is None:
            found = _VOCABULARIES[self.digest] = pickle.loads(self.payload)
        return found


def parse_chunk(jobs: Sequence[tuple[RawDocument, str | None]], vocabulary: Vocabulary) -> ParsedChunk:
    """Parse a few documents and turn the articles into Arrow rows, where they are parsed (a worker process)."""
    return parse_rows(jobs, vocabulary.rules())


def parse_rows(jobs: Sequence[tuple[RawDocument, str | None]], rules: Sequence[MetricRule]) -> ParsedChunk:
    """Parse documents into Arrow rows and rejects."""
    outcomes = [parse_one(raw, selector, rules) for raw, selector in jobs]
    articles = [r for r in outcomes if isinstance(r, Article)]
    return ArticleRows.from_articles(articles), [r for r in outcomes if isinstance(r, Reject)]


def _worker_count(requested: int | None) -> int:
    return max(1, requested or os.cpu_count() or 1)


_pools: dict[int, ProcessPoolExecutor] = {}


def parser_pool(workers: int) -> ProcessPoolExecutor:
    """The parser processes of this process: started on first use, kept warm for every later batch of a run."""
    if workers not in _pools:
        _pools[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    return _pools[workers]


def release_parser_pool() -> None:
    """Stop the parser processes (~165 MiB each): when a run's parsing is over, before its last load."""
    while _pools:
        _pools.popitem()[1].shutdown(wait=True, cancel_futures=True)


def warm_parser_pool(workers: int | None) -> None:
    """Start the parser processes now: forked before a run's fetch threads start, not while they hold locks."""
    n = _worker_count(workers)
    parser_pool(n).submit(int).result()  # a fork pool starts all its processes with its first task


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    """End a pool whose processes hang or died: our own children, by pid, then forget the pool."""
    for process in list((pool._processes or {}).values()):
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for key, cached in list(_pools.items()):
        if cached is pool:
            del _pools[key]


# A pool that finishes no chunk for this long is stuck (a page that never ends parsing, a hung process):
# its processes are killed and the chunks left are parsed one page at a time, each page in its own process.
PARSE_STALL_SECONDS = 60.0


def parse_in_pool(
    jobs: Sequence[tuple[RawDocument, str | None]], rules: Sequence[MetricRule], n: int, *, attempt: int = 1
) -> list[ParsedChunk]:
    """Chunks parsed by the warm pool. When a process dies (a parser crash, the out-of-memory killer) or the
    pool stalls, the chunks not finished go to a fresh pool; if that fails too, the chunks it did not finish
    are parsed one page per process, so a page that crashes the parser costs only itself."""
    pool = parser_pool(n)
    if pool._broken:  # a process of an earlier batch died after its work was done
        _kill_pool(pool)
        pool = parser_pool(n)
    chunks = list(batched(jobs, CHUNK_DOCS))
    vocabulary = Vocabulary.of(rules)
    futures: list[Future[ParsedChunk]] = [pool.submit(parse_chunk, chunk, vocabulary) for chunk in chunks]
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=PARSE_STALL_SECONDS, return_when=FIRST_COMPLETED)
        if not done or any(isinstance(f.exception(), BrokenProcessPool) for f in done):
            break
    failed = [i for i, f in enumerate(futures) if not f.done() or f.exception() is not None]
    if failed:
        _kill_pool(pool)
        log.warning(
            "parser processes %s: parsing %d pages again %s",
            "stalled" if pending else "died",
            sum(len(chunks[i]) for i in failed),
            "in fresh processes" if attempt == 1 else "one per process",
        )
    redone: list[ParsedChunk] = []
    if failed and attempt == 1:
        redone = parse_in_pool([job for i in failed for job in chunks[i]], rules, n, attempt=2)
    elif failed:
        redone = [parse_isolated(chunks[i], rules) for i in failed]
    return [future.result() for i, future in enumerate(futures) if i not in failed] + redone


def parse_isolated(jobs: Sequence[tuple[RawDocument, str | None]], rules: Sequence[MetricRule]) -> ParsedChunk:
    """Each page parsed in a process of its own: a page that kills or hangs its process becomes a reject."""
    parsed: list[ParsedChunk] = []
    vocabulary = Vocabulary.of(rules)
    for raw, selector in jobs:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        try:
            parsed.append(pool.submit(parse_chunk, [(raw, selector)], vocabulary).result(timeout=PARSE_STALL_SECONDS))
        except BrokenProcessPool:
            reason = "the parser process died on this page (a crash in the HTML parser, or out of memory)"
            parsed.append((ArticleRows.from_articles([]), [Reject(raw.uri, "parse", reason)]))
        except FutureTimeout:
            reason = f"parsing took longer than {PARSE_STALL_SECONDS:g} s and was stopped"
            parsed.append((ArticleRows.from_articles([]), [Reject(raw.uri, "parse", reason)]))
        finally:
            _kill_pool(pool)
    return ArticleRows.concat([rows for rows, _ in parsed]).combined(), [r for _, rejects in parsed for r in rejects]


@task(name="parse", cache_policy=NO_CACHE)
def parse_task(
    raws: Sequence[RawDocument], selectors: dict[str, str], workers: int | None, isolate: bool = False
) -> ParsedChunk:
    """Rows and rejects of a batch, parsed on all cores when the batch is large enough (always in worker
    processes with `isolate`: pages from the web may crash a parser, which must not end the run)."""
    rules = metric_rules()
    unique = {raw.uri: raw for raw in raws}.values()  # one document per input: the last copy wins
    jobs = [(raw, selectors.get(raw.source_name)) for raw in unique]
    n = _worker_count(workers)
    if jobs and (isolate or (n > 1 and len(jobs) >= MIN_DOCS_FOR_POOL)):
        chunks = parse_in_pool(jobs, rules, n)
    else:
        chunks = [parse_rows(jobs, rules)]
    rows = ArticleRows.concat([rows for rows, _ in chunks]).combined()
    return rows, [r for _, rejects in chunks for r in rejects]


def open_run_warehouse(db: str | None) -> Warehouse:
    """The run's warehouse: the `db` parameter, else $CIVIC_DB, else warehouse.duckdb; a lake's data folder
    from $CIVIC_LAKE_DATA. Opened once per run and passed to every stage (a file waits for its lock here)."""
    target = db or settings.DEFAULT_DB
    return open_warehouse(target, lake_data=settings.LAKE_DATA, lock_wait=settings.LOCK_WAIT_SECONDS).open()


@task(name="load", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def load_task(
    warehouse: Warehouse, rows: ArticleRows, rejects: Sequence[Reject], fetch_states: Sequence[FetchState]
) -> LoadResult:
    """Upsert rows into the warehouse in one transaction (a lake retries it when another writer won a conflict)."""
    return warehouse.load(rows, rejects=rejects, fetch_states=fetch_states)


# Batches go to the tasks quoted: unquoted, Prefect walks every record looking for futures before the
# task starts (~15 ms per article, half the cost of parsing it).
def parse_batch(
    raws: Sequence[RawDocument],
    selectors: dict[str, str] | None = None,
    workers: int | None = None,
    *,
    isolate: bool = False,
) -> ParsedChunk:
    """Rows and rejects of a batch (the `parse` task), parsed on all cores when the batch is large enough."""
    return parse_task(quote(raws), quote(selectors or {}), workers, isolate)


def load_batch(
    warehouse: Warehouse,
    rows: ArticleRows | None = None,
    rejects: Sequence[Reject] = (),
    fetch_states: Sequence[FetchState] = (),
) -> LoadResult:
    """Upsert rows, rejects and crawl state into the warehouse in one transaction (the `load` task, retried)."""
    return load_task(
        quote(warehouse), quote(rows or ArticleRows.from_articles([])), quote(rejects), quote(fetch_states)
    )


# Rows gathered before a load commits them. A transaction that appends a whole row group (122,880 rows) to
# a table has DuckDB write it straight to the file, where smaller ones go to the log and are written again
# at the checkpoint: measured on 5,000 pages (502k rows), 10 commits took 3.6 s, 2 commits 1.8 s.
LOAD_FLUSH_ROWS = 250_000


class BatchLoader:
    """Parsed batches in, loads out: rows are gathered and committed LOAD_FLUSH_ROWS at a time.

    Each load is one transaction holding its articles, their rejects and the crawl state of their pages,
    so the warehouse is consistent after any failure. When the run fails elsewhere, what was gathered is
    still loaded on the way out; only a load that itself fails leaves its rows to the next run, which
    parses them again (they are not in the warehouse). Loads go to the run's warehouse, held open for the
    whole run (a file's commit then does not checkpoint the whole file). Given a target string instead of a
    Warehouse, the loader opens it itself and closes it when let go. Counts go to the run summary as batches
    are added and loaded.
    """

    def __init__(self, warehouse: Warehouse | str, summary: RunSummary, *, flush_rows: int | None = None) -> None:
        self.owned = isinstance(warehouse, str)
        self.warehouse = open_run_warehouse(warehouse) if isinstance(warehouse, str) else warehouse
        self.summary = summary
        self.flush_rows = flush_rows or settings.LOAD_FLUSH_ROWS or LOAD_FLUSH_ROWS
        self.rows: list[ArticleRows] = []
        self.rejects: list[Reject] = []
        self.states: list[FetchState] = []
        self.pending_rows = 0
        self.doc_ids: set[str] = set()
        self.load_failed = False

    def __enter__(self) -> BatchLoader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        """Load what is left (unless loading is what failed); a warehouse the loader opened itself is let go.

        Nothing is parsed after this: the parser processes go first, so the last load and what follows it
        (the fetch's boilerplate sweep, the snapshot) run without their ~200 MiB.
        """
        release_parser_pool()
        try:
            if not self.load_failed:
                self.flush()
        except Exception:
            if exc_type is None:
                raise
            get_run_logger().exception("could not load the batches gathered before the run failed")
        finally:
            if self.owned:
                started = time.perf_counter()
                self.warehouse.close()  # a file is checkpointed as it is let go
                self.summary.timings["load"] += time.perf_counter() - started

    def add(self, rows: ArticleRows, rejects: Sequence[Reject] = (), states: Sequence[FetchState] = ()) -> None:
        """Gather a parsed batch; load everything gathered once it reaches `flush_rows` rows.

        A document gathered twice (a page fetched again in the same run) is loaded before its new copy.
        """
        ids = rows.column("doc_id")
        if not self.doc_ids.isdisjoint(ids):
            self.flush()
        self.doc_ids.update(ids)
        self.summary.add_parsed(rows)
        self.summary.rejects += rejects
        self.rows.append(rows)
        self.rejects += rejects
        self.states += states
        self.pending_rows += rows.rows + len(rejects) + len(states)
        if self.pending_rows >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        """Load everything gathered, in one transaction."""
        if not (self.rows or self.rejects or self.states):
            return
        started = time.perf_counter()
        self.load_failed = True
        # One chunk per table: DuckDB inserted 5,000 pages' rows 10-20% faster than as 250-document chunks.
        result = load_batch(self.warehouse, ArticleRows.concat(self.rows).combined(), self.rejects, self.states)
        self.load_failed = False
        self.summary.add_loaded(result)
        self.summary.timings["load"] += time.perf_counter() - started
        self.rows, self.rejects, self.states, self.pending_rows = [], [], [], 0
        self.doc_ids = set()


def finish_run(summary: RunSummary, warehouse: Warehouse) -> RunSummary:
    """Stamp the end time, store the run in `runs`, publish the run's writes to readers and the artifact, log.

    Publishing is the backend's business: a file copies itself to its read snapshot (only when the run changed
    data: copying the whole warehouse would cost more than the rest of an unchanged run; its `runs` row reaches
    the snapshot with the next run that changes something); a lake has nothing to do, readers see each commit.
    """
    summary.finished_at = datetime.now()
    summary.warehouse = warehouse.name
    warehouse.record_run(summary.run_row())
    if warehouse.publish(has_changes(summary)):  # a file's new snapshot: the report beside it follows it
        write_run_report(warehouse.connection, summary)
    create_markdown_artifact(
        key=f"{summary.flow}-summary",
        markdown=summary.to_markdown(),
        description=f"{summary.flow} run summary",
    )
    if summary.report:
        create_link_artifact(
            key=f"{summary.flow}-report",
            link=Path(summary.report).as_uri(),
            link_text=f"report after this run: {summary.report}",
            description="The warehouse as charts, sources and conflicts (civic-ingest report)",
        )
    get_run_logger().info("run summary\n%s", summary.to_text())
    return summary


def write_run_report(con: duckdb.DuckDBPyConnection, summary: RunSummary) -> None:
    """Write the report page beside the warehouse and note its path in the summary; a failure is logged.

    The report is a by-product: the run's data is committed by now, and a report that cannot be drawn
    (a full disk, a chart library error) must not turn a finished run into a failed one.
    """
    from flows.report import write_report  # altair: imported by runs that write a report only

    started = time.perf_counter()
    try:
        path = write_report(con, report_path(summary.warehouse), warehouse=summary.warehouse, run_id=summary.run_id)
    except Exception as exc:  # a by-product: see the docstring; the reason is logged
        get_run_logger().warning("report not written: %s: %s", type(exc).__name__, exc)
        return
    summary.report = str(path.resolve())
    summary.timings["report"] = time.perf_counter() - started  # after the `runs` row: in the printed summary only


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
