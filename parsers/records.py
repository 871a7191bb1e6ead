"""Record types that flow through the pipeline: raw input in, one parsed Article out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

# Bump when parsing changes what comes out for the same input: documents parsed by an older
# version are parsed again on the next run even if their bytes did not change.
# 2: structure from the DOM (block kinds), removals need evidence; 3: statistics tables, the domain vocabulary;
# 4: repeated questions kept, reasons of sidebars, comment boxes, dated link lists, QR labels; <meta> date first;
# 5: 246 codes, decided by scope (城市/农村), the part and the thing counted
PARSER_VERSION = "5"


def stable_id(*parts: object) -> str:
    """Deterministic 16-hex-digit id from the given parts (same parts, same id, every run)."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:16]


def content_hash(data: bytes) -> str:
    """Hash of raw input bytes: equal hashes mean nothing needs parsing again."""
    return hashlib.sha256(data).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class RawDocument:
    """Bytes of one input (a local file or a fetched page) and what is known about them."""

    uri: str  # page URL, or for local files the path as given
    content: bytes
    is_html: bool
    http_charset: str | None = None  # charset from the Content-Type header, if any
    source_name: str = "local"  # configured source, or "local" for files
    default_region: str | None = None  # a source's region, used when the text names none
    # Hashed once here: the unchanged-check in the parent process and the parser in a worker both need it.
    content_hash: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "content_hash", content_hash(self.content))


@dataclass(frozen=True, slots=True)
class PageMetadata:
    """Metadata found in an HTML page (meta tags, header lines) before text cleaning."""

    title: str | None = None
    published_date: date | None = None  # the publisher's own <meta> date
    source: str | None = None
    author: str | None = None
    guessed_date: date | None = None  # htmldate's reading of the page (its header's date line, URL …)


@dataclass(frozen=True, slots=True)
class Removal:
    """A piece of text dropped or merged by cleaning, and why."""

    reason: str
    text: str


# What a block of body text is, from the page's markup (HTML) or from the text's shape (plain text).
PARAGRAPH = "paragraph"
HEADING = "heading"
LIST_ITEM = "list_item"
TABLE_ROW = "table_row"  # one row of a data table, its cells joined by " | "
CAPTION = "caption"  # an image caption: removed by cleaning, never body text
QR_LABEL = "qr_label"  # the label beside a QR code (an app or account to follow): page furniture, removed
BLOCK_KINDS = (PARAGRAPH, HEADING, LIST_ITEM, TABLE_ROW, CAPTION, QR_LABEL)


@dataclass(frozen=True, slots=True)
class Block:
    """One line of body text: a paragraph, heading, list item, table row or caption."""

    text: str
    kind: str = PARAGRAPH
    is_link: bool = False  # the page makes the whole line one link (a list of links to other pages)
    links: int = 0  # how many of the page's links the line is made of, when they are most of its text

    @property
    def is_heading(self) -> bool:
        return self.kind == HEADING


@dataclass(frozen=True, slots=True)
class Extracted:
    """What extraction found in an HTML page: typed body blocks, page metadata, text dropped by zone."""

    blocks: tuple[Block, ...]
    page: PageMetadata
    removals: tuple[Removal, ...] = ()


@dataclass(frozen=True, slots=True)
class CleanText:
    """Body blocks of an article, the metadata lines found on the way, and everything removed."""

    blocks: tuple[Block, ...]
    title: str | None
    metadata_lines: tuple[str, ...]
    removals: tuple[Removal, ...]


@dataclass(frozen=True, slots=True)
class Section:
    section_id: str
    ordinal: int
    level: int
    heading: str
    parent_id: str | None


@dataclass(frozen=True, slots=True)
class Paragraph:
    paragraph_id: str
    ordinal: int
    section_id: str | None
    text: str
    kind: str = PARAGRAPH  # paragraph | list_item | table_row (headings are Sections)


@dataclass(frozen=True, slots=True)
class Indicator:
    indicator_id: str
    paragraph_id: str
    section_id: str | None
    ordinal: int  # position of the figure in the article
    metric: str
    metric_code: str | None
    value: float
    unit: str
    unit_implied: bool
    qualifier: str  # exact | over | approx | under
    raw_text: str
    sentence: str
    region: str | None
    region_province: str | None
    period: str | None
    period_start: date | None
    period_end: date | None
    origin: str = "prose"  # prose | table (a row of a statistical table)
    figure_kind: str = "value"  # value | target (力争到2025年达到100%) | range (value is its low end)
    value_high: float | None = None  # the high end of a range: 300至500元 -> value 300, value_high 500


@dataclass(frozen=True, slots=True)
class Article:
    """A fully parsed article: metadata, sections, paragraphs, indicators and removals."""

    doc_id: str
    uri: str
    source_name: str
    title: str
    published_date: date | None
    source: str | None
    author: str | None
    region_province: str | None
    region_city: str | None
    content_hash: str
    text_hash: str  # hash of the normalized body: equal for reposts of the same article
    sections: tuple[Section, ...] = ()
    paragraphs: tuple[Paragraph, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    removals: tuple[Removal, ...] = ()
    char_count: int = 0
    parser_version: str = field(default=PARSER_VERSION)


class ParseError(Exception):
    """An input that cannot become an article; carries the uri, the stage and a readable reason."""

    def __init__(self, uri: str, stage: str, reason: str) -> None:
        super().__init__(f"{uri}: {reason}")
        self.uri = uri
        self.stage = stage
        self.reason = reason
