"""Guangdong's gkmlpt (政府信息公开目录平台): every Guangdong government site, 广东省民政厅 and 深圳市民政局 too.

The list page `/gkmlpt/index` has no article links: an inline `_CONFIG` names the site (`SID`) and its
category tree (`TREE`); the browser reads `/gkmlpt/api/all/<catId>?page=N&sid=<SID>`, JSON with the
articles of one page and the total (china-governance crawlers/gkmlpt.py). Articles are `…/content/post_<id>.html`.
The category comes from the start URL (`/gkmlpt/index#2745`, or `?catId=2745`), else every top category.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from flows.sources.families.base import MAX_PAGER_PAGES, ListPage, ListRequest
from flows.sources.web import Link, make_link, text_date

NAME = "gkmlpt"

CONFIG = re.compile(r"_CONFIG\s*=\s*\{", re.IGNORECASE)
SID = re.compile(r"""['"]?\bSID['"]?\s*:\s*['"]?([\w-]+)""")
TREE = re.compile(r"""['"]?\bTREE['"]?\s*:\s*\[""")
CATEGORY = re.compile(r"^(\d+)$")
API_PATH = "/gkmlpt/api/all/{cat}?page={page}&sid={sid}"
ARTICLE_LISTS = ("articles", "data", "list", "items", "records")
TOTALS = ("total", "count", "total_count", "totalCount")
DATE_KEYS = ("first_publish_time", "publish_time", "publishTime", "date", "created_at")
CHINA = timezone(timedelta(hours=8))


def recognizes(page: ListPage) -> bool:
    return page.is_html() and "gkmlpt" in page.text and CONFIG.search(page.text) is not None


def article_links(page: ListPage) -> list[Link]:
    if page.request.family != NAME or page.request.form is not None:
        return []  # the index page itself lists nothing
    found = []
    for item in _articles(_answer(page)):
        link = make_link(str(item.get("url") or item.get("link") or ""), page.url, found_date=_date(item))
        if link:
            found.append(link)
    return found


def list_requests(page: ListPage) -> list[ListRequest]:
    """From the index page: page 1 of each category; from page 1 of the API: pages 2 … last."""
    if page.request.family == NAME and "/gkmlpt/api/" in page.request.url:
        return _later_pages(page)
    match = SID.search(page.text)
    if not match:
        return []
    sid = match[1]
    return [
        ListRequest.get(urljoin(page.url, API_PATH.format(cat=cat, page=1, sid=sid)), family=NAME)
        for cat in categories(page)
    ]


def categories(page: ListPage) -> list[str]:
    """The category of the start URL's fragment or catId parameter, else the top categories of TREE."""
    parts = urlsplit(page.request.url)
    query = {k.lower(): v for k, v in parse_qsl(parts.query)}
    named = CATEGORY.match(parts.fragment.strip("/")) or CATEGORY.match(query.get("catid", ""))
    if named:
        return [named[1]]
    tree = TREE.search(page.text)
    if not tree:
        return []
    try:
        nodes, _ = json.JSONDecoder().raw_decode(page.text, tree.end() - 1)
    except ValueError:
        return []
    if not isinstance(nodes, list):
        return []
    return [str(node["id"]) for node in nodes if isinstance(node, dict) and str(node.get("id", "")).isdigit()]


def _later_pages(page: ListPage) -> list[ListRequest]:
    query = dict(parse_qsl(urlsplit(page.request.url).query))
    if query.get("page") != "1":
        return []
    answer = _answer(page)
    size = len(_articles(answer))
    total = next((answer[k] for k in TOTALS if isinstance(answer.get(k), int)), None)
    if not size or not total:
        return []
    pages = min(math.ceil(total / size), MAX_PAGER_PAGES)
    base = page.request.url.replace("page=1", "page={n}", 1)
    return [ListRequest.get(base.format(n=n), family=NAME) for n in range(2, pages + 1)]


def _answer(page: ListPage) -> dict[str, Any]:
    try:
        data = json.loads(page.content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {"articles": data} if isinstance(data, list) else {}


def _articles(answer: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ARTICLE_LISTS:
        items = answer.get(key)
        if isinstance(items, list):
            return [item for item in items if isinstance(item, dict)]
    return []


def _date(item: dict[str, Any]) -> date | None:
    for key in DATE_KEYS:
        value = item.get(key)
        if isinstance(value, int | float) and value > 0:
            seconds = value / 1000 if value > 10**11 else value  # milliseconds or seconds
            return datetime.fromtimestamp(seconds, CHINA).date()
        if isinstance(value, str) and value:
            return text_date(value)
    return None
