"""Metric vocabulary: map a metric phrase + unit to a stable `metric_code` (see data/metrics.toml)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Units that count the same kind of thing: a rule declared for 家 also accepts 个 and vice versa.
UNIT_FAMILIES = (
    {"家", "个", "所", "处", "座"},
    {"人", "名", "位", "人次"},
    {"元"},
    {"%"},
    {"项", "个"},
    {"笔", "单"},
    {"张", "床"},
)
DEFAULT_TOPIC = "other"


@dataclass(frozen=True, slots=True)
class MetricRule:
    code: str
    label: str
    units: frozenset[str]
    pattern: re.Pattern[str]
    none_terms: tuple[str, ...] = ()
    topic: str = DEFAULT_TOPIC  # vocabulary group: assistance, elderly, children … (coverage by topic)
    fallback: bool = False  # a catch-all (投入资金, 受益人数): tried only when no specific rule fits any wording

    def matches(self, metric: str, unit: str) -> bool:
        return (
            unit in self.units
            and self.pattern.search(metric) is not None
            and not any(t in metric for t in self.none_terms)
        )


def _widen(units: Sequence[str]) -> frozenset[str]:
    wide = set(units)
    for family in UNIT_FAMILIES:
        if wide & family:
            wide |= family
    return frozenset(wide)


def parse_rules(toml_text: str) -> tuple[MetricRule, ...]:
    """Rules from a vocabulary file's text; raises ValueError naming the entry that is malformed."""
    data = tomllib.loads(toml_text)
    rules = []
    for i, entry in enumerate(data.get("metric", [])):
        try:
            rules.append(
                MetricRule(
                    code=entry["code"],
                    label=entry.get("label", entry["code"]),
                    units=_widen(entry["units"]),
                    pattern=re.compile(entry["pattern"]),
                    none_terms=tuple(entry.get("none", ())),
                    topic=str(entry.get("topic", DEFAULT_TOPIC)),
                    fallback=bool(entry.get("fallback", False)),
                )
            )
        except (KeyError, TypeError, re.error) as exc:
            raise ValueError(f"metric entry {i} ({entry.get('code', '?')}): missing or bad field: {exc}") from exc
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class Rewrite:
    """One normalisation of a metric phrase (最低生活保障 -> 低保, a leading 累计发放 dropped)."""

    pattern: re.Pattern[str]
    replace: str


def parse_rewrites(toml_text: str) -> tuple[Rewrite, ...]:
    """The `[[rewrite]]` entries of a vocabulary file, applied in order by `canonical`."""
    data = tomllib.loads(toml_text)
    rewrites = []
    for i, entry in enumerate(data.get("rewrite", [])):
        try:
            rewrites.append(Rewrite(re.compile(entry["pattern"]), str(entry.get("replace", ""))))
        except (KeyError, TypeError, re.error) as exc:
            raise ValueError(f"rewrite entry {i}: missing or bad field: {exc}") from exc
    return tuple(rewrites)


@cache
def default_rewrites() -> tuple[Rewrite, ...]:
    return parse_rewrites(resources.files("parsers").joinpath("data/metrics.toml").read_text(encoding="utf-8"))


@cache
def canonical(metric: str) -> str:
    """The metric phrase in the vocabulary's own wording: issuers' synonyms and filler verbs rewritten."""
    previous = None
    while previous != metric:
        previous = metric
        for rewrite in default_rewrites():
            metric = rewrite.pattern.sub(rewrite.replace, metric)
    return metric


@cache
def default_rules() -> tuple[MetricRule, ...]:
    """The vocabulary shipped with civic-ingest."""
    return parse_rules(resources.files("parsers").joinpath("data/metrics.toml").read_text(encoding="utf-8"))


def rules_by_unit(rules: Sequence[MetricRule], *, fallback: bool | None = None) -> dict[str, tuple[MetricRule, ...]]:
    """unit -> the rules that can apply to it, in order (most figures are checked against a handful).

    `fallback` False keeps only the specific rules, True only the catch-alls, None all of them."""
    kept = tuple(r for r in rules if fallback is None or r.fallback == fallback)
    return _rules_by_unit(kept)


@cache
def _rules_by_unit(rules: tuple[MetricRule, ...]) -> dict[str, tuple[MetricRule, ...]]:
    units = {u for r in rules for u in r.units}
    return {u: tuple(r for r in rules if u in r.units) for u in units}


_UNIONS: dict[int, tuple[tuple[MetricRule, ...], re.Pattern[str]]] = {}  # by id of a unit's rules (kept alive)
MAX_UNIONS = 256


def _union(rules: tuple[MetricRule, ...]) -> re.Pattern[str]:
    """One pattern matching whatever any of these rules' patterns matches: most phrases match none, and one
    search tells so (the rules are then tried in order only for the phrases that match some rule)."""
    known = _UNIONS.get(id(rules))
    if known is None or known[0] is not rules:
        if len(_UNIONS) > MAX_UNIONS:
            _UNIONS.clear()
        known = (rules, re.compile("|".join(f"(?:{r.pattern.pattern})" for r in rules)))
        _UNIONS[id(rules)] = known
    return known[1]


def code_metric(metric: str, unit: str, rules: dict[str, tuple[MetricRule, ...]]) -> str | None:
    """The first rule's code that this metric phrase (as printed, else in canonical wording) and unit match."""
    candidates = rules.get(unit, ())
    if not candidates:
        return None
    union = _union(candidates)
    found = None
    if union.search(metric):
        found = next((r.code for r in candidates if r.matches(metric, unit)), None)
    if found is None:
        normal = canonical(metric)
        if normal == metric or not union.search(normal):
            return None
        if normal != metric:  # a rule's `none` terms still apply to the phrase as printed
            found = next(
                (r.code for r in candidates if r.matches(normal, unit) and not any(t in metric for t in r.none_terms)),
                None,
            )
    return found


def code_topics(rules: Sequence[MetricRule]) -> dict[str, str]:
    """code -> its vocabulary group (the first rule declaring a code decides)."""
    topics: dict[str, str] = {}
    for rule in rules:
        topics.setdefault(rule.code, rule.topic)
    return topics
