"""HTML -> body text lines + page metadata (trafilatura, helped by government CMS containers)."""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Sequence
from functools import cache

import lxml.html
import trafilatura
from cssselect import GenericTranslator, SelectorError
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
BLOCK_TAGS = frozenset("p div br li h1 h2 h3 h4 h5 h6 tr td th table section article blockquote ul ol center".split())
# Tables used for page layout (a cell holding paragraphs or a long text) are turned into plain blocks,
# so that extraction sees the article's paragraphs and not one flattened table cell.
LAYOUT_CELL_MIN_CHARS = 200
TABLE_PIPES = re.compile(r"^\s*\|\s*|\s*\|\s*$")
DROP_TAGS = ("script", "style", "noscript", "iframe", "form", "button", "select", "nav", "footer")
MIN_BODY_CHARS = 80  # a container with less text than this is an empty template slot
META_TITLE = ("ArticleTitle", "og:title", "title")
META_DATE = ("PubDate", "pubdate", "publishdate", "article:published_time", "firstpublishedtime", "Maketime")
META_SOURCE = ("ContentSource", "source", "og:site_name", "SiteName")
META_AUTHOR = ("Author", "author", "article:author")
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)  # XPath translate(), not str.lower()
TITLE_SEPARATOR = re.compile(r"\s*(?:[_|｜]|--|—{1,2}|-\s)\s*")


# libxml2 stops reading a document nested deeper than this (huge_tree stays off: hostile pages nest
# 100,000 elements); what came before is kept, and a page with no article is rejected saying why.
MAX_HTML_DEPTH = 256
DEPTH_LIMIT_ERROR = "Excessive depth"
TRUNCATED_MARK = "data-civic-truncated"  # set on the root of a document cut at the depth limit
# Article pages have a few thousand elements (the benchmark's 110 KiB pages ~2,500). A page with hundreds of
# thousands (8 MiB of <p> tags) kept trafilatura busy 30 s and ~900 MiB per parser process: refused first.
MAX_HTML_ELEMENTS = 200_000


def parse_html(html: str, *, uri: str) -> lxml.html.HtmlElement:
    parser = lxml.html.HTMLParser(huge_tree=False, no_network=True)
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (ParserError, ValueError) as exc:
        raise ParseError(uri, "extract", f"unparseable HTML: {exc}") from exc
    if any(DEPTH_LIMIT_ERROR in entry.message for entry in parser.error_log):
        root.set(TRUNCATED_MARK, "1")
    elements = sum(1 for _ in itertools.islice(root.iter(), MAX_HTML_ELEMENTS + 1))
    if elements > MAX_HTML_ELEMENTS:
        raise ParseError(uri, "extract", f"the page has more than {MAX_HTML_ELEMENTS:,} elements: not an article page")
    # CMS template comments (<!-- 文章来源 begin -->) must not leak into text.
    for comment in root.xpath("//comment()"):
        if comment.getparent() is not None:
            comment.drop_tree()
    return root


def _meta_tags(root: lxml.html.HtmlElement) -> list[dict[str, str]]:
    """Attributes of every <meta> in the page, in document order (read once, searched for each field)."""
    return [dict(element.attrib) for element in root.xpath("//meta")]


def _meta(metas: Sequence[dict[str, str]], names: Sequence[str]) -> str | None:
    """Content of the first <meta> whose name, property or itemprop is one of `names` (ASCII case ignored)."""
    for name in names:
        wanted = name.lower()
        for attr in ("name", "property", "itemprop"):
            for meta in metas:
                if attr in meta and meta[attr].translate(ASCII_LOWER) == wanted:
                    value = meta.get("content")
                    if value and value.strip():
                        return value.strip()
    return None


def page_metadata(root: lxml.html.HtmlElement, html: str) -> PageMetadata:
    """Title, date, outlet and author from the CMS <meta> block, with htmldate for the date."""
    metas = _meta_tags(root)
    title = _meta(metas, META_TITLE)
    if not title:
        heading = root.xpath("string(//h1)").strip()
        page_title = root.xpath("string(//title)").strip()
        title = heading or (TITLE_SEPARATOR.split(page_title)[0] if page_title else None)
    raw_date = _meta(metas, META_DATE)
    published = parse_date(raw_date) if raw_date else None
    if published is None:
        found = find_date(html, extensive_search=True, original_date=True, outputformat="%Y-%m-%d")
        published = parse_date(found) if found else None
    source = _meta(metas, META_SOURCE)
    if source:
        source = parse_outlet(f"来源:{source}") or source
    return PageMetadata(title=title or None, published_date=published, source=source, author=_meta(metas, META_AUTHOR))


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


@cache
def selector_xpath(selector: str) -> str:
    """XPath over the whole document for a CSS selector (an XPath is passed through).

    lxml's element.cssselect() searches below one tree, and on real pages whose markup lxml splits
    into several trees it misses the article; an absolute XPath does not.
    """
    if selector.startswith("/"):
        return selector
    try:
        return str(GenericTranslator().css_to_xpath(selector, prefix="//"))
    except SelectorError as exc:
        raise ValueError(f"bad CSS selector {selector!r}: {exc}") from exc


def _ids_and_classes(root: lxml.html.HtmlElement) -> set[str]:
    """'#id' and '.class' of every element of the page, gathered in one walk over it."""
    found: set[str] = set()
    for value in root.xpath("//@id | //@class"):
        if value.attrname == "id":
            found.add(f"#{value}")
        else:
            found.update(f".{token}" for token in value.split())
    return found


def body_container(root: lxml.html.HtmlElement, selector: str | None) -> lxml.html.HtmlElement | None:
    """The article body element named by a site's selector or a known CMS container, if present."""
    selectors = (selector, *KNOWN_BODY_SELECTORS) if selector else KNOWN_BODY_SELECTORS
    present = _ids_and_classes(root)
    for css in selectors:
        if css in KNOWN_BODY_SELECTORS and css not in present:
            continue  # no element has this id or class: skip a walk over the page (most pages have one CMS)
        for element in root.xpath(selector_xpath(css)):
            if len(element.text_content().strip()) >= MIN_BODY_CHARS:
                return element
    return None


def unwrap_layout_tables(root: lxml.html.HtmlElement) -> None:
    """Turn layout tables (cells holding paragraphs or long text) into divs, in place."""
    for table in root.xpath("//table"):
        cells = table.xpath(".//td | .//th")
        is_layout = any(
            cell.xpath(".//p") or len(cell.text_content().strip()) >= LAYOUT_CELL_MIN_CHARS for cell in cells
        )
        if is_layout:
            for element in [table, *table.xpath(".//tbody | .//thead | .//tr | .//td | .//th")]:
                element.tag = "div"


def trafilatura_lines(root: lxml.html.HtmlElement, uri: str) -> list[str]:
    """Body lines found by trafilatura (recall mode: short paragraphs of Chinese pages are kept)."""
    text = trafilatura.extract(
        root,
        url=uri if uri.startswith("http") else None,
        include_comments=False,
        include_tables=True,
        favor_recall=True,
        deduplicate=False,
    )
    return text.splitlines() if text else []


def extract_html(html: str, *, uri: str, selector: str | None = None) -> tuple[list[str], PageMetadata]:
    """Body lines and page metadata of an article page; raises ParseError when there is no article.

    A site's content_selector or a known government CMS container is used when the page has one
    (it holds the article and nothing else); otherwise trafilatura finds the body, after layout
    tables are unwrapped. Text-level furniture is left to parsers.clean.
    """
    root = parse_html(html, uri=uri)
    meta = page_metadata(root, html)
    try:
        container = body_container(root, selector)
    except ValueError as exc:
        raise ParseError(uri, "extract", str(exc)) from exc
    if container is not None:
        lines = element_lines(container)
    else:
        unwrap_layout_tables(root)
        lines = trafilatura_lines(root, uri)
    lines = [TABLE_PIPES.sub("", line) for line in lines]
    if sum(len(line.strip()) for line in lines) < MIN_BODY_CHARS:
        why = f"no article text found in the page (fewer than {MIN_BODY_CHARS} characters)"
        if root.get(TRUNCATED_MARK):
            why += f"; its markup nests deeper than {MAX_HTML_DEPTH} elements and was read only to that depth"
        raise ParseError(uri, "extract", why)
    return lines, meta
