"""Flow `backfill`: a source's articles of a date range (and the pages of a URL file) -> the warehouse.

The daily fetch's own path (`crawl_sources`), with list pages read in full (no conditional GET) and walked
back until their entries are older than the range, at most `max_pages` per start URL. Pages already in the
warehouse are not fetched again, so re-running a backfill costs its list pages and changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows import settings
from flows.fetch_articles import crawl_sources
from flows.pipeline import finish_run, open_run_warehouse
from flows.shards import in_shard
from flows.sources.config import FetchSettings, Source, SourceConfigError, load_sources
from flows.summary import RunSummary

ALL_SOURCES = "all"


class BackfillError(ValueError):
    """Backfill parameters that cannot be used; the message names the parameter and the problem."""


@dataclass(frozen=True, slots=True)
class BackfillPlan:
    """Validated backfill parameters: what to crawl, the date range, the given URLs."""

    sources: tuple[Source, ...]
    fetch: FetchSettings
    since: date | None
    until: date | None
    urls: tuple[str, ...]
    max_pages: int


def parse_day(text: str | None, what: str) -> date | None:
    """A date given as YYYY-MM-DD (None stays None); raises BackfillError naming the parameter."""
    if text is None or not str(text).strip():
        return None
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise BackfillError(f"{what} must be a date like 2024-03-05, got {text!r}") from None


def read_url_file(path: str) -> tuple[str, ...]:
    """The http(s) URLs of a file, one a line ('#' comments and blank lines skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise BackfillError(f"cannot read URL file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BackfillError(f"URL file {path} is not UTF-8 text: {exc.reason}") from exc
    urls = []
    for number, line in enumerate(text.splitlines(), start=1):
        url = line.strip()
        if not url or url.startswith("#"):
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackfillError(f"{path}:{number}: not an http(s) URL: {url!r}")
        urls.append(url)
    if not urls:
        raise BackfillError(f"URL file {path} lists no URLs")
    return tuple(dict.fromkeys(urls))


def plan_backfill(
    source: str = ALL_SOURCES,
    date_from: str | None = None,
    date_to: str | None = None,
    url_file: str | None = None,
    *,
    max_pages: int = 50,
    sources_file: str | None = None,
) -> BackfillPlan:
    """The validated plan of a backfill; raises BackfillError before anything is fetched or written."""
    since, until = parse_day(date_from, "date_from"), parse_day(date_to, "date_to")
    if since and until and since > until:
        raise BackfillError(f"date_from {since} is after date_to {until}")
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
        raise BackfillError(f"max_pages must be 1 or more, got {max_pages!r}")
    name = (source or ALL_SOURCES).strip()
    try:
        config = load_sources(sources_file or settings.DEFAULT_SOURCES)
        sources = config.select(None if name == ALL_SOURCES else [name])
    except SourceConfigError as exc:
        raise BackfillError(str(exc)) from exc
    urls = read_url_file(url_file) if url_file else ()
    return BackfillPlan(sources, config.fetch, since, until, urls, max_pages)


# Prefect's own limit on a backfill run, behind `max_minutes` (a clean stop): what was committed stays.
FLOW_TIMEOUT_SECONDS = 24 * 3600


@flow(name="backfill", log_prints=True, timeout_seconds=FLOW_TIMEOUT_SECONDS)
def backfill(
    source: str = ALL_SOURCES,
    date_from: str | None = None,
    date_to: str | None = None,
    url_file: str | None = None,
    db: str | None = None,
    max_pages: int = 50,
    sources_file: str | None = None,
    shard: int = 0,
    shards: int = 1,
    max_minutes: float | None = None,
) -> RunSummary:
    """Fetch and load the articles of a source (or all) in a date range, plus a file's URLs; returns the summary.

    `max_minutes` ends the run cleanly (what was fetched is loaded; a re-run goes on from there).

    Dates are inclusive (YYYY-MM-DD); either may be left open. `max_pages` bounds the list pages read per
    start URL. Invalid parameters fail the run at once with BackfillError. On a lake, several backfills may
    run at once: one per date window (`backfill-windows`), or one per shard of the sources (`shard`/`shards`).
    """
    plan = plan_backfill(source, date_from, date_to, url_file, max_pages=max_pages, sources_file=sources_file)
    plan = replace(plan, sources=tuple(in_shard(plan.sources, shard, shards, key=lambda s: s.name)))
    summary = RunSummary("backfill", str(flow_run.get_id() or f"local-{time.time_ns()}"), datetime.now())
    with open_run_warehouse(db) as warehouse:
        get_run_logger().info(
            "backfill of %s from %s to %s (%d list pages per start URL, %d given URLs) into %s",
            ", ".join(s.name for s in plan.sources),
            plan.since or "the oldest page reached",
            plan.until or "today",
            plan.max_pages,
            len(plan.urls),
            warehouse.name,
        )
        crawl_sources(
            plan.sources,
            warehouse=warehouse,
            summary=summary,
            fetch_settings=plan.fetch,
            max_pages=plan.max_pages,
            since=plan.since,
            until=plan.until,
            urls=plan.urls,
            conditional=False,
            max_minutes=max_minutes,
        )
        return finish_run(summary, warehouse)
