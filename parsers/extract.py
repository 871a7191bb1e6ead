"""HTML -> body text lines + page metadata (trafilatura, helped by government CMS containers)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import lxml.html
import trafilatura
from htmldate import find_date
from lxml.etree import ParserError

from parsers.metadata import parse_date, parse_outlet
from parsers.records import PageMetadata, ParseError

# Body containers of the CMSs Chinese government sites run on (TRS, Hanweb, UCAP, mca.gov.cn …).
# A page that has one holds the article there and nothing else; trafilatura is the fallback.
KNOWN_BODY_SELECTORS = (
    "#zoom",
    ".TRS_Editor",
    "#UCAP-CONTENT",
    ".TRS_UEDITOR",
    "#con_con",
    ".pages_content",
    "#js_content",
    ".article-content",
    ".content-text",
    "#ArticleContent",
    ".Custom_UnionStyle",
)
BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "section",
        "article",
        "blockquote",
        "ul",
        "ol",
        "center",
    ]
)
DROP_TAGS = ("script", "style", "noscript", "iframe", "form", "button", "select", "nav", "footer")
MIN_BODY_CHARS = 80  # a container with less text than this is an empty template slot
META_TITLE = ("ArticleTitle", "og:title", "title")
META_DATE = ("PubDate", "pubdate", "publishdate", "article:published_time", "firstpublishedtime", "Maketime")
META_SOURCE = ("ContentSource", "source", "og:site_name", "SiteName")
META_AUTHOR = ("Author", "author", "article:author")
TITLE_SEPARATOR = re.compile(r"\s*(?:[_|｜]|--|—{1,2}|-\s)\s*")


def parse_html(html: str, *, uri: str) -> lxml.html.HtmlElement:
    try:
        root = lxml.html.document_fromstring(html)
    except (ParserError, ValueError) as exc:
        raise ParseError(uri, "extract", f"unparseable HTML: {exc}") from exc
    return root


def _meta(root: lxml.html.HtmlElement, names: Sequence[str]) -> str | None:
    for name in names:
        for attr in ("name", "property", "itemprop"):
            values = root.xpath(
                f"//meta[translate(@{attr},'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz')"
                f"='{name.lower()}']/@content"
            )
            for value in values:
                if value and value.strip():
                    return str(value).strip()
    return None


def page_metadata(root: lxml.html.HtmlElement, html: str) -> PageMetadata:
    """Title, date, outlet and author from the CMS <meta> block, with htmldate for the date."""
    title = _meta(root, META_TITLE)
    if not title:
        heading = root.xpath("string(//h1)").strip()
        page_title = root.xpath("string(//title)").strip()
        title = heading or (TITLE_SEPARATOR.split(page_title)[0] if page_title else None)
    raw_date = _meta(root, META_DATE)
    published = parse_date(raw_date) if raw_date else None
    if published is None:
        found = find_date(html, extensive_search=True, original_date=True, outputformat="%Y-%m-%d")
        published = parse_date(found) if found else None
    source = _meta(root, META_SOURCE)
    if source:
        source = parse_outlet(f"来源:{source}") or source
    return PageMetadata(title=title or None, published_date=published, source=source, author=_meta(root, META_AUTHOR))


def element_lines(element: lxml.html.HtmlElement) -> list[str]:
    """Text of an element as lines, one per block element (p, div, br, li, tr …)."""
    for bad in element.xpath(" | ".join(f".//{t}" for t in DROP_TAGS)):
        bad.drop_tree()
    parts: list[str] = []

    def walk(node: lxml.html.HtmlElement) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in BLOCK_TAGS:
            parts.append("\n")
        if node.text and tag:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in BLOCK_TAGS:
            parts.append("\n")

    walk(element)
    return [line for line in "".join(parts).split("\n") if line.strip()]


def body_container(root: lxml.html.HtmlElement, selector: str | None) -> lxml.html.HtmlElement | None:
    """The article body element named by a site's selector or a known CMS container, if present."""
    selectors = (selector, *KNOWN_BODY_SELECTORS) if selector else KNOWN_BODY_SELECTORS
    for css in selectors:
        try:
            found = root.xpath(css) if css.startswith("/") else root.cssselect(css)
        except Exception as exc:
            raise ParseError("", "extract", f"bad content_selector {css!r}: {exc}") from exc
        for element in found:
            if len(element.text_content().strip()) >= MIN_BODY_CHARS:
                return element
    return None


def extract_html(html: str, *, uri: str, selector: str | None = None) -> tuple[list[str], PageMetadata]:
    """Body lines and page metadata of an article page; raises ParseError when there is no article."""
    root = parse_html(html, uri=uri)
    meta = page_metadata(root, html)
    container = body_container(root, selector)
    if container is not None:
        lines = element_lines(container)
    else:
        text = trafilatura.extract(
            html,
            url=uri if uri.startswith("http") else None,
            include_comments=False,
            include_tables=True,
            favor_recall=True,
            deduplicate=False,
        )
        lines = text.splitlines() if text else []
    if sum(len(line.strip()) for line in lines) < MIN_BODY_CHARS:
        raise ParseError(uri, "extract", "no article text found in the page (fewer than 80 characters of body)")
    return lines, meta
