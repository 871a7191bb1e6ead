"""RSS and Atom feeds, sitemaps and sitemap indexes: recognized by their root element, not their type."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from datetime import date

import lxml.etree

from flows.sources.families.base import ListPage, ListRequest, xml_root
from flows.sources.web import Link, make_link, text_date

NAME = "feeds"
FEED_KINDS = frozenset({"rss", "atom", "sitemap", "sitemapindex"})


def recognizes(page: ListPage) -> bool:
    return page.kind in FEED_KINDS


def article_links(page: ListPage) -> list[Link]:
    return [link for link in entries(page) if not link.is_list]


def list_requests(page: ListPage) -> list[ListRequest]:
    """The sitemaps a sitemap index lists."""
    return [ListRequest.get(link.url, family=NAME) for link in entries(page) if link.is_list]


def entries(page: ListPage) -> list[Link]:
    return list(feed_links(page.content, page.url, page.kind))


def feed_links(content: bytes, base_url: str, kind: str) -> Iterator[Link]:
    """Item links of an RSS or Atom feed, or the locations of a sitemap (index)."""
    root = xml_root(content)
    if root is None:
        return
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = lxml.etree.QName(element).localname
        if kind == "rss" and tag == "item":
            href, when = _child_text(element, "link"), _child_text(element, "pubDate", "date")
        elif kind == "atom" and tag == "entry":
            href = next((a.get("href", "") for a in element if _local(a) == "link" and a.get("rel") != "self"), "")
            when = _child_text(element, "published", "updated")
        elif kind in ("sitemap", "sitemapindex") and tag in ("url", "sitemap"):
            href, when = _child_text(element, "loc"), _child_text(element, "lastmod")
        else:
            continue
        link = make_link(href, base_url, found_date=feed_date(when), is_list=tag == "sitemap")
        if link:
            yield link


def _local(element: lxml.etree._Element) -> str:
    return lxml.etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child_text(element: lxml.etree._Element, *names: str) -> str:
    for child in element:
        if _local(child) in names and child.text:
            return str(child.text).strip()
    return ""


def feed_date(text: str) -> date | None:
    """Date of an RSS pubDate (RFC 822), an Atom/sitemap timestamp (ISO 8601) or any written date."""
    if not text:
        return None
    try:
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return text_date(text)
