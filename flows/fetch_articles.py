"""Flow `fetch-articles`: configured sites -> new article pages -> parsed articles -> the warehouse.

list pages (conditional GET) -> article links not seen before -> fetch (one thread per host) -> parse -> load
with each page's crawl state in the same transaction as its article. Pages are parsed and committed in
batches as they arrive: a batch is handed on when full or after a few seconds, never waiting for a slow
host (flows/page_stream.py). List-page validators are committed last, and only for sources whose pages
were all fetched, so a run that stops half-way (its deadline, a signal, a crash) re-reads the lists next
time instead of skipping what it never loaded. `crawl_sources` is the whole path, shared with the backfill
flow (date range, explicit URLs).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from itertools import zip_longest
from typing import TypeVar
from urllib.parse import urlsplit

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from flows import settings
from flows.page_stream import FetchedBatch, PageStream, RunStop
from flows.pipeline import (
    BatchLoader,
    Progress,
    finish_run,
    load_batch,
    open_run_warehouse,
    parse_batch,
    warm_parser_pool,
)
from flows.shards import in_shard
from flows.sources.attachments import fetch_spreadsheets, spreadsheet_document
from flows.sources.config import FetchSettings, Source, load_sources
from flows.sources.discovery import Discovery, discover_articles
from flows.sources.web import FetchResult, Link, WebClient, make_link, raw_document
from flows.summary import RunSummary
from parsers.records import ParseError, RawDocument, content_hash
from warehouse.backends import Warehouse
from warehouse.load import FetchState, Reject
from warehouse.queries import failed_article_urls, known_page_urls, list_validators

T = TypeVar("T")
log = logging.getLogger(__name__)
# Outcomes that are answers, not failures: nothing to record as an error or retry next run.
NOT_FAILURES = frozenset({"200", "304", "robots_blocked", "skipped_non_html", "stopped"})
# A partial batch is handed on once its first page has waited this long (seconds): slow hosts never hold
# the pages of fast ones, and a stopped run has little fetched but not yet committed.
BATCH_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class CrawlState:
    """What earlier runs left: pages already loaded, list validators, articles that failed."""

    known: frozenset[str] = frozenset()  # canonical URLs of article pages fetched or loaded
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # list url -> etag, l-m
    failed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # source -> article URLs to try again


@dataclass(frozen=True, slots=True)
class Job:
    """One article page to fetch for a source."""

    source: Source
    link: Link
    parent: FetchResult | None = None  # for an attachment: the fetched page that links it


@task(name="read-crawl-state", cache_policy=NO_CACHE)
def read_crawl_state(warehouse: Warehouse, max_attempts: int) -> CrawlState:
    """Known article URLs, list-page validators and failed articles from earlier runs."""
    con = warehouse.connection
    known = known_page_urls(con)
    validators = list_validators(con)
    failed: dict[str, list[str]] = {}
    for source_name, url in failed_article_urls(con, max_attempts):
        if url not in known:
            failed.setdefault(source_name, []).append(url)
    return CrawlState(known, validators, {name: tuple(urls) for name, urls in failed.items()})


def by_host(items: Iterable[tuple[str, T]]) -> dict[str, list[T]]:
    """Items grouped by the host of their URL, in first-seen order."""
    groups: dict[str, list[T]] = {}
    for url, item in items:
        groups.setdefault(urlsplit(url).netloc.lower(), []).append(item)
    return groups


@dataclass
class Discoveries:
    """List pages read by the host threads of a run, and the article pages they planned (shared, locked)."""

    found: list[Discovery] = field(default_factory=list)
    planned: set[str] = field(default_factory=set)  # canonical URLs of article pages planned this run
    jobs: list[Job] = field(default_factory=list)  # the article pages planned from those lists
    seconds: float = 0.0  # until the last host had read its lists
    lock: threading.Lock = field(default_factory=threading.Lock)


def discover_host(
    client: WebClient,
    group: Sequence[Source],
    state: CrawlState,
    shared: Discoveries,
    *,
    max_pages: int | None = None,
    since: date | None = None,
    until: date | None = None,
    refetch: bool = False,
    started: float = 0.0,
) -> list[Job]:
    """Read the list pages of one host's sources and plan their new article pages (in the host's thread,
    so a host whose lists are slow delays only itself)."""
    found = [
        discover_articles(client, s, validators=state.validators, max_pages=max_pages, since=since, until=until)
        for s in group
    ]
    with shared.lock:
        shared.found += found
        jobs, _ = plan_jobs(group, found, state, refetch=refetch, planned=shared.planned)
        shared.jobs += jobs
        shared.seconds = max(shared.seconds, time.perf_counter() - started)
    log.info(
        "%s: %d article links on %d list pages, %d to fetch",
        ", ".join(s.name for s in group),
        sum(len(d.articles) for d in found),
        sum(len(d.lists) for d in found),
        len(jobs),
    )
    return jobs


def plan_jobs(
    sources: Sequence[Source],
    found: Sequence[Discovery],
    state: CrawlState,
    *,
    refetch: bool = False,
    urls: Sequence[str] = (),
    planned: set[str] | None = None,
) -> tuple[list[Job], list[Reject]]:
    """Article pages to fetch: discovered links not seen before, earlier failures, and given URLs.

    Jobs alternate between hosts, so every batch keeps every host's thread busy. `planned` (canonical
    URLs planned already, updated here) keeps a page planned by another host's thread from being fetched twice.
    """
    by_name = {s.name: s for s in sources}
    queues: dict[str, list[Job]] = {}
    planned = set() if planned is None else planned
    rejects: list[Reject] = []

    def add(source: Source, link: Link, parent: FetchResult | None = None) -> None:
        if link.canonical in planned or (link.canonical in state.known and not refetch):
            return
        planned.add(link.canonical)
        queues.setdefault(urlsplit(link.url).netloc.lower(), []).append(Job(source, link, parent))

    for discovery in found:
        for link in discovery.articles:
            add(by_name[discovery.source], link)
        for link, list_page in discovery.attachments:  # spreadsheets listed in a column, not inside a page
            add(by_name[discovery.source], link, list_page)
    for name, failed in state.failed.items():
        for url in failed:
            retry = make_link(url, url)
            if name in by_name and retry:
                add(by_name[name], retry)
    for url in urls:
        given = make_link(url, url)
        owner = next((s for s in sources if given and s.allows(given.url)), None)
        if given is None or owner is None:
            rejects.append(Reject(url, "fetch", "no configured source covers this URL's host"))
            continue
        add(owner, given)
    interleaved = [job for row in zip_longest(*queues.values()) for job in row if job is not None]
    return interleaved, rejects


def page_state(
    source_name: str,
    kind: str,
    result: FetchResult,
    doc_id: str | None = None,
    hashed: str | None = None,
    *,
    family: str | None = None,
    parent_url: str | None = None,
) -> FetchState:
    """The fetch_log row of one request (a failure carries its error and is tried again next run).

    `hashed` is the content hash when the caller has it already (the RawDocument of the page); `family` the
    CMS family that read a list page, `parent_url` the page that links an attachment.
    """
    failed = result.outcome not in NOT_FAILURES
    return FetchState(
        url=result.canonical,
        source_name=source_name,
        kind="attachment" if result.outcome == "skipped_non_html" or parent_url else kind,
        status=result.status,
        etag=result.etag,
        last_modified=result.last_modified,
        content_hash=(hashed or content_hash(result.content)) if result.is_ok else None,
        doc_id=doc_id,
        error=(result.error or result.outcome) if failed else None,
        family=family,
        parent_url=parent_url,
    )


def without_validators(result: FetchResult) -> FetchResult:
    """A list result whose ETag/Last-Modified are not kept: the page is read in full next run."""
    return replace(result, etag=None, last_modified=None)


def count_fetches(counts: dict[str, Counter[str]], source_name: str, results: Iterable[FetchResult]) -> None:
    """Add outcomes (200, 304, 4xx, 5xx, robots_blocked, skipped_non_html …) and retries to a source's counts."""
    counter = counts.setdefault(source_name, Counter())
    for result in results:
        counter[result.outcome] += 1
        if result.retries:
            counter["retries"] += result.retries


def failure_rejects(pairs: Iterable[tuple[str, FetchResult]]) -> list[Reject]:
    """Failed requests as rejects for the run report (kept in fetch_log, not in the rejects table)."""
    return [
        Reject(result.canonical, "fetch", f"[{kind}] {result.error or result.outcome}")
        for kind, result in pairs
        if result.outcome not in NOT_FAILURES
    ]


def crawl_sources(
    sources: Sequence[Source],
    *,
    warehouse: Warehouse,
    summary: RunSummary,
    fetch_settings: FetchSettings | None = None,
    max_pages: int | None = None,
    refetch: bool = False,
    since: date | None = None,
    until: date | None = None,
    urls: Sequence[str] = (),
    conditional: bool = True,
    batch_size: int = 250,
    workers: int | None = None,
    max_minutes: float | None = None,
    batch_seconds: float = BATCH_SECONDS,
) -> RunSummary:
    """Discover, fetch, parse and load the sources' new articles (call inside a flow); fills `summary`.

    `since`/`until` bound the dates of discovered links and stop pagination at older pages; `urls` adds
    article pages to fetch directly. A backfill calls this with both and `conditional=False` (it must read
    list pages even when they have not changed); the daily run with neither. `refetch` also reads every
    list page in full, or there would be nothing to fetch again. `max_minutes` is the run's own deadline:
    past it (or on SIGTERM/SIGINT) no new page is requested, what was fetched is loaded, and the rest is
    left to the next run.
    """
    logger = get_run_logger()
    fetch_settings = fetch_settings or FetchSettings()
    client = WebClient.for_sources(fetch_settings, sources)
    selectors = {s.name: s.content_selector for s in sources if s.content_selector}
    stop = RunStop(max_minutes * 60 if max_minutes else None)
    stop.on_stop(client.abort)
    try:
        with stop.on_signals():
            t0 = time.perf_counter()
            state = read_crawl_state(quote(warehouse), fetch_settings.max_attempts)
            if refetch or not conditional:
                state = replace(state, validators={})
            shared = Discoveries()
            # Earlier failures and given URLs first (no list page needed), then each host's lists and pages.
            known_jobs, url_rejects = plan_jobs(sources, [], state, refetch=refetch, urls=urls, planned=shared.planned)
            summary.rejects += url_rejects
            groups: dict[str, list[Job] | Callable[[], list[Job]]] = dict(by_host((j.link.url, j) for j in known_jobs))
            for host, group in by_host((s.start_urls[0], s) for s in sources).items():
                discovering = partial(
                    discover_host,
                    client,
                    group,
                    state,
                    shared,
                    max_pages=max_pages,
                    since=since,
                    until=until,
                    refetch=refetch,
                    started=t0,
                )
                given = groups.get(host)
                groups[host] = partial(_then, given, discovering) if isinstance(given, list) else discovering
            progress = Progress(0, "pages")
            stream = PageStream(
                list(groups.values()),
                partial(fetch_job, client, set()),
                batch_size=batch_size,
                batch_seconds=batch_seconds,
                stop=stop,
            )
            if sources or known_jobs:
                warm_parser_pool(workers)
            # Each batch is committed as soon as it is parsed: a run killed later keeps it.
            cut: list[Job] = []
            with BatchLoader(warehouse, summary, flush_rows=1) as loader:
                for fetched in stream:
                    cut += load_pages(fetched, loader=loader, selectors=selectors, workers=workers)
                    progress.total = len(shared.planned)
                    progress.advance(len(fetched.pages))
            with shared.lock:  # host threads cut by a stop may still be finishing their lists
                found, planned_jobs = list(shared.found), [*known_jobs, *shared.jobs]
            summary.timings.update({"discover": shared.seconds})
            logger.info(
                "discovered %d article links on %d list pages; %d article pages planned (%d known before)",
                sum(len(d.articles) for d in found),
                sum(len(d.lists) for d in found),
                len(shared.planned),
                len(state.known),
            )
            left = [job for job in planned_jobs if not stream.is_finished(job)] + cut
            unfinished = {job.source.name for job in left}
            listed = {d.source for d in found}
            if stop.reason is not None and (left or any(s.name not in listed for s in sources)):
                summary.stopped = f"{stop.reason}: {len(left)} article page(s) left for the next run"
                logger.warning("run stopped early (%s)", summary.stopped)
            # List pages last, and only of sources whose articles were all fetched: their validators must
            # not say "seen" before their articles are in the warehouse.
            t1 = time.perf_counter()
            list_states, list_results = [], []
            for discovery in found:
                count_fetches(summary.fetch_counts, discovery.source, discovery.lists)
                if discovery.source in unfinished or any(r.outcome == "stopped" for r in discovery.lists):
                    continue
                for r in discovery.lists:
                    if r.requested:  # a shell page (gkmlpt's index) keeps no validators: it is read in full each run
                        kept = without_validators(r) if r.canonical in discovery.shells else r
                        list_states.append(
                            page_state(discovery.source, "list", kept, family=discovery.families.get(r.canonical))
                        )
                list_results += [("list", r) for r in discovery.lists]
            summary.rejects += failure_rejects(list_results)
            load_batch(warehouse, fetch_states=list_states)
            swept = sweep_boilerplate(quote(warehouse))
            if swept:
                summary.removals_by_reason["host_boilerplate"] += swept
            summary.timings.update({"load": time.perf_counter() - t1})
    finally:
        client.close()
    return summary


def _then(first: list[Job], then: Callable[[], list[Job]]) -> list[Job]:
    return [*first, *then()]


@task(name="sweep-boilerplate", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def sweep_boilerplate(warehouse: Warehouse) -> int:
    """Drop paragraphs that repeat across pages of one host (site footers, disclaimers); returns how many."""
    return warehouse.sweep_host_boilerplate()


def fetch_job(client: WebClient, sheets: set[str], job: Job) -> list[tuple[Job, FetchResult]]:
    """One job's page, and the spreadsheets it links (statistics tables: its documents too), fetched politely.

    A spreadsheet a list page links is a job of its own (`parent` set); `sheets` (canonical URLs) keeps one
    linked from several pages from being fetched twice.
    """
    if job.parent is not None:
        if job.link.canonical in sheets:
            return []
        sheets.add(job.link.canonical)
        return [(job, client.fetch_attachment(job.link.url, allowed=job.source.allows))]
    result = client.fetch(job.link.url, allowed=job.source.allows)
    linked = fetch_spreadsheets(client, result, allowed=job.source.allows, seen=sheets)
    return [(job, result), *((Job(job.source, link, parent=result), sheet) for link, sheet in linked)]


def load_pages(
    fetched: FetchedBatch[Job],
    *,
    loader: BatchLoader,
    selectors: dict[str, str],
    workers: int | None = None,
) -> list[Job]:
    """Parse one batch of fetched article pages; the loader commits them with their crawl state.

    Returns the jobs whose request the run's stop cut short: they are not recorded, the next run fetches them.
    """
    summary = loader.summary
    started = time.perf_counter()
    stopped = [job for job, result in fetched.pages if result.outcome == "stopped"]
    fetched = FetchedBatch([(job, r) for job, r in fetched.pages if r.outcome != "stopped"], fetched.seconds)
    raws: dict[int, RawDocument] = {}
    unreadable: list[Reject] = []
    uris: set[str] = set()  # a spreadsheet linked from two pages of the batch is one document
    for job, result in fetched.pages:
        if result.is_ok:
            document = page_document(job, result)
            if isinstance(document, Reject):
                unreadable.append(document)
            elif document.uri not in uris:
                uris.add(document.uri)
                raws[id(result)] = document
    rows, rejects = parse_batch(list(raws.values()), selectors, workers, isolate=True)
    rejects = [*unreadable, *rejects]
    summary.timings.update({"fetch": fetched.seconds, "parse": time.perf_counter() - started})
    loaded = dict(zip(rows.column("uri"), rows.column("doc_id"), strict=True))
    states = []
    for job, r in fetched.pages:
        count_fetches(summary.fetch_counts, job.source.name, [r])
        if r.requested:
            raw = raws.get(id(r))
            parent = job.parent.canonical if job.parent else None
            doc_id, hashed = (loaded.get(raw.uri), raw.content_hash) if raw else (None, None)
            states.append(page_state(job.source.name, "article", r, doc_id, hashed, parent_url=parent))
    summary.inputs += len(raws)
    summary.rejects += failure_rejects(("attachment" if job.parent else "article", r) for job, r in fetched.pages)
    logger = get_run_logger()
    logger.info(
        "batch parsed: %d pages fetched, %d articles parsed, %d rejected, %d failed, %d cut by the stop",
        len(raws),
        len(rows),
        len(rejects),
        sum(1 for _, r in fetched.pages if r.outcome not in NOT_FAILURES),
        len(stopped),
    )
    committing = time.perf_counter()
    loader.add(rows, rejects, states)
    logger.info("batch committed: %d articles in %.3f s", len(rows), time.perf_counter() - committing)
    return stopped


def page_document(job: Job, result: FetchResult) -> RawDocument | Reject:
    """The document of a fetched page; an attachment's is its sheets as a table page (or a Reject saying why not)."""
    if job.parent is None:
        return raw_document(result, job.source)
    try:
        return spreadsheet_document(result, parent=job.parent, source_name=job.source.name, region=job.source.region)
    except ParseError as exc:
        return Reject(exc.uri, exc.stage, exc.reason)


# Prefect's own limit on a run, behind `max_minutes` (which stops cleanly first): a run that still hangs
# past it is failed by Prefect, and what it had committed stays.
FLOW_TIMEOUT_SECONDS = 6 * 3600


@flow(name="fetch-articles", log_prints=True, timeout_seconds=FLOW_TIMEOUT_SECONDS)
def fetch_articles(
    sources_file: str | None = None,
    source_names: list[str] | None = None,
    db: str | None = None,
    max_pages: int | None = None,
    refetch: bool = False,
    batch_size: int = 250,
    workers: int | None = None,
    max_minutes: float | None = None,
    shard: int = 0,
    shards: int = 1,
) -> RunSummary:
    """Fetch new articles of the configured sources into the warehouse; returns the run summary.

    `max_minutes` ends the run cleanly: past it no page is requested, what was fetched is loaded and the
    rest is left to the next run. With `shards` > 1 only the sources of shard `shard` (a stable hash of
    their names): n runs, one per shard, fetch every source once, side by side, into one lake.
    """
    config = load_sources(sources_file or settings.DEFAULT_SOURCES)
    sources = in_shard(config.select(source_names), shard, shards, key=lambda s: s.name)
    summary = RunSummary("fetch-articles", str(flow_run.get_id() or f"local-{time.time_ns()}"), datetime.now())
    with open_run_warehouse(db) as warehouse:
        get_run_logger().info("fetching %d source(s) into %s", len(sources), warehouse.name)
        crawl_sources(
            sources,
            warehouse=warehouse,
            summary=summary,
            fetch_settings=config.fetch,
            max_pages=max_pages,
            refetch=refetch,
            batch_size=batch_size,
            workers=workers,
            max_minutes=max_minutes,
        )
        return finish_run(summary, warehouse)
