"""Plain list pages: <a> links whose URL has the shape of an article, and the pager's 下一页 link.

The fallback family: it recognizes every HTML page. Article URLs are told by the shapes government CMSs
and news sites give them (SITES.md §1), unless a source names its own `article_url_pattern`.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from flows.sources.families.base import ListPage, ListRequest
from flows.sources.web import Link

NAME = "links"

ARTICLE_URL_SHAPES = re.compile(
    r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html$"  # Hanweb/JCMS
    r"|/col/col\d+/art/\d{4}/art_\w+\.html$"  # Zhejiang JCMS
    r"|/t\d{8}_\d+\.s?html?$"  # TRS t-date
    r"|/c\d+/content\.html$"  # "ccontent" (www.mca.gov.cn, SASAC, audit office)
    r"|/content/(?:\d+/\d+/)?post_\d+\.html$"  # Guangdong gkmlpt: /content/post_N or /gkmlpt/content/4/4178/post_N
    r"|/\d{8}/[0-9a-f]{32}(?:/c)?\.html$"  # Shanghai, news.cn
    r"|/cols/\d{4}/\d{1,2}/\d{1,2}/[0-9a-f]{32}\.shtml$"  # Sichuan
    r"|/columns/[0-9a-f-]{32,36}/\d{6}/\d{2}/[0-9a-f-]{32,36}\.html$"  # Hebei
    r"|/(?:content|show)[-_]\d+\.s?html?$"  # small CMSs, china.com.cn, xinhuanet
    r"|/n1/\d{4}/\d{4}/c\d+-\d+\.html$",  # people.com.cn
    re.IGNORECASE,
)
NEXT_PAGE_TEXT = re.compile(r"^\s*(?:下一页|下页|后一页|next(?:\s*page)?|›|»|&gt;|>)\s*$", re.IGNORECASE)


def is_article_url(url: str) -> bool:
    """True when a URL has the shape of an article page of a known CMS or news site."""
    return bool(ARTICLE_URL_SHAPES.search(url.split("?", 1)[0]))


def recognizes(page: ListPage) -> bool:
    return page.is_html()


def article_links(page: ListPage) -> list[Link]:
    return [link for link in page.anchors if is_article_url(link.url)]


def list_requests(page: ListPage) -> list[ListRequest]:
    """The page the pager's 下一页 (next) link points to."""
    return next_page_requests(page)


def next_page_requests(page: ListPage) -> list[ListRequest]:
    """Pager links labelled 下一页 / next on an HTML list page (any family's static pager)."""
    if not page.is_html():
        return []
    found = []
    for anchor in page.root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if href and not href.startswith(("#", "javascript:")) and NEXT_PAGE_TEXT.match(anchor.text_content() or ""):
            found.append(ListRequest.get(urljoin(page.base_url, href).split("#", 1)[0]))
    return found
