"""Page structure -> typed blocks: paragraphs, headings, list items, table rows and captions from markup.

Two readers of one shape, `Iterable -> list[Block]`:
- `dom_blocks` walks an HTML element (a CMS body container): <h1>-<h6>, <li>, <tr>, <figcaption>, <br>;
- `xml_blocks` walks trafilatura's XML output (<head>, <p>, <list>/<item>, <table>/<row>/<cell>, <graphic>).
Both mark text beside an image and short centred or wholly bold lines with a `PageHints` built once from
the page, so the text heuristics of parsers.clean are left for plain-text input.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass

import lxml.etree
import lxml.html

from parsers.records import CAPTION, HEADING, LIST_ITEM, PARAGRAPH, QR_LABEL, TABLE_ROW, Block

WHITESPACE = re.compile(r"[\s\u3000\u00a0\u200b\ufeff\ufffd]+")  # U+FFFD: a character the encoding lost
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements that start a new line of text in a page.
DOM_BLOCK_TAGS = frozenset(
    "p div br li h1 h2 h3 h4 h5 h6 tr td th table section article blockquote ul ol dl dt dd center figure "
    "figcaption pre header footer aside".split()
)
DOM_SKIPPED = frozenset(
    {"script", "style", "noscript", "iframe", "form", "button", "select", "nav", "footer", "textarea"}
)
CAPTION_CLASS = re.compile(
    r"caption|pic-?info|pic-?txt|img-?desc|img-?text|imgtxt|picintro|pic_?title|img_?title|tu-?zhu", re.I
)
CENTRED_STYLE = re.compile(r"text-align\s*:\s*center", re.I)
# Markup says heading or caption for a short line only: a centred or bold line of prose is emphasis.
MAX_MARKED_HEADING = 40
MAX_CAPTION_CHARS = 60
MAX_LINK_TEXT = 50
# Layout tables (a cell holding paragraphs or a long text) are read as blocks, not as table rows.
LAYOUT_CELL_MIN_CHARS = 200
SENTENCE_END = re.compile(r"[。！？!?；;][”」』）)]?$")
# 成人票原价:279元 — a label and its figure is data, not a heading, however the page sets it.
LABEL_VALUE = re.compile(r"[:：]\s*\S*\d")


def normalize(text: str) -> str:
    return WHITESPACE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class PageHints:
    """Short texts the page marks: centred or wholly bold, captions (by class or beside an image), links."""

    emphasised: frozenset[str] = frozenset()
    captions: frozenset[str] = frozenset()
    links: frozenset[str] = frozenset()
    qr_labels: frozenset[str] = frozenset()  # text beside a QR code: 证券时报APP, 微信公众号


# Words of a photo credit or caption: 图为…, …摄, …供图, 资料图, 视频截图, agency names.
CREDIT_WORDS = re.compile(
    r"^图为|^▲|^图[:：片]|摄$|摄[)）]|供图|资料图|截图|图片来源|视觉中国|东方IC|图虫|新华社发|CFP|IC photo", re.I
)
IMAGE_BLOCK_TAGS = frozenset({"p", "div", "figure", "td", "center", "li", "span", "a"})


def _is_centred(element: lxml.html.HtmlElement) -> bool:
    return (
        element.tag == "center"
        or element.get("align", "").lower() == "center"
        or bool(CENTRED_STYLE.search(element.get("style", "")))
    )


def _is_bold(element: lxml.html.HtmlElement, text: str) -> bool:
    """All of the element's text sits inside <strong>/<b>."""
    outer = element.xpath(".//*[self::strong or self::b][not(ancestor::strong or ancestor::b)]")
    bold = "".join(b.text_content() for b in outer)
    return bool(text) and WHITESPACE.sub("", bold) == WHITESPACE.sub("", text)


def _beside_image(img: lxml.html.HtmlElement) -> str | None:
    """Caption of an image: short text in the image's own block, or the short block right after an image
    standing alone when that block is centred or worded as a credit (…供图, 视觉中国, 图为…)."""
    block = img.getparent()
    while block is not None and block.tag not in IMAGE_BLOCK_TAGS:
        block = block.getparent()
    if block is None:
        return None
    while block.tag in ("span", "a") and block.getparent() is not None:
        block = block.getparent()
    text = normalize(block.text_content())
    if text:
        evidence = CREDIT_WORDS.search(text) or not SENTENCE_END.search(text)  # a sentence beside it is prose
    else:
        following = block.getnext()
        if following is None or not isinstance(following.tag, str) or following.xpath(".//img"):
            return None
        text = normalize(following.text_content())
        # centred is a caption's setting, but a centred line set wholly in bold is a title over what follows
        evidence = CREDIT_WORDS.search(text) or (_is_centred(following) and not _is_bold(following, text))
    return text if evidence and 0 < len(text) <= MAX_CAPTION_CHARS and not _is_numbered(text) else None


def page_hints(root: lxml.html.HtmlElement) -> PageHints:
    """Short lines the page centres or sets in bold, its captions and its link texts, read once."""
    emphasised: set[str] = set()
    captions: set[str] = set()
    for element in root.iter("center", "strong", "b", "p", "div", "span", "figcaption"):
        tag = element.tag
        attrs = element.attrib
        is_caption = tag == "figcaption" or bool(
            CAPTION_CLASS.search(attrs.get("class", "") + " " + attrs.get("id", ""))
        )
        is_emphasis = tag in ("center", "strong", "b") or (tag in ("p", "div") and _is_centred(element))
        if not (is_caption or is_emphasis):
            continue
        text = normalize(element.text_content())
        if not text or len(text) > 2 * MAX_CAPTION_CHARS:
            continue
        if is_caption:
            captions.add(text)
        elif len(text) <= MAX_MARKED_HEADING:
            emphasised.add(text)
    qr_labels: set[str] = set()
    for img in root.iter("img"):
        caption = _beside_image(img)
        if caption:
            (qr_labels if _is_qr_code(img) else captions).add(caption)
    links = {text for a in root.iter("a") if 0 < len(text := normalize(a.text_content())) <= 2 * MAX_LINK_TEXT}
    return PageHints(frozenset(emphasised), frozenset(captions), frozenset(links), frozenset(qr_labels))


# A QR code's image by its file, alt or class name: ewm/erweima (二维码 in pinyin), qrcode, 二维码.
QR_CODE = re.compile(r"ewm|erweima|qr_?code|qr[-_.]|二维码", re.I)


def _is_qr_code(img: lxml.html.HtmlElement) -> bool:
    parent = img.getparent()
    names = " ".join(
        (
            img.get("src", ""),
            img.get("alt", ""),
            img.get("class", ""),
            parent.get("class", "") if parent is not None else "",
        )
    )
    return bool(QR_CODE.search(names))


LINK_SEPARATORS = re.compile(r"[\s|｜/·•]+")
MIN_LINK_SHARE = 0.7  # a line whose text is mostly link texts is a menu or a link list


# The date (and time) a list prints beside each linked title: 标题 2018-03-02 08:58:39, (2024-01-07) 标题.
LIST_STAMP = re.compile(
    r"[(（\[]?(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?[)）\]]?"
)


def is_link_line(text: str, hints: PageHints) -> bool:
    """A line that is one of the page's links, alone or with the date a list prints beside it."""
    if text in hints.links:
        return True
    stamp = LIST_STAMP.search(text)
    if stamp is None or not (stamp.start() == 0 or stamp.end() == len(text)):
        return False
    rest = normalize(text[: stamp.start()] + text[stamp.end() :])
    return bool(rest) and rest in hints.links


def link_count(text: str, hints: PageHints) -> int:
    """Number of the page's link texts a line is made of (a menu bar), 0 when links are not most of it."""
    words = [w for w in LINK_SEPARATORS.split(text) if w]
    linked = [w for w in words if w in hints.links]
    if len(linked) < 2 or sum(map(len, linked)) < MIN_LINK_SHARE * sum(map(len, words)):
        return 0
    return len(linked)


def _marked_kind(text: str, hints: PageHints, *, bold: bool = False) -> str:
    if text in hints.qr_labels:
        return QR_LABEL
    if text in hints.captions:
        return CAPTION
    if (
        len(text) <= MAX_MARKED_HEADING
        and not SENTENCE_END.search(text)
        and not LABEL_VALUE.search(text)
        and (bold or text in hints.emphasised)
    ):
        return HEADING
    return PARAGRAPH


NUMBERED = re.compile(
    r"^(?:第[一二三四五六七八九十百\d]+[部分章节篇]|[一二三四五六七八九十]+[、．.]|[(（][一二三四五六七八九十\d]+[)）]|\d{1,2}[、．.](?!\d))"
)


def _is_numbered(text: str) -> bool:
    return bool(NUMBERED.match(text))


# --- HTML (a body container) ----------------------------------------------------------------------------
def _is_layout_table(table: lxml.html.HtmlElement) -> bool:
    return any(
        cell.xpath(".//p | .//table") or len(cell.text_content().strip()) >= LAYOUT_CELL_MIN_CHARS
        for cell in table.xpath(".//td | .//th")
    )


def dom_blocks(
    element: lxml.html.HtmlElement, hints: PageHints, *, skip: lxml.html.HtmlElement | None = None
) -> list[Block]:
    """Typed blocks of an HTML element (without the `skip` subtree), one per block element or <br>-separated line."""
    blocks: list[Block] = []
    parts: list[str] = []
    kinds: list[str] = [PARAGRAPH]
    bold_only = [True]  # the current line's text so far sits inside <strong>/<b>

    def flush() -> None:
        text = normalize("".join(parts))
        parts.clear()
        if text:
            kind = kinds[-1]
            if text in hints.qr_labels:
                kind = QR_LABEL  # whatever element holds it (a list item of a follow-us box)
            elif kind == PARAGRAPH or (kind == HEADING and text in hints.captions):
                kind = _marked_kind(text, hints, bold=bold_only[0])
            blocks.append(Block(text, kind, is_link_line(text, hints), link_count(text, hints)))
        bold_only[0] = True

    def add(text: str | None, bold: bool) -> None:
        if text and text.strip():
            parts.append(text)
            if not bold:
                bold_only[0] = False

    def walk(node: lxml.html.HtmlElement, bold: bool) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if not tag or tag in DOM_SKIPPED:
            return
        if node is skip:
            flush()
            return
        if tag == "table" and not _is_layout_table(node):
            flush()
            for row in node.xpath(".//tr"):
                cells = [normalize(c.text_content()) for c in row.xpath("./td | ./th")]
                text = " | ".join(c for c in cells if c)
                if text:
                    blocks.append(Block(text, TABLE_ROW))
            return
        is_block = tag in DOM_BLOCK_TAGS
        kind = (
            HEADING
            if tag in HEADING_TAGS
            else LIST_ITEM
            if tag in ("li", "dt", "dd")
            else CAPTION
            if tag == "figcaption" or CAPTION_CLASS.search(node.get("class", ""))
            else None
        )
        if is_block or kind:
            flush()
            kinds.append(kind or kinds[-1])
        inner_bold = bold or tag in ("strong", "b")
        add(node.text, inner_bold)
        for child in node:
            walk(child, inner_bold)
            add(child.tail, bold)
        if is_block or kind:
            flush()
            kinds.pop()

    walk(element, False)
    flush()
    return blocks


# --- trafilatura's XML ---------------------------------------------------------------------------------
def _xml_pieces(node: lxml.etree._Element) -> Iterator[str]:
    """Text of an inline run, a line break for each <lb/>."""
    if node.text:
        yield node.text
    for child in node:
        if child.tag == "lb":
            yield "\n"
        else:
            yield from _xml_pieces(child)
        if child.tail:
            yield child.tail


def _lines(node: lxml.etree._Element, kind: str, hints: PageHints) -> list[Block]:
    """Blocks of one <p>/<head>/<item>: a line per <lb/> or line break."""
    out: list[Block] = []
    for line in "".join(_xml_pieces(node)).split("\n"):
        text = normalize(line)
        if not text:
            continue
        if text in hints.qr_labels:
            marked = QR_LABEL
        elif text in hints.captions:
            marked = CAPTION
        elif kind == PARAGRAPH:
            marked = _marked_kind(text, hints)
        else:
            marked = kind
        out.append(Block(text, marked, is_link_line(text, hints), link_count(text, hints)))
    return out


def _is_layout_row(row: lxml.etree._Element) -> bool:
    return any(
        cell.xpath("./p | ./head | ./list | ./table | ./quote | ./div")
        or len("".join(cell.itertext()).strip()) >= LAYOUT_CELL_MIN_CHARS
        for cell in row.findall("cell")
    )


XML_BLOCK_TAGS = frozenset({"head", "p", "quote", "code", "list", "table", "div", "cell", "main", "comments"})


def _xml_children(parent: lxml.etree._Element, hints: PageHints) -> list[Block]:
    """Blocks of a container element; runs of loose text and inline elements between blocks are one line."""
    blocks: list[Block] = []
    inline = lxml.etree.Element("p")  # loose text and inline children gathered until the next block element
    inline.text = parent.text

    def flush_inline() -> None:
        if "".join(inline.itertext()).strip():
            blocks.extend(_lines(inline, PARAGRAPH, hints))
        inline.clear()

    for node in parent:
        tag = node.tag
        if tag not in XML_BLOCK_TAGS:
            clone = copy.deepcopy(node)
            clone.tail = None
            inline.append(clone)
            _append_text(inline, node.tail)
            continue
        flush_inline()
        if tag == "head":
            blocks.extend(_lines(node, HEADING, hints))
        elif tag in ("p", "quote", "code"):
            blocks.extend(_lines(node, PARAGRAPH, hints))
        elif tag == "list":
            for item in node.findall("item"):
                blocks.extend(_lines(item, LIST_ITEM, hints))
        elif tag == "table":
            blocks.extend(_table_blocks(node, hints))
        else:
            blocks.extend(_xml_children(node, hints))
        _append_text(inline, node.tail)
    flush_inline()
    return blocks


def _table_blocks(table: lxml.etree._Element, hints: PageHints) -> list[Block]:
    """A data table's rows (cells joined by ' | '); the cells of a layout row read as blocks."""
    blocks: list[Block] = []
    for row in table.findall("row"):
        if _is_layout_row(row):
            for cell in row.findall("cell"):
                blocks.extend(_xml_children(cell, hints))
            continue
        cells = [c for c in (normalize("".join(cell.itertext())) for cell in row.findall("cell")) if c]
        if cells:
            text = " | ".join(cells)
            blocks.append(Block(text, TABLE_ROW, all(c in hints.links for c in cells), link_count(text, hints)))
    return blocks


def _append_text(element: lxml.etree._Element, text: str | None) -> None:
    """Append loose text at the end of an element (after its last child)."""
    if not text:
        return
    if len(element):
        last = element[-1]
        last.tail = (last.tail or "") + text
    else:
        element.text = (element.text or "") + text


def xml_blocks(main: lxml.etree._Element, hints: PageHints) -> list[Block]:
    """Typed blocks of trafilatura's <main> (or <comments>) element."""
    return _xml_children(main, hints)
