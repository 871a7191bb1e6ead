"""`civic-ingest sources check`: probe each configured source and say what works and what to fix.

Per source, in order: robots.txt, the first list page, the CMS family recognized, its article links, one
article parsed, a statistics table (a <table> headed 指标/单位 or an .xls/.xlsx link). Every request is
bounded (short timeout, no retries) and sources are probed in parallel, so an operator on a host that can
reach the sites verifies a whole sources file in minutes, and a host that cannot gets "unreachable" fast.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import lxml.etree
import lxml.html

from flows.sources.attachments import spreadsheet_links
from flows.sources.config import FetchSettings, Source
from flows.sources.discovery import article_links
from flows.sources.families import UnknownPage, family_of
from flows.sources.families.base import ListPage, ListRequest
from flows.sources.web import FetchResult, Link, WebClient, raw_document
from parsers.records import ParseError

PROBE_TIMEOUT = 8.0  # seconds per connect or read: a reachable government site answers well within this
HEADER_CELL = re.compile(r"^\s*(?:指标(?:名称)?|项目|统计指标)\s*$")
UNIT_CELL = re.compile(r"^\s*(?:计量)?单位\s*$")
UNREACHABLE = ("network_error",)


@dataclass(slots=True)
class SourceCheck:
    """What probing one source found, and the verdict."""

    name: str
    verdict: str = "ok"  # ok | fix | unreachable | blocked
    found: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    family: str | None = None
    articles: int = 0

    def fail(self, verdict: str, fix: str) -> SourceCheck:
        self.verdict = verdict
        self.fixes.append(fix)
        return self

    def to_text(self) -> str:
        head = f"{self.verdict.upper():<11} {self.name}"
        lines = [head] + [f"    {line}" for line in self.found] + [f"    fix: {fix}" for fix in self.fixes]
        return "\n".join(lines)


def probe_settings(settings: FetchSettings, timeout: float = PROBE_TIMEOUT) -> FetchSettings:
    """The run's settings with a short timeout and no retries: a probe reports, it does not insist."""
    return replace(settings, timeout=min(settings.timeout, timeout), max_retries=0, max_retry_after=0.0)


def check_sources(
    sources: Sequence[Source], settings: FetchSettings, *, timeout: float = PROBE_TIMEOUT, workers: int = 8
) -> list[SourceCheck]:
    """Every source probed (in parallel, one thread per source up to `workers`), in the order given."""
    # One client for all: sources on one host (the Ministry's three) share its pace and its robots.txt.
    client = WebClient.for_sources(probe_settings(settings, timeout), sources)
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(sources)))) as pool:
            return list(pool.map(lambda s: check_source(s, client), sources))
    finally:
        client.close()


def check_source(source: Source, client: WebClient) -> SourceCheck:
    """Probe one source: robots, first list page, family, article links, one article, a statistics table."""
    return _probe(SourceCheck(source.name), client, source)


def _probe(check: SourceCheck, client: WebClient, source: Source) -> SourceCheck:
    start = source.start_urls[0]
    rules = client.robots(start)
    if rules.unreachable is not None:
        return _request_failed(check, "robots.txt", rules.unreachable)
    if not rules.allows(start, client.settings.user_agent):
        return check.fail("fix", f"robots.txt disallows the start page {start}: choose another list page")
    check.found.append(
        "robots.txt: start page allowed" + (f", Crawl-delay {rules.crawl_delay:g}s" if rules.crawl_delay else "")
    )

    result = client.fetch(start.split("#", 1)[0], allowed=source.allows, accept_feeds=True)
    if not result.is_ok:
        return _request_failed(check, "list page", result)
    page = ListPage(ListRequest.get(start), result.content, final_url=result.final_url, charset=result.charset)
    try:
        family = family_of(page)
        links = article_links(page, family.article_links(page), source)
        more = family.list_requests(page)
    except (UnknownPage, ParseError, ValueError, lxml.etree.LxmlError) as exc:
        return check.fail("fix", f"the start page cannot be read as a list ({exc}): point start_urls at a column page")
    check.family, check.articles = family.NAME, len(links)
    check.found.append(
        f"list page: {len(result.content):,} bytes, family {family.NAME}, {len(more)} further list page(s)"
    )
    if family.NAME == "gkmlpt" and not links:
        links = _first_api_page(client, source, more)
        check.articles = len(links)
    if not links:
        sample = ", ".join(link.url for link in page.anchors[:3]) if page.is_html() else "(none)"
        return check.fail(
            "fix",
            "no article links recognized: set article_url_pattern to match this column's articles (links seen: "
            f"{sample})",
        )
    check.found.append(f"article links: {len(links)} on the first page, e.g. {links[0].url}")

    article = client.fetch(links[0].url, allowed=source.allows)
    if not article.is_ok:
        _request_failed(check, "first article", article)
        return check
    tables = _statistics_tables(result) + _statistics_tables(article)
    try:
        from flows.vocabulary import metric_rules
        from parsers.article import parse_document

        parsed = parse_document(raw_document(article, source), selector=source.content_selector, rules=metric_rules())
        check.found.append(
            f"article parsed: {parsed.title[:40] or '(no title)'} | {parsed.published_date or 'no date'} | "
            f"{len(parsed.paragraphs)} paragraphs, {len(parsed.indicators)} figures"
        )
        if not parsed.published_date:
            check.fixes.append("no publication date found on the article: check its PubDate meta or date line")
    except ParseError as exc:
        check.fail("fix", f"the first article did not parse ({exc.reason}): set content_selector to its body")
    check.found.append("statistics table: " + ("; ".join(tables) if tables else "none on the list page or article"))
    if check.fixes and check.verdict == "ok":
        check.verdict = "fix"
    return check


def _first_api_page(client: WebClient, source: Source, requests: Sequence[ListRequest]) -> list[Link]:
    """gkmlpt lists nothing on its index: the article links of its first API page."""
    for request in requests[:1]:
        answer = client.fetch(request.url, allowed=source.allows, accept_feeds=True)
        if answer.is_ok:
            page = ListPage(request, answer.content, final_url=answer.final_url, charset=answer.charset)
            return article_links(page, family_of(page).article_links(page), source)
    return []


def _request_failed(check: SourceCheck, what: str, result: FetchResult) -> SourceCheck:
    error = result.error or result.outcome
    if result.outcome == "blocked":
        return check.fail(
            "blocked", f"{what}: {error}; fetch from a host in China or ask the site to allow the crawler"
        )
    if result.outcome in UNREACHABLE or (result.outcome == "5xx" and what == "robots.txt"):
        return check.fail(
            "unreachable", f"{what}: {error}; run the check from a host that can reach Chinese government sites"
        )
    if result.outcome == "robots_blocked":
        return check.fail("fix", f"{what}: {error}")
    return check.fail("fix", f"{what}: {error}; correct the URL in start_urls (the column may have moved)")


def _statistics_tables(result: FetchResult) -> list[str]:
    """Statistics tables on a page: a <table> with an 指标/项目 and a 单位 header cell, and .xls/.xlsx links."""
    found = [f"spreadsheet {link.url}" for link, _ in spreadsheet_links(result.content, result.final_url or result.url)]
    if b"<table" not in result.content and b"<TABLE" not in result.content:
        return found
    try:
        root = lxml.html.document_fromstring(result.content)
    except (lxml.etree.LxmlError, ValueError):
        return found
    for table in root.iter("table"):
        cells = [
            " ".join(c.text_content().split()) for c in table.xpath(".//tr[position() <= 3]/*[self::th or self::td]")
        ]
        if any(HEADER_CELL.match(c) for c in cells) and any(UNIT_CELL.match(c) for c in cells):
            found.append(f"table headed {' | '.join(cells[:4])}")
    return found
