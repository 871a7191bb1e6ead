"""Gold bodies of the real pages, read from XPath annotations, and the ROUGE-L score used against them.

An annotation (tests/gold/pages/<name>.json, name = the page's path under real-pages with '/' -> '__')
copies no page text: it names the title element, the body elements and the subtrees inside them that are
not body (a caption, a share bar). The gold text is built at run time from the page in ../shared:
the page decoded as UTF-8 (strict) else GB18030, parsed with lxml.html; title text + the text of each body
element in document order, minus the excluded subtrees (and script/style).

Score: ROUGE-L F1 over word tokens, where a token is one CJK character or one run of Latin letters/digits
(NFKC-folded, lower-cased); punctuation and whitespace are not tokens. The longest common subsequence is
taken over the whole token sequence of the page (title and body in order), computed with rapidfuzz.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lxml.html
from rapidfuzz.distance import LCSseq

TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template"})
BLOCK_TAGS = frozenset("p div br li h1 h2 h3 h4 h5 h6 tr table section article blockquote ul ol center figure".split())


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class PageGold:
    name: str  # annotation file stem, e.g. gne__163_1
    page: Path
    title: str
    body: str

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}"


def tokens(text: str) -> list[str]:
    """Word tokens: each CJK character, each run of Latin letters/digits; punctuation dropped."""
    return TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def rouge_l(candidate: str, gold: str) -> Score:
    """ROUGE-L (precision, recall, F1) of a candidate text against the gold text, over word tokens."""
    cand, ref = tokens(candidate), tokens(gold)
    if not cand or not ref:
        return Score(0.0, 0.0, 0.0)
    lcs = LCSseq.similarity(cand, ref)
    precision, recall = lcs / len(cand), lcs / len(ref)
    f1 = 2 * precision * recall / (precision + recall) if lcs else 0.0
    return Score(precision, recall, f1)


def decode_page(data: bytes) -> str:
    """The page as the annotators read it: UTF-8 when valid, else GB18030."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _text_of(element: lxml.html.HtmlElement, excluded: set[lxml.html.HtmlElement]) -> str:
    """Visible text of an element without its excluded subtrees, a line break around block elements."""
    parts: list[str] = []

    def walk(node: lxml.html.HtmlElement) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if node in excluded or tag in SKIPPED_TAGS or not tag:
            return
        if tag in BLOCK_TAGS:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in BLOCK_TAGS:
            parts.append("\n")

    walk(element)
    return "\n".join(line.strip() for line in "".join(parts).split("\n") if line.strip())


def gold_of(annotation: dict[str, object], page: Path, name: str) -> PageGold:
    """The gold title and body of one annotated page."""
    root = lxml.html.document_fromstring(decode_page(page.read_bytes()))
    order = {element: n for n, element in enumerate(root.iter())}
    title_nodes = root.xpath(str(annotation.get("title_xpath") or "")) if annotation.get("title_xpath") else []
    title = " ".join(_text_of(t, set()) for t in title_nodes[:1] if isinstance(t, lxml.html.HtmlElement))
    excluded = {e for xp in annotation.get("exclude_xpaths") or [] for e in root.xpath(str(xp))}
    body_nodes = {e for xp in annotation.get("body_xpaths") or [] for e in root.xpath(str(xp))}
    body_nodes = {e for e in body_nodes if isinstance(e, lxml.html.HtmlElement)}
    # an element inside another body element is already counted with it
    outermost = [e for e in body_nodes if not any(a in body_nodes for a in e.iterancestors())]
    outermost.sort(key=lambda e: order.get(e, 0))
    body = "\n".join(_text_of(e, excluded) for e in outermost)
    return PageGold(name=name, page=page, title=title.strip(), body=body)


def page_name(relative: str) -> str:
    """Annotation name of a page: gne/163_1.html -> gne__163_1."""
    return relative.removesuffix(".html").replace("/", "__")


def annotated_pages(gold_dir: Path, pages_dir: Path) -> Iterator[PageGold]:
    """Gold of every annotated page present under pages_dir, by annotation name."""
    for path in sorted(gold_dir.glob("*.json")):
        annotation = json.loads(path.read_text(encoding="utf-8"))
        page = pages_dir / str(annotation.get("page") or path.stem.replace("__", "/") + ".html")
        if page.is_file():
            yield gold_of(annotation, page, path.stem)
