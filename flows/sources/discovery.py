"""Discovery: a source's start URLs -> list pages (paged the way their CMS family pages) -> article links.

The family of each page is recognized from the page itself (flows/sources/families/); this loop never
branches on it. Bounded by `max_list_pages` per start URL (a POST to a list API counts as a page).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

import lxml.etree

from flows.sources.attachments import spreadsheet_links
from flows.sources.config import Source
from flows.sources.families import UnknownPage, family_of, links
from flows.sources.families.base import ListPage, ListRequest
from flows.sources.web import FetchResult, Link, WebClient
from parsers.records import ParseError


@dataclass(slots=True)
class Discovery:
    """What a source's list pages gave: article links to fetch, every list request made, and their families."""

    source: str
    articles: list[Link] = field(default_factory=list)
    lists: list[FetchResult] = field(default_factory=list)
    families: dict[str, str] = field(default_factory=dict)  # list page canonical URL -> family name
    # Pages that list nothing themselves but lead to the lists (gkmlpt's index, a JavaScript shell that does not
    # change when articles are published): they are always read in full, never answered with a 304.
    shells: set[str] = field(default_factory=set)
    # Spreadsheets a list page links directly (a statistics column of .xls files), with that list page.
    attachments: list[tuple[Link, FetchResult]] = field(default_factory=list)


def discover_articles(
    client: WebClient,
    source: Source,
    *,
    validators: Mapping[str, tuple[str | None, str | None]] | None = None,
    max_pages: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Discovery:
    """Article links of a source from its start URLs and up to `max_pages` list pages from each.

    Lists seen before are asked for with their validators (a 304 yields no links: nothing changed). With
    `since`, pagination stops at a list page whose dated entries are all older; links dated outside
    `since`..`until` are left out.
    """
    validators = validators or {}
    found = Discovery(source.name)
    seen_articles: set[str] = set()
    seen_lists: set[str] = set()
    for start in source.start_urls:
        queue = deque([ListRequest.get(start)])
        pages = 0
        while queue and pages < (max_pages or source.max_list_pages):
            request = queue.popleft()
            if request.canonical in seen_lists:
                continue
            seen_lists.add(request.canonical)
            pages += 1
            result = fetch_list(client, request, source, validators)
            found.lists.append(result)
            if not result.requested:
                pages -= 1  # disallowed by robots.txt: no request made, the page budget is not spent
            if not result.is_ok:
                continue
            page = ListPage(request, result.content, final_url=result.final_url, charset=result.charset)
            try:
                family = family_of(page)
                articles = article_links(page, family.article_links(page), source)
                following = [*family.list_requests(page), *pattern_requests(page, source)]
            except (UnknownPage, ParseError, ValueError, lxml.etree.LxmlError) as exc:
                found.lists[-1] = _failed(result, f"unreadable list page: {exc}")
                continue
            found.families[request.canonical] = family.NAME
            if not articles and following and request.form is None:
                found.shells.add(request.canonical)
            for link in articles:
                if link.canonical not in seen_articles and _in_range(link.date, since, until):
                    seen_articles.add(link.canonical)
                    found.articles.append(link)
            for link, _ in spreadsheet_links(result.content, page.base_url) if page.is_html() else []:
                if source.allows(link.url) and link.canonical not in seen_articles:
                    seen_articles.add(link.canonical)
                    found.attachments.append((link, result))
            dated = [link.date for link in articles if link.date]
            if since and dated and max(dated) < since:
                continue  # this page is older than the range: the pages after it are older still
            queue += [r for r in following if source.allows(r.url) and r.canonical not in seen_lists]
    return found


def fetch_list(
    client: WebClient, request: ListRequest, source: Source, validators: Mapping[str, tuple[str | None, str | None]]
) -> FetchResult:
    """One list request: a conditional GET, or the family's form POST."""
    if request.form is not None:
        result = client.post(request.url, dict(request.form), allowed=source.allows)
    else:
        etag, modified = validators.get(request.canonical, (None, None))
        url = request.url.split("#", 1)[0]
        result = client.fetch(url, allowed=source.allows, etag=etag, last_modified=modified, accept_feeds=True)
    if result.canonical != request.canonical:  # a POST is known by its form too
        result = _renamed(result, request.canonical)
    return result


def article_links(page: ListPage, family_links: Iterable[Link], source: Source) -> list[Link]:
    """The page's article links inside the source's domains, one per canonical URL, in document order.

    Without an `article_url_pattern` these are the family's own; with one, every link of the page that
    matches it (the operator knows best), the family's first.
    """
    candidates = list(family_links)
    if source.article_url_pattern is not None:
        pattern = source.article_url_pattern
        everything = candidates + (page.anchors if page.is_html() else [])
        candidates = [link for link in everything if pattern.search(link.url)]
    unique: dict[str, Link] = {}
    for link in candidates:
        if not source.allows(link.url):
            continue
        first = unique.setdefault(link.canonical, link)
        if len(link.url) < len(first.url):  # request the plain spelling, not the one with tracking parameters
            unique[link.canonical] = Link(link.url, link.canonical, first.date or link.date, first.is_list)
    return list(unique.values())


def pattern_requests(page: ListPage, source: Source) -> list[ListRequest]:
    """Further list pages every family shares: the 下一页 link and links matching `list_url_pattern`."""
    if not page.is_html():
        return []
    found = links.next_page_requests(page)
    if source.list_url_pattern is not None:
        found += [ListRequest.get(link.url) for link in page.anchors if source.list_url_pattern.search(link.url)]
    return found


def _in_range(day: date | None, since: date | None, until: date | None) -> bool:
    if day is None:
        return True
    return not ((since and day < since) or (until and day > until))


def _failed(result: FetchResult, error: str) -> FetchResult:
    return FetchResult(
        result.url, result.canonical, "unreadable", result.status, result.final_url, error=error, retries=result.retries
    )


def _renamed(result: FetchResult, canonical: str) -> FetchResult:
    return replace(result, canonical=canonical)
