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

# createPageHTML(N, current, "index", "html"); newer templates put the pager element's id first.
PAGER_CALL = re.compile(
    r"createPageHTML\(\s*(?:[\"'][\w-]*[\"']\s*,\s*)?(\w+)\s*,\s*(\w+)\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']"
)
# Most TRS templates pass variables: var countPage = 5; var currentPage = 0; createPageHTML(countPage, …).
ASSIGNMENT = r"\b{name}\s*=\s*[\"']?(\d+)"


def recognizes(page: ListPage) -> bool:
    return page.is_html() and page_count(page.text) is not None


def page_count(text: str) -> int | None:
    """N of the page's createPageHTML(N, …) call, a number or a variable assigned one; None without a pager."""
    for match in PAGER_CALL.finditer(text):
        count = match[1]
        if count.isdigit():
            return int(count)
        assigned = re.search(ASSIGNMENT.format(name=re.escape(count)), text)
        if assigned:
            return int(assigned[1])
    return None


def article_links(page: ListPage) -> list[Link]:
    return links.article_links(page)


def list_requests(page: ListPage) -> list[ListRequest]:
    """Every page of the script pager (stem_1.ext … stem_{N-1}.ext), then a 下一页 link if there is one."""
    count, match = page_count(page.text), PAGER_CALL.search(page.text)
    if count is None or match is None:
        return []
    pages, stem, ext = min(count, MAX_PAGER_PAGES), match[3], match[4]
    found = [ListRequest.get(urljoin(page.base_url, f"{stem}_{n}.{ext}"), family=NAME) for n in range(1, pages)]
    return found + links.next_page_requests(page)
