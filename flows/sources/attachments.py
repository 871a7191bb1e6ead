"""Spreadsheets linked from fetched pages: found in the page's bytes, fetched size-capped, made documents.

Statistics pages link their tables as `.xls`/`.xlsx` files. Each one is fetched once, read into rows and
stored as its own document (uri = the attachment's URL; fetch_log.parent_url = the page that links it).
PDFs and other files are still left alone (logged as skipped when an article link leads to one).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from urllib.parse import urljoin

from flows.sources.web import FetchResult, Link, WebClient, make_link, url_date
from parsers.attachments import attachment_document
from parsers.records import RawDocument

# <a href="….xls(x)">text</a>, found with one regex over the bytes: no second HTML parse of every page.
SPREADSHEET_ANCHOR = re.compile(
    rb"""<a\b[^>]*?\bhref\s*=\s*["']?([^"'\s>]+?\.xlsx?)(?:[?#][^"'\s>]*)?["']?[^>]*>(.*?)</a\s*>""",
    re.IGNORECASE | re.DOTALL,
)
SPREADSHEET_HINT = re.compile(rb"\.[xX][lL][sS]")
PUB_DATE = re.compile(rb"""<meta\s+name=["']?PubDate["']?\s+content=["']?\s*(\d{4}-\d{1,2}-\d{1,2})""", re.IGNORECASE)
TAG = re.compile(r"<[^>]+>")
MAX_ATTACHMENTS_PER_PAGE = 10


def spreadsheet_links(content: bytes, base_url: str) -> list[tuple[Link, str]]:
    """(link, link text) of the .xls/.xlsx anchors of an HTML page, one per canonical URL, in page order."""
    if not SPREADSHEET_HINT.search(content):  # one pass over the page; most pages stop here
        return []
    found: dict[str, tuple[Link, str]] = {}
    for match in SPREADSHEET_ANCHOR.finditer(content):
        href = unescape(match[1].decode("utf-8", "replace"))
        link = make_link(urljoin(base_url, href), base_url)
        if link is None or link.canonical in found:
            continue
        text = " ".join(TAG.sub(" ", unescape(match[2].decode("utf-8", "replace"))).split())
        found[link.canonical] = (link, text)
        if len(found) >= MAX_ATTACHMENTS_PER_PAGE:
            break
    return list(found.values())


def fetch_spreadsheets(
    client: WebClient, page: FetchResult, *, allowed: Callable[[str], bool], seen: set[str]
) -> list[tuple[Link, FetchResult]]:
    """The spreadsheets a fetched HTML page links to inside the source's domains, except those in `seen`
    (which grows: a workbook linked from several pages is fetched once)."""
    if not page.is_ok:
        return []
    wanted = []
    for link, _ in spreadsheet_links(page.content, page.final_url or page.url):
        if allowed(link.url) and link.canonical not in seen:
            seen.add(link.canonical)
            wanted.append(link)
    return [(link, client.fetch_attachment(link.url, allowed=allowed)) for link in wanted]


def spreadsheet_document(
    result: FetchResult, *, parent: FetchResult, source_name: str, region: str | None
) -> RawDocument:
    """The document of a fetched spreadsheet (raises ParseError when it cannot be read as one)."""
    base = parent.final_url or parent.url
    titles = {link.canonical: text for link, text in spreadsheet_links(parent.content, base)}
    name = result.canonical.rsplit("/", 1)[-1]
    title = titles.get(result.canonical) or name
    published = PUB_DATE.search(parent.content)
    day = published[1].decode() if published else None
    if day is None and (found := url_date(base)):
        day = found.isoformat()
    return attachment_document(
        result.content,
        uri=result.canonical,
        title=title,
        source_name=source_name,
        published=day,
        page_url=parent.canonical,
        default_region=region,
    )
