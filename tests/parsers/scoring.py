"""Scoring parsers against hand-annotated gold (tests/gold/): precision, recall and field accuracy."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parsers.article import parse_document
from parsers.records import Article, Indicator, RawDocument

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
GOLD = ROOT / "tests" / "gold"
FIELDS = ("qualifier", "region", "period", "metric_code")


def parse_file(path: Path) -> Article:
    return parse_document(RawDocument(str(path), path.read_bytes(), path.suffix in (".html", ".htm")))


def seed_cases() -> list[tuple[Path, dict[str, Any], dict[str, Any]]]:
    """(seed file, article gold, indicator gold) for every seed."""
    return [
        (
            path,
            json.loads((GOLD / "articles" / f"{path.stem}.json").read_text(encoding="utf-8")),
            json.loads((GOLD / "indicators" / f"{path.stem}.json").read_text(encoding="utf-8")),
        )
        for path in sorted(SEEDS.glob("*.txt"))
    ]


def unseen_cases(folder_name: str = "unseen") -> list[tuple[Path, dict[str, Any], dict[str, Any]]]:
    """(article file, article gold, indicator gold) for the held-out articles written for evaluation."""
    folder = GOLD / folder_name
    return [
        (
            path,
            json.loads((folder / f"{path.stem}.article.json").read_text(encoding="utf-8")),
            json.loads((folder / f"{path.stem}.indicators.json").read_text(encoding="utf-8")),
        )
        for path in sorted(folder.glob("*.txt"))
    ]


def _norm(value: Any) -> Any:
    return value.strip('“”"') if isinstance(value, str) else value


@dataclass
class MatchCounts:
    """Gold figures, predicted figures and how many matched, with what was missed and found wrongly."""

    gold: int = 0
    predicted: int = 0
    matched: int = 0
    misses: list[str] = field(default_factory=list)
    false_hits: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 1.0

    def add_counts(self, other: MatchCounts) -> None:
        self.gold += other.gold
        self.predicted += other.predicted
        self.matched += other.matched
        self.misses += other.misses
        self.false_hits += other.false_hits


@dataclass
class IndicatorScore(MatchCounts):
    field_hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    field_errors: list[str] = field(default_factory=list)

    def accuracy(self, name: str) -> float:
        return self.field_hits[name] / self.matched if self.matched else 1.0

    def add(self, other: IndicatorScore) -> None:
        self.add_counts(other)
        for k in FIELDS:
            self.field_hits[k] += other.field_hits[k]
        self.field_errors += other.field_errors

    def report(self, title: str) -> str:
        accs = "  ".join(f"{k} {self.accuracy(k):.3f}" for k in FIELDS)
        return (
            f"{title}: gold {self.gold}, predicted {self.predicted}, matched {self.matched} | "
            f"precision {self.precision:.3f} recall {self.recall:.3f} | {accs}"
        )


def _same_figure(gold: dict[str, Any], pred: Indicator) -> bool:
    return (
        math.isclose(float(gold["value"]), pred.value, rel_tol=1e-9, abs_tol=1e-9)
        and gold["unit"] == pred.unit
        and gold["sentence_contains"] in pred.sentence
    )


def score_indicators(name: str, gold: Sequence[dict[str, Any]], predicted: Sequence[Indicator]) -> IndicatorScore:
    """Match gold to predicted figures (value, unit and sentence) in reading order; compare fields."""
    score = IndicatorScore(gold=len(gold), predicted=len(predicted))
    used: set[int] = set()
    for g in gold:
        match = next((i for i, p in enumerate(predicted) if i not in used and _same_figure(g, p)), None)
        if match is None:
            score.misses.append(
                f"{name}: MISSED {g['raw_text']} ({g['value']} {g['unit']}) in {g['sentence_contains']}"
            )
            continue
        used.add(match)
        score.matched += 1
        p = predicted[match]
        for k in FIELDS:
            if _norm(g.get(k)) == _norm(getattr(p, k)):
                score.field_hits[k] += 1
            else:
                score.field_errors.append(f"{name}: {k} {g['raw_text']}: gold {g.get(k)!r} got {getattr(p, k)!r}")
    for i, p in enumerate(predicted):
        if i not in used:
            score.false_hits.append(f"{name}: EXTRA {p.raw_text} ({p.value} {p.unit}) in {p.sentence[:60]}")
    return score


def score_corpus(cases: Iterable[tuple[Path, dict[str, Any], dict[str, Any]]]) -> IndicatorScore:
    total = IndicatorScore()
    for path, _, gold in cases:
        article = parse_file(path)
        total.add(score_indicators(path.stem, gold["indicators"], article.indicators))
    return total
