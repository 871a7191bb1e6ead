"""Headings and their nesting -> Section and Paragraph records."""

from __future__ import annotations

from collections.abc import Sequence

from parsers.clean import heading_marker
from parsers.records import Block, Paragraph, Section, stable_id

PLAIN = "plain"  # an unnumbered standalone heading


def heading_kind(heading: str) -> str:
    marker = heading_marker(heading)
    return marker[0] if marker else PLAIN


def build_outline(doc_id: str, blocks: Sequence[Block]) -> tuple[tuple[Section, ...], tuple[Paragraph, ...]]:
    """Sections with levels and parents, and paragraphs attached to their innermost section.

    Levels follow the order in which numbering styles first appear (like an outline): the first
    style seen is level 1, a new style below it is level 2, and meeting a style already on the
    stack closes everything nested under it — so 第一部分 > (一), and 一、 > (一) > 1. both work.
    """
    sections: list[Section] = []
    paragraphs: list[Paragraph] = []
    stack: list[tuple[str, Section]] = []  # (kind, section) from outermost to innermost
    for block in blocks:
        if not block.is_heading:
            section_id = stack[-1][1].section_id if stack else None
            ordinal = len(paragraphs)
            paragraphs.append(Paragraph(stable_id(doc_id, "p", ordinal), ordinal, section_id, block.text, block.kind))
            continue
        kind = heading_kind(block.text)
        kinds = [k for k, _ in stack]
        if kind in kinds:
            del stack[kinds.index(kind) :]
        parent = stack[-1][1] if stack else None
        ordinal = len(sections)
        section = Section(
            section_id=stable_id(doc_id, "s", ordinal),
            ordinal=ordinal,
            level=len(stack) + 1,
            heading=block.text,
            parent_id=parent.section_id if parent else None,
        )
        sections.append(section)
        stack.append((kind, section))
    return tuple(sections), tuple(paragraphs)
