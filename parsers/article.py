"""One raw document -> one Article: decode, extract, clean, dedup, outline, metadata, indicators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from parsers.clean import clean_blocks, clean_lines
from parsers.decode import decode_bytes
from parsers.dedup import body_text_hash, drop_duplicate_paragraphs
from parsers.extract import extract_html
from parsers.indicators import find_indicators
from parsers.metadata import author_from_dateline, author_from_title, parse_metadata_lines
from parsers.metrics import MetricRule
from parsers.records import Article, PageMetadata, ParseError, RawDocument, stable_id
from parsers.regions import article_region
from parsers.sections import build_outline

MIN_BODY_CHARS = 50  # less body than this after cleaning is not an article


def document_id(uri: str) -> str:
    """Deterministic id of a document from its canonical URL or path."""
    return stable_id("doc", uri)


def parse_document(
    raw: RawDocument, *, selector: str | None = None, rules: Sequence[MetricRule] | None = None
) -> Article:
    """Parse one input into an Article; raises ParseError (with stage and reason) when it is not one."""
    text = decode_bytes(raw.content, uri=raw.uri, http_charset=raw.http_charset, is_html=raw.is_html)
    if raw.is_html:
        extracted = extract_html(text, uri=raw.uri, selector=selector)
        page = extracted.page
        cleaned = clean_blocks(extracted.blocks, known_title=page.title)
        zone_removals = extracted.removals
    else:
        page = PageMetadata()
        cleaned = clean_lines(text.splitlines())
        zone_removals = ()
    blocks, duplicates = drop_duplicate_paragraphs(cleaned.blocks)
    body_chars = sum(len(b.text) for b in blocks if not b.is_heading)
    if body_chars < MIN_BODY_CHARS:
        raise ParseError(raw.uri, "clean", f"no article body: {body_chars} characters left after cleaning")
    doc_id = document_id(raw.uri)
    sections, paragraphs = build_outline(doc_id, blocks)
    published, outlet, author = parse_metadata_lines(cleaned.metadata_lines)
    title = cleaned.title or ""
    body = "\n".join(p.text for p in paragraphs)
    region = article_region(title, body, default=raw.default_region)
    article = Article(
        doc_id=doc_id,
        uri=raw.uri,
        source_name=raw.source_name,
        title=title,
        published_date=published or page.published_date,
        source=outlet or page.source,
        author=author
        or page.author
        or author_from_title(title)
        or (author_from_dateline(paragraphs[0].text) if paragraphs else None),
        region_province=region.province,
        region_city=region.city,
        content_hash=raw.content_hash,
        text_hash=body_text_hash([p.text for p in paragraphs]),
        sections=sections,
        paragraphs=paragraphs,
        removals=cleaned.removals + tuple(duplicates) + zone_removals,
        char_count=len(body),
    )
    indicators = find_indicators(
        doc_id, paragraphs, published=article.published_date, region=region.most_specific, rules=rules
    )
    return replace(article, indicators=indicators)
