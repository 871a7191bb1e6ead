"""HTML -> typed body blocks + page metadata + text dropped by zone.

The body comes from a trusted CMS container's markup when the page has one, else from trafilatura's XML
(bare trafilatura's settings), checked against a generic container, the page's densest block of paragraphs
or its longest run of text when trafilatura clearly took too much. What is left out is logged by zone.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Sequence
from functools import cache

import lxml.etree
import lxml.html
import trafilatura
from cssselect import GenericTranslator, SelectorError
from htmldate import find_date
from lxml.etree import ParserError

from parsers.clean import match_key
from parsers.metadata import parse_date, parse_outlet
from parsers.records import Block, Extracted, PageMetadata, ParseError, Removal
from parsers.structure import PageHints, dom_blocks, page_hints, xml_blocks

# Body containers of the CMSs Chinese sites run on (TRS, Hanweb, UCAP, mca.gov.cn, WeChat, Baidu …).
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
# Containers of CMSs that hold the article and nothing else (government CMSs, WeChat): trusted without a
# second opinion from trafilatura. Generic class names (.article-content …) are checked against it.
GENERIC_BODY_SELECTORS = frozenset((".article-content", ".content-text", "#ArticleContent"))
TRUSTED_SELECTORS = frozenset(KNOWN_BODY_SELECTORS) - GENERIC_BODY_SELECTORS
MIN_BODY_CHARS = 80  # a container with less text than this is an empty template slot
AGREEMENT = 0.5  # trafilatura finding this share of a container's text there: the container is the article
MIN_FOUND_IN_CONTAINER = 200  # less than this found in a container: trafilatura missed the article
# trafilatura's text this many times the page's densest block of paragraphs, holding most of that block's
# sentences: it glued comments or feeds to the article, and the block is the article.
OVERREACH = 1.6
ARTICLE_SHARE = 0.6
MIN_MATCH_KEY = 10
MIN_ARTICLE_PARAGRAPHS = 3
# trafilatura's whole answer in this few blocks, holding this share of the page's (at least MIN_PAGE_LINKS)
# link texts: it dumped the page.
MAX_DUMP_BLOCKS = 3
MENU_SHARE = 0.5
MIN_PAGE_LINKS = 10
NO_TEXT_TAGS = frozenset({"script", "style", "noscript", "head", "title", "textarea", "html", "body"})
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
    # A page has fewer elements than '<' characters: only a page with that many tags is counted (a C-speed
    # count of the string spares the usual page a walk of its tree).
    many_tags = html.count("<") > MAX_HTML_ELEMENTS
    if many_tags and sum(1 for _ in itertools.islice(root.iter(), MAX_HTML_ELEMENTS + 1)) > MAX_HTML_ELEMENTS:
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


SITE_NAME_SEPARATOR = re.compile(r"^\s*[-_|｜—–·]")


def _with_site_name(title: str, heading: str) -> bool:
    """The <meta> title is the printed headline plus a site name: 标题-EDN 电子技术设计, 新浪网_标题."""
    if title.startswith(heading):
        return bool(SITE_NAME_SEPARATOR.match(title[len(heading) :]))
    if title.endswith(heading):
        return bool(SITE_NAME_SEPARATOR.match(title[: -len(heading)][::-1]))
    return False


def page_metadata(root: lxml.html.HtmlElement, html: str) -> PageMetadata:
    """Title, date, outlet and author from the CMS <meta> block; htmldate's guess when no <meta> dates it."""
    metas = _meta_tags(root)
    title = _meta(metas, META_TITLE)
    heading = " ".join(root.xpath("string(//h1)").split())
    if not title:
        page_title = root.xpath("string(//title)").strip()
        title = heading or (TITLE_SEPARATOR.split(page_title)[0] if page_title else None)
    elif heading and len(heading) < len(title) and _with_site_name(title, heading):
        title = heading  # the printed headline, without the site name the <meta> title carries
    elif heading and len(heading) > len(title) and match_key(heading).startswith(match_key(title)):
        title = heading  # the printed headline, of which the <meta> title is cut short
    raw_date = _meta(metas, META_DATE)
    published = parse_date(raw_date) if raw_date else None
    guessed = None
    if published is None:
        found = find_date(html, extensive_search=True, original_date=True, outputformat="%Y-%m-%d")
        guessed = parse_date(found) if found else None
    source = _meta(metas, META_SOURCE)
    if source:
        source = parse_outlet(f"来源:{source}") or source
    return PageMetadata(
        title=title or None,
        published_date=published,
        source=source,
        author=_meta(metas, META_AUTHOR),
        guessed_date=guessed,
    )


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


def body_container(root: lxml.html.HtmlElement, selector: str | None) -> tuple[lxml.html.HtmlElement | None, bool]:
    """The article body element named by a site's selector or a known CMS container, if present, and whether
    it is trusted to hold the article and nothing else (a site's own selector, or a CMS-specific container)."""
    selectors = (selector, *KNOWN_BODY_SELECTORS) if selector else KNOWN_BODY_SELECTORS
    present = _ids_and_classes(root)
    for css in selectors:
        if css in KNOWN_BODY_SELECTORS and css not in present:
            continue  # no element has this id or class: skip a walk over the page (most pages have one CMS)
        for element in root.xpath(selector_xpath(css)):
            if len(element.text_content().strip()) >= MIN_BODY_CHARS:
                return element, css == selector or css in TRUSTED_SELECTORS
    return None, False


VISIBLE_TEXT = lxml.etree.XPath(".//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]")


def outside_container_removals(container: lxml.html.HtmlElement) -> list[Removal]:
    """The page's text outside a trusted container, logged as furniture by zone: one removal per region
    beside the container or beside one of its ancestors (the title block, a tool bar, a menu, the footer)."""
    removals: list[Removal] = []
    node = container
    while (parent := node.getparent()) is not None:
        for sibling in parent:
            if sibling is node or not isinstance(sibling.tag, str) or sibling.tag in ("head", "script", "style"):
                continue
            text = " ".join(" ".join(VISIBLE_TEXT(sibling)).split() + (sibling.tail or "").split())
            if text:
                removals.append(Removal("outside_body_container", text))
        node = parent
    # markup that lxml splits into several <html> trees (a stray </html>): the other trees are outside too
    for tree in (*node.itersiblings(preceding=True), *node.itersiblings()):
        text = " ".join(" ".join(VISIBLE_TEXT(tree)).split()) if isinstance(tree.tag, str) else ""
        if text:
            removals.append(Removal("outside_body_container", text))
    return removals


def densest_paragraph_parent(root: lxml.html.HtmlElement) -> tuple[lxml.html.HtmlElement | None, int]:
    """The element whose own <p> children hold the most text (where a page keeps its article), and that text's
    length; None unless it has MIN_ARTICLE_PARAGRAPHS paragraphs (one paragraph in a box is a lead or a teaser)."""
    totals: dict[lxml.html.HtmlElement, list[int]] = {}
    for paragraph in root.iter("p"):
        parent = paragraph.getparent()
        if parent is not None:
            chars = len("".join(paragraph.text_content().split()))
            if chars:
                totals.setdefault(parent, []).append(chars)
    candidates = [(sum(sizes), parent) for parent, sizes in totals.items() if len(sizes) >= MIN_ARTICLE_PARAGRAPHS]
    if not candidates:
        return None, 0
    chars, best = max(candidates, key=lambda c: c[0])
    return best, chars


def overreaches(found: Sequence[Block], article: Sequence[Block]) -> bool:
    """trafilatura's text holds the article block's sentences and much more besides (comments, feeds glued on)."""
    found_text = "".join(match_key(b.text) for b in found)
    keys = [k for k in (match_key(b.text) for b in article) if len(k) >= MIN_MATCH_KEY]
    article_chars = sum(map(len, keys))
    if not article_chars:
        return False
    shared = sum(len(k) for k in keys if k in found_text)
    return shared >= ARTICLE_SHARE * article_chars and len(found_text) >= OVERREACH * article_chars


def holds_the_menus(found: Sequence[Block], hints: PageHints) -> bool:
    """trafilatura's text holds most of the page's link texts: it read the whole page, not an article."""
    text = "".join(match_key(b.text) for b in found)
    links = {k for k in map(match_key, hints.links) if len(k) >= 2}
    return len(links) >= MIN_PAGE_LINKS and sum(k in text for k in links) >= MENU_SHARE * len(links)


def longest_text_element(root: lxml.html.HtmlElement) -> tuple[lxml.html.HtmlElement | None, int]:
    """The element with the most text of its own (its text and its children's tails), and that length."""
    best, best_chars = None, 0
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in NO_TEXT_TAGS:
            continue
        chars = len((element.text or "").strip()) + sum(len((child.tail or "").strip()) for child in element)
        if chars > best_chars:
            best, best_chars = element, chars
    return best, best_chars


def trafilatura_xml(root: lxml.html.HtmlElement, uri: str) -> lxml.etree._Element | None:
    """trafilatura's structured output (<doc><main>…</main><comments>…</comments></doc>) of the parsed page.

    The settings of a bare trafilatura.extract (comments and tables included), so its text is the text
    bare trafilatura gives (the same on all 69 real pages whether given our parsed tree or the string, and
    the tree is left as it was); bold, centred and linked lines and captions are read from the page itself
    (parsers.structure.page_hints), since asking trafilatura to keep that markup changes what it keeps.
    """
    xml = trafilatura.extract(
        root,
        url=uri if uri.startswith("http") else None,
        output_format="xml",
        include_comments=True,
        include_tables=True,
        deduplicate=False,
    )
    if not xml:
        return None
    try:
        return lxml.etree.fromstring(xml.encode("utf-8"))
    except lxml.etree.XMLSyntaxError:
        return None


def _split_by_container(found: Sequence[Block], body: Sequence[Block]) -> tuple[list[Block], list[Block]]:
    """(blocks inside the container's text, blocks outside it) of what trafilatura found."""
    inside_text = "\n".join(match_key(b.text) for b in body)
    inside: list[Block] = []
    outside: list[Block] = []
    for block in found:
        (inside if match_key(block.text) in inside_text else outside).append(block)
    return inside, outside


def glued_removals(found: Sequence[Block], article: Sequence[Block]) -> list[Removal]:
    """What trafilatura found outside the article's block: before the article's text it is
    `outside_article_block` (menus, a header), after it the page's tail (feeds, rankings) — the reason the
    clean layer gives the same widget when trafilatura's answer ends with it."""
    inside_text = "\n".join(match_key(b.text) for b in article)
    keys = [match_key(b.text) for b in found]
    inside = [key in inside_text for key in keys]
    # the article ends at its last sentence found in the block (a stray "×" matches anywhere)
    anchors = [i for i, key in enumerate(keys) if inside[i] and len(key) >= MIN_MATCH_KEY]
    last = anchors[-1] if anchors else len(found)
    return [
        Removal("page_tail" if i > last else "outside_article_block", b.text)
        for i, b in enumerate(found)
        if not inside[i]
    ]


def choose_body(found: Sequence[Block], container: Sequence[Block]) -> tuple[list[Block], list[Removal]]:
    """Body blocks of a page with a CMS container, and what trafilatura found outside it (logged by zone).

    The container's own markup gives the body when trafilatura agrees with it (finds at least half of its
    text there) or finds next to nothing in it (a page trafilatura misreads). When trafilatura's article is a
    small part of the container, the container is a wider box (article, comments and promotions share one
    class name on some sites): trafilatura's blocks inside it are the body.
    """
    inside, outside = _split_by_container(found, container)
    removals = [Removal("outside_body_container", b.text) for b in outside]
    found_chars = sum(len(b.text) for b in inside)
    container_chars = sum(len(b.text) for b in container)
    if found_chars >= AGREEMENT * container_chars or found_chars < MIN_FOUND_IN_CONTAINER:
        return list(container), removals
    return inside, removals


def extract_html(html: str, *, uri: str, selector: str | None = None) -> Extracted:
    """Typed body blocks, page metadata and zone removals of an article page; ParseError when there is no article.

    A site's content_selector or a known government CMS container is used when the page has one (it holds
    the article and nothing else): its blocks come from a walk of its markup, and what trafilatura finds
    outside it is logged as `outside_body_container`. Otherwise trafilatura's XML gives the blocks; its
    comment section is logged as `comments`. Text-level furniture is left to parsers.clean.
    """
    root = parse_html(html, uri=uri)
    meta = page_metadata(root, html)
    hints = page_hints(root)
    try:
        container, trusted = body_container(root, selector)
    except ValueError as exc:
        raise ParseError(uri, "extract", str(exc)) from exc
    if container is not None and trusted:
        body = dom_blocks(container, hints)
        if sum(len(b.text) for b in body) >= MIN_BODY_CHARS:
            return Extracted(tuple(body), meta, tuple(outside_container_removals(container)))
    doc = trafilatura_xml(root, uri)
    main = doc.find("main") if doc is not None else None
    comments = doc.find("comments") if doc is not None else None
    found = xml_blocks(main, hints) if main is not None else []
    removals = [Removal("comments", b.text) for b in xml_blocks(comments, hints)] if comments is not None else []
    if container is not None:
        blocks, outside = choose_body(found, dom_blocks(container, hints))
        removals = outside + removals
    else:
        blocks = found
        article, article_chars = densest_paragraph_parent(root)
        found_chars = sum(len(b.text) for b in found)
        if article is not None and article_chars >= MIN_FOUND_IN_CONTAINER and found_chars >= OVERREACH * article_chars:
            article_blocks = dom_blocks(article, hints)
            if overreaches(found, article_blocks):
                blocks = article_blocks
                removals = glued_removals(found, article_blocks) + removals
        elif len(found) <= MAX_DUMP_BLOCKS and holds_the_menus(found, hints):
            # trafilatura gave the page's whole text (its menus included) as one block: the element with
            # the longest run of its own text is the article
            element, chars = longest_text_element(root)
            if element is not None and chars >= MIN_BODY_CHARS:
                article_blocks = dom_blocks(element, hints)
                blocks = article_blocks
                removals = [Removal("outside_article_block", b.text) for b in found] + removals
    if sum(len(b.text) for b in blocks) < MIN_BODY_CHARS:
        why = f"no article text found in the page (fewer than {MIN_BODY_CHARS} characters)"
        if root.get(TRUNCATED_MARK):
            why += f"; its markup nests deeper than {MAX_HTML_DEPTH} elements and was read only to that depth"
        raise ParseError(uri, "extract", why)
    return Extracted(tuple(blocks), meta, tuple(removals))
