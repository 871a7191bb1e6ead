"""Articles parsed end to end (decode → clean → sections → metadata) against hand-annotated gold."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from parsers.clean import match_key
from parsers.records import Article
from tests.parsers.scoring import parse_file, seed_cases, unseen_cases

CASES = seed_cases() + unseen_cases("unseen") + unseen_cases("unseen2")
IDS = [path.stem for path, _, _ in CASES]


def _heading_key(text: str) -> str:
    return match_key(text)


def _outline(article: Article) -> list[tuple[str, int, str | None]]:
    by_id = {s.section_id: s for s in article.sections}
    return [
        (_heading_key(s.heading), s.level, _heading_key(by_id[s.parent_id].heading) if s.parent_id else None)
        for s in article.sections
    ]


def _gold_outline(gold: dict[str, Any]) -> list[tuple[str, int, str | None]]:
    return [
        (_heading_key(s["heading"]), s["level"], _heading_key(s["parent"]) if s.get("parent") else None)
        for s in gold["sections"]
    ]


@pytest.fixture(scope="module")
def parsed() -> dict[str, Article]:
    return {path.stem: parse_file(path) for path, _, _ in CASES}


@pytest.mark.parametrize(("path", "gold", "_ind"), CASES, ids=IDS)
def test_metadata(path: Path, gold: dict[str, Any], _ind: Any, parsed: dict[str, Article]) -> None:
    article = parsed[path.stem]
    assert article.title == gold["title"]
    assert (article.published_date.isoformat() if article.published_date else None) == gold["published_date"]
    assert article.source == gold["source"]
    assert article.author == gold["author"]
    assert (article.region_province, article.region_city) == (gold["region_province"], gold["region_city"])


@pytest.mark.parametrize(("path", "gold", "_ind"), CASES, ids=IDS)
def test_sections(path: Path, gold: dict[str, Any], _ind: Any, parsed: dict[str, Article]) -> None:
    article = parsed[path.stem]
    assert _outline(article) == _gold_outline(gold)
    headings = {_heading_key(s.heading) for s in article.sections}
    for text in gold.get("not_headings", []):
        assert _heading_key(text) not in headings, f"lead-in taken for a heading: {text}"


@pytest.mark.parametrize(("path", "gold", "_ind"), CASES, ids=IDS)
def test_paragraphs(path: Path, gold: dict[str, Any], _ind: Any, parsed: dict[str, Article]) -> None:
    article = parsed[path.stem]
    keys = [match_key(p.text) for p in article.paragraphs]
    assert len(article.paragraphs) == gold["paragraph_count"]
    for piece in gold.get("joined", []):
        assert any(match_key(piece) in k for k in keys), f"broken paragraph not rejoined: {piece}"
    for piece in gold.get("kept_once", []):
        assert sum(match_key(piece) in k for k in keys) == 1, f"not kept exactly once: {piece}"


@pytest.mark.parametrize(("path", "gold", "_ind"), CASES, ids=IDS)
def test_removed_text_is_logged_with_its_reason(
    path: Path, gold: dict[str, Any], _ind: Any, parsed: dict[str, Article]
) -> None:
    article = parsed[path.stem]
    logged = Counter((r.reason, match_key(r.text)) for r in article.removals)
    removed_text = {match_key(r.text) for r in article.removals}
    body = " ".join(match_key(p.text) for p in article.paragraphs)
    for item in gold["removed"]:
        key = match_key(item["text"])
        assert key in removed_text, f"not removed: {item}"
        if item["reason"] in ("breadcrumb", "video_placeholder", "share_links", "contact", "image_caption"):
            assert logged[(item["reason"], key)] >= 1, f"removed for another reason: {item}"
        if item["reason"] != "duplicate_paragraph":
            assert key not in body, f"furniture still in the body: {item}"


@pytest.mark.parametrize(("path", "_gold", "_ind"), CASES, ids=IDS)
def test_nothing_of_the_body_is_lost(path: Path, _gold: Any, _ind: Any, parsed: dict[str, Article]) -> None:
    """Every sentence of the input survives in paragraphs, headings, metadata or the cleaning log."""
    article = parsed[path.stem]
    kept = " ".join(
        [match_key(p.text) for p in article.paragraphs]
        + [match_key(s.heading) for s in article.sections]
        + [match_key(r.text) for r in article.removals]
        + [match_key(article.title)]
    )
    text = path.read_text(encoding="utf-8")
    for line in text.splitlines():
        for sentence in line.replace("!", "。").replace("?", "。").split("。"):
            key = match_key(sentence)
            if len(key) >= 8:
                assert key[:12] in kept or key[-12:] in kept, f"lost: {sentence[:40]}"
