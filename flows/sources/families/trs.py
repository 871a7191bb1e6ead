"""TRS WCM list pages: plain article links, and a pager written by a script call.

`createPageHTML(N, current, "index", "html")` draws the pager in JavaScript, so the pages are not links:
they are index.html, index_1.html … index_{N-1}.html beside the list page (SITES.md §1).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from flows.sources.families import links
from flows.sources.families.base import MAX_PAGER_PAGES, ListPage, ListRequest
from flows.sources.web import Link

NAME = "trs"

PAGER_CALL = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']")


def recognizes(page: ListPage) -> bool:
    return page.is_html() and PAGER_CALL.search(page.text) is not None


def article_links(page: ListPage) -> list[Link]:
    return links.article_links(page)


def list_requests(page: ListPage) -> list[ListRequest]:
    """Every page of the script pager (stem_1.ext … stem_{N-1}.ext), then a 下一页 link if there is one."""
    match = PAGER_CALL.search(page.text)
    if not match:
        return []
    pages, stem, ext = min(int(match[1]), MAX_PAGER_PAGES), match[3], match[4]
    found = [ListRequest.get(urljoin(page.base_url, f"{stem}_{n}.{ext}"), family=NAME) for n in range(1, pages)]
    return found + links.next_page_requests(page)
