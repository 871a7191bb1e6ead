"""Scoring against the whole-domain gold (tests/gold/texts, tests/gold/tables): figures by line and as printed,
table rows with value, unit, period and region, and code coverage and purity.

The texts and tables are other people's: the gold names figures by line and as printed, and the texts are
read from ../shared at run time (the tests skip when they are absent).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parsers.article import parse_document
from parsers.records import Article, Indicator, RawDocument
from parsers.tables import squeeze
from tests.parsers.scoring import MatchCounts

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
GOLD = ROOT / "tests" / "gold"
TEXTS, TABLES = SHARED / "real-texts", SHARED / "stat-tables"
OWN = GOLD / "own"  # articles written for this gold (ours): <stem>.txt + <stem>.json

# Development files; the others were held out until the rules were written (README: first-pass scores).
DEV_TEXTS = ("01", "03", "08", "09", "11", "14", "15", "16", "19", "23")
DEV_TABLES = ("01", "03", "04", "06", "08", "10", "12", "14", "17")
CONTEXT = 8  # characters around a figure compared to tell which line it was printed on


@dataclass(frozen=True, slots=True)
class GoldCase:
    stem: str
    path: Path  # the text the gold was annotated on
    gold: dict[str, Any]

    @property
    def number(self) -> str:
        return self.stem.split("_", 1)[0]


def _cases(gold_dir: Path, text_dir: Path, numbers: Iterable[str] | None) -> list[GoldCase]:
    wanted = set(numbers) if numbers is not None else None
    found = []
    for gold_path in sorted(gold_dir.glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        path = text_dir / gold["file"]
        case = GoldCase(gold_path.stem, path, gold)
        if path.exists() and (wanted is None or case.number in wanted):
            found.append(case)
    return found


def text_cases(numbers: Iterable[str] | None = None) -> list[GoldCase]:
    """Real texts with figure gold (and the table files that are prose bulletins)."""
    prose_tables = [c for c in _cases(GOLD / "tables", TABLES, numbers) if "figures" in c.gold]
    return _cases(GOLD / "texts", TEXTS, numbers) + prose_tables


def own_cases() -> list[GoldCase]:
    return [
        GoldCase(p.stem, p.with_suffix(".txt"), json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(OWN.glob("*.json"))
    ]


def table_cases(numbers: Iterable[str] | None = None) -> list[GoldCase]:
    return [c for c in _cases(GOLD / "tables", TABLES, numbers) if "rows" in c.gold]


def parse_text(path: Path, *, region: str | None = None, is_html: bool = False) -> Article:
    return parse_document(RawDocument(str(path), path.read_bytes(), is_html, default_region=region))


# --- where a figure was printed -------------------------------------------------------------------
def _common_suffix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def figure_lines(lines: Sequence[str], indicator: Indicator) -> list[int]:
    """Line numbers (1-based) where this figure may have been printed, best match first."""
    raw, sentence = indicator.raw_text, indicator.sentence
    at = sentence.find(raw)
    left = sentence[max(0, at - CONTEXT) : at] if at >= 0 else ""
    right = sentence[at + len(raw) : at + len(raw) + CONTEXT] if at >= 0 else ""
    scored = []
    for number, line in enumerate(lines, 1):
        start = line.find(raw)
        while start >= 0:
            fit = _common_suffix(line[:start], left) + _common_prefix(line[start + len(raw) :], right)
            scored.append((-fit, number))
            start = line.find(raw, start + 1)
    return [n for _, n in sorted(scored)]


def _same_value(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-4, abs_tol=0.011)


def _same_printed(gold: str, raw: str) -> bool:
    return gold == raw or (bool(raw) and (raw in gold or gold in raw))


# --- figures --------------------------------------------------------------------------------------
@dataclass
class FigureScore(MatchCounts):
    unit_right: int = 0
    pairs: list[tuple[dict[str, Any], Indicator]] = field(default_factory=list)

    def add(self, other: FigureScore) -> None:
        self.add_counts(other)
        self.unit_right += other.unit_right
        self.pairs += other.pairs

    def report(self, title: str) -> str:
        unit = self.unit_right / self.matched if self.matched else 1.0
        return (
            f"{title}: gold {self.gold}, predicted {self.predicted}, matched {self.matched} | "
            f"precision {self.precision:.3f} recall {self.recall:.3f} unit {unit:.3f}"
        )


UNIT_EQUIVALENTS = {"名": "人", "位": "人"}


def score_figures(case: GoldCase, article: Article) -> FigureScore:
    """Gold figures (line, printed, value) against the article's figures (prose and table rows alike)."""
    lines = case.path.read_text(encoding="utf-8").split("\n")
    gold = case.gold["figures"]
    predicted = list(article.indicators)
    score = FigureScore(gold=len(gold), predicted=len(predicted))
    where = [figure_lines(lines, p) for p in predicted]
    used: set[int] = set()
    matches: dict[int, int] = {}
    # first the figures whose best line is the gold line, then those printed alike on nearby lines
    for candidates in (1, 3):
        for n, g in enumerate(gold):
            if n in matches:
                continue
            match = next(
                (
                    i
                    for i, p in enumerate(predicted)
                    if i not in used
                    and g["line"] in where[i][:candidates]
                    and _same_value(float(g["value"]), p.value)
                    and _same_printed(g["printed"], p.raw_text)
                ),
                None,
            )
            if match is not None:
                used.add(match)
                matches[n] = match
    for n, g in enumerate(gold):
        if n not in matches:
            score.misses.append(f"{case.stem}: MISSED L{g['line']} {g['printed']} ({g['value']} {g['unit']})")
            continue
        score.matched += 1
        p = predicted[matches[n]]
        score.unit_right += UNIT_EQUIVALENTS.get(p.unit, p.unit) == g["unit"]
        score.pairs.append((g, p))
    for i, p in enumerate(predicted):
        if i not in used:
            line = where[i][0] if where[i] else "?"
            score.false_hits.append(f"{case.stem}: EXTRA L{line} {p.raw_text} ({p.value} {p.unit}) {p.metric[:20]}")
    return score


# --- table rows -----------------------------------------------------------------------------------
@dataclass
class RowScore:
    gold: int = 0
    predicted: int = 0
    matched: int = 0
    fields_right: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    field_errors: list[str] = field(default_factory=list)
    pairs: list[tuple[dict[str, Any], Indicator]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 1.0

    @property
    def recall_all_right(self) -> float:
        """Share of gold rows found with value, unit, period and region all right."""
        return self.fields_right["all"] / self.gold if self.gold else 1.0

    def accuracy(self, name: str) -> float:
        return self.fields_right[name] / self.matched if self.matched else 1.0

    def add(self, other: RowScore) -> None:
        self.gold += other.gold
        self.predicted += other.predicted
        self.matched += other.matched
        self.fields_right.update(other.fields_right)
        self.misses += other.misses
        self.field_errors += other.field_errors
        self.pairs += other.pairs

    def report(self, title: str) -> str:
        accs = "  ".join(f"{k} {self.accuracy(k):.3f}" for k in ("unit", "period", "region"))
        return (
            f"{title}: gold rows {self.gold}, table figures {self.predicted}, matched {self.matched} | "
            f"recall {self.recall:.3f}, with value+unit+period+region right {self.recall_all_right:.3f} | {accs}"
        )


def _label_matches(gold: dict[str, Any], p: Indicator) -> bool:
    label = squeeze(gold["label"])
    return label in squeeze(p.sentence) or label in squeeze(p.metric)


def score_rows(case: GoldCase, article: Article) -> RowScore:
    """Gold table rows against the article's table figures: found (value and label), then unit, period, region."""
    gold = case.gold["rows"]
    predicted = [i for i in article.indicators if i.origin == "table"]
    score = RowScore(gold=len(gold), predicted=len(predicted))
    used: set[int] = set()
    for g in gold:
        match = next(
            (
                i
                for i, p in enumerate(predicted)
                if i not in used and _same_value(float(g["value"]), p.value) and _label_matches(g, p)
            ),
            None,
        )
        if match is None:
            score.misses.append(f"{case.stem}: MISSED L{g['line']} {' › '.join(g['path'])} = {g['value']} {g['unit']}")
            continue
        used.add(match)
        score.matched += 1
        p = predicted[match]
        score.pairs.append((g, p))
        region = g.get("region", case.gold.get("region"))
        checks = {
            "unit": p.unit == g["unit"],
            "period": str(p.period_end) == str(g.get("period_end"))
            and str(p.period_start) == str(g.get("period_start")),
            "region": p.region == region,
        }
        for name, ok in checks.items():
            score.fields_right[name] += ok
            if not ok:
                got = {"unit": p.unit, "period": (p.period_start, p.period_end), "region": p.region}[name]
                want = {"unit": g["unit"], "period": (g.get("period_start"), g.get("period_end")), "region": region}[
                    name
                ]
                score.field_errors.append(f"{case.stem}: {name} L{g['line']} {g['label']}: gold {want} got {got}")
        score.fields_right["all"] += all(checks.values())
    return score


# --- codes ----------------------------------------------------------------------------------------
@dataclass
class CodeScore:
    concept_figures: int = 0
    coded: int = 0
    concept_codes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    code_concepts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def coverage(self) -> float:
        return self.coded / self.concept_figures if self.concept_figures else 1.0

    @property
    def purity(self) -> float:
        """Share of coded concept figures whose code is their concept's main code and whose concept is their
        code's main concept: 1.0 when each concept has one code and each code one concept."""
        if not self.coded:
            return 1.0
        right = 0
        for concept, codes in self.concept_codes.items():
            for code, n in codes.items():
                if code == codes.most_common(1)[0][0] and concept == self.code_concepts[code].most_common(1)[0][0]:
                    right += n
        return right / self.coded

    def impure(self) -> list[str]:
        found = [f"concept {c} -> codes {dict(v)}" for c, v in self.concept_codes.items() if len(v) > 1]
        found += [f"code {c} <- concepts {dict(v)}" for c, v in self.code_concepts.items() if len(v) > 1]
        return found

    def report(self, title: str) -> str:
        return (
            f"{title}: official-quantity figures {self.concept_figures}, coded {self.coded} | "
            f"coverage {self.coverage:.3f} purity {self.purity:.3f}"
        )


LEVEL_KINDS = frozenset({"count", "rate", "amount", "target", None})


def score_codes(pairs: Iterable[tuple[dict[str, Any], Indicator]]) -> CodeScore:
    """Coverage and purity of metric codes on the matched figures the gold marks with a concept.

    Changes (比上年增加5488对, 同比上升9.2%) are left out: they are not the quantity itself, and a code is
    what makes figures comparable in `observations`.
    """
    score = CodeScore()
    for gold, predicted in pairs:
        concept = gold.get("concept")
        if not concept or gold.get("kind") not in LEVEL_KINDS:
            continue
        score.concept_figures += 1
        if predicted.metric_code:
            score.coded += 1
            score.concept_codes[concept][predicted.metric_code] += 1
            score.code_concepts[predicted.metric_code][concept] += 1
    return score
