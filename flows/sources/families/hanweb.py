"""Hanweb/JCMS columns (`/col/col<id>/index.html`): a datastore of first records, then dataproxy.jsp POSTs.

A column page carries its first records as CDATA `<li>` items in `<script type="text/xml"><datastore>`;
the jpage script asks `/module/web/jpage/dataproxy.jsp?startrecord=S&endrecord=E&perpage=P` by POST with
the column's `columnid`, `unitid`, `webid` … for the next records, and gets the same XML back
(china-governance crawlers/jpaas.py, jiangsu.py). A column with neither the jpage script nor a dataproxy link
in its datastore's <nextgroup> has no further records to ask for.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl, urljoin, urlsplit

from flows.sources.families.base import MAX_PAGER_PAGES, ListPage, ListRequest, fragment_links
from flows.sources.web import Link

NAME = "hanweb"

DATASTORE = re.compile(r"<datastore\b", re.IGNORECASE)
RECORD = re.compile(r"<record\b[^>]*>(.*?)</record>", re.IGNORECASE | re.DOTALL)
CDATA = re.compile(r"^\s*<!\[CDATA\[(.*?)\]\]>\s*$", re.DOTALL)
# The jpage pager script: without it the column has no further pages to ask for.
JPAGE_SCRIPT = re.compile(r"\.jpage\s*\(|jpage\.js|proxyUrl|totalRecord", re.IGNORECASE)
PROXY_URL = re.compile(r"""proxyUrl\s*:\s*['"]([^'"]+)['"]""")
DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
FORM_FIELDS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname", "permissiontype")
FORM_FIELD = re.compile(
    r"""['"]?\b(""" + "|".join(FORM_FIELDS) + r""")['"]?\s*[:=]\s*['"]?([^'",&}\s<>]*)""", re.IGNORECASE
)
NEXTGROUP_HREF = re.compile(r"<nextgroup>.*?href\s*=\s*['\"]([^'\"]+)['\"]", re.IGNORECASE | re.DOTALL)
DATASTORE_HOLDER = re.compile(
    r"""id\s*=\s*['"](\d+)['"][^>]*>\s*<script\s+type\s*=\s*['"]text/xml['"]""", re.IGNORECASE
)
PER_PAGE = re.compile(r"""perPage\s*[:=]\s*['"]?(\d+)""", re.IGNORECASE)
GROUP_SIZE = re.compile(r"""groupSize\s*[:=]\s*['"]?(\d+)""", re.IGNORECASE)
TOTAL = re.compile(r"""totalRecord\s*[:=]\s*['"]?(\d+)|<totalrecord>\s*(\d+)\s*</totalrecord>""", re.IGNORECASE)
DEFAULT_PER_PAGE, DEFAULT_GROUP = 15, 3  # jpage's defaults: 15 records a page, 3 pages a request


def recognizes(page: ListPage) -> bool:
    return page.is_html() and DATASTORE.search(page.text) is not None


def records(page: ListPage) -> list[str]:
    """The HTML of each <record> (CDATA unwrapped), of a column page or a dataproxy answer."""
    found = []
    for match in RECORD.finditer(page.text):
        inner = match[1]
        cdata = CDATA.match(inner)
        # Some answers escape the record's HTML instead of wrapping it in CDATA.
        found.append(cdata[1] if cdata else unescape(inner) if "&lt;" in inner else inner)
    return found


def article_links(page: ListPage) -> list[Link]:
    return [link for record in records(page) for link in fragment_links(record, page.base_url)]


def list_requests(page: ListPage) -> list[ListRequest]:
    """The next dataproxy.jsp window after the records this page holds (nothing once the column is exhausted)."""
    if page.request.form is not None:
        return _after_answer(page)
    nextgroup = NEXTGROUP_HREF.search(page.text)
    if not JPAGE_SCRIPT.search(page.text) and not (nextgroup and "dataproxy" in nextgroup[1]):
        return []
    form = column_form(page.text)
    if "columnid" not in form:
        return []
    per_page = _int(PER_PAGE, page.text) or DEFAULT_PER_PAGE
    window = per_page * (_int(GROUP_SIZE, page.text) or DEFAULT_GROUP)
    total = _int(TOTAL, page.text)
    start = len(records(page)) + 1
    if total is not None and start > total:
        return []
    proxy = urljoin(page.base_url, (PROXY_URL.search(page.text) or [None, DEFAULT_PROXY])[1])
    return [_window(proxy, form, start, window, per_page, total)]


def column_form(text: str) -> dict[str, str]:
    """The form fields jpage posts for this column: from its script, overridden by the nextgroup link."""
    form = {name.lower(): value for name, value in FORM_FIELD.findall(text) if value}
    form = {_field(name): value for name, value in form.items()}
    if "unitid" not in form:  # the element holding the datastore is named after the unit
        holder = DATASTORE_HOLDER.search(text)
        if holder:
            form["unitid"] = holder[1]
    nextgroup = NEXTGROUP_HREF.search(text)
    if nextgroup:
        for name, value in parse_qsl(urlsplit(nextgroup[1].replace("&amp;", "&")).query):
            if name.lower() in {f.lower() for f in FORM_FIELDS} and value:
                form[_field(name)] = value
    return form


def _after_answer(page: ListPage) -> list[ListRequest]:
    query = dict(parse_qsl(urlsplit(page.request.url).query))
    try:
        start, end, per_page = int(query["startrecord"]), int(query["endrecord"]), int(query["perpage"])
    except (KeyError, ValueError):
        return []
    window = end - start + 1
    total = _int(TOTAL, page.text)
    if len(records(page)) < window or (total is not None and end >= total) or end >= window * MAX_PAGER_PAGES:
        return []
    proxy = page.request.url.split("?", 1)[0]
    return [_window(proxy, dict(page.request.form or ()), end + 1, window, per_page, total)]


def _window(proxy: str, form: dict[str, str], start: int, window: int, per_page: int, total: int | None) -> ListRequest:
    end = start + window - 1 if total is None else min(start + window - 1, total)
    return ListRequest.post(f"{proxy}?startrecord={start}&endrecord={end}&perpage={per_page}", form, family=NAME)


def _field(name: str) -> str:
    return next((f for f in FORM_FIELDS if f.lower() == name.lower()), name)


def _int(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    if not match:
        return None
    value = int(next(g for g in match.groups() if g is not None))
    return value if value > 0 else None
