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
from parsers.records import Article, Block, PageMetadata, Paragraph, ParseError, RawDocument, Section, stable_id
from parsers.regions import article_region
from parsers.script import is_traditional, to_simplified
from parsers.sections import build_outline
from parsers.tables import covered_keys, find_text_tables, read_html_tables, squeeze, table_indicators

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
        tables, html = read_html_tables(text)
        extracted = extract_html(html, uri=raw.uri, selector=selector)
        page = extracted.page
        cleaned = clean_blocks(extracted.blocks, known_title=page.title)
        zone_removals = extracted.removals
    else:
        tables = find_text_tables(text)
        page = PageMetadata()
        cleaned = clean_lines(text.splitlines())
        zone_removals = ()
    blocks, duplicates = drop_duplicate_paragraphs(cleaned.blocks)
    body_chars = sum(len(b.text) for b in blocks if not b.is_heading)
    if body_chars < MIN_BODY_CHARS and not tables:
        raise ParseError(raw.uri, "clean", f"no article body: {body_chars} characters left after cleaning")
    doc_id = document_id(raw.uri)
    sections, paragraphs = build_outline(doc_id, blocks)
    covered = covered_keys(tables)
    if tables:  # rows of a statistics table are table rows, whatever markup carried them
        paragraphs = tuple(
            replace(p, kind="table_row") if p.kind == "paragraph" and is_table_paragraph(p, covered) else p
            for p in paragraphs
        )
    published, outlet, author = parse_metadata_lines(cleaned.metadata_lines)
    title = cleaned.title or ""
    body = "\n".join(p.text for p in paragraphs)
    traditional = is_traditional(body)
    if traditional:
        region = article_region(to_simplified(title), to_simplified(body), default=raw.default_region)
    else:
        region = article_region(title, body, default=raw.default_region)
    article = Article(
        doc_id=doc_id,
        uri=raw.uri,
        source_name=raw.source_name,
        title=title,
        # the publisher's <meta> date, else the article's own byline, else htmldate's reading of the page
        published_date=page.published_date or published or page.guessed_date,
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
    texts = figure_texts(title, blocks, sections, paragraphs)
    prose = [p for p in texts if not is_table_paragraph(p, covered)] if tables else texts
    indicators = find_indicators(
        doc_id,
        prose,
        published=article.published_date,
        region=region.most_specific,
        rules=rules,
        traditional=traditional,
    )
    if tables:
        indicators += table_indicators(
            doc_id,
            tables,
            texts,
            region=region.most_specific or raw.default_region,
            rules=rules,
            first_ordinal=len(indicators),
        )
    return replace(article, indicators=indicators)


def figure_texts(
    title: str, blocks: Sequence[Block], sections: Sequence[Section], paragraphs: Sequence[Paragraph]
) -> list[Paragraph]:
    """The texts figures are read from, in reading order: the title, then headings and paragraphs.

    A figure in the title or a heading (山西大同10县区全覆盖, 全市10个县区) has no paragraph: its paragraph_id
    is '' (the heading's section_id tells where it was printed).
    """
    found = [Paragraph("", -1, None, title)] if title else []
    headings, body = iter(sections), iter(paragraphs)
    for block in blocks:
        if block.is_heading:
            section = next(headings)
            found.append(Paragraph("", -1, section.section_id, section.heading))
        else:
            found.append(next(body))
    return found


def is_table_paragraph(paragraph: Paragraph, covered: frozenset[str]) -> bool:
    """A paragraph that is a row (or a line) of a statistical table already read as a table: prose skips it.

    Matched by its text, so it works whether or not the extractor marks table rows (a `kind` of "table_row"):
    rows of other tables (a layout or a news table) are still read as prose.
    """
    return squeeze(paragraph.text) in covered
