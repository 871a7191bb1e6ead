"""The indicator engine scored against hand-annotated gold: printed figures, with targets that fail the suite."""

from __future__ import annotations

import pytest

from tests.parsers.scoring import FIELDS, IndicatorScore, score_corpus, seed_cases, unseen_cases

SEED_TARGET = 0.97  # precision and recall on value+unit (issue 3)
UNSEEN_TARGET = 0.90  # articles written for evaluation only, never tuned against
FIELD_TARGETS = {"qualifier": 0.97, "region": 0.95, "period": 0.95, "metric_code": 0.90}


def _print(score: IndicatorScore, title: str) -> None:
    print("\n" + score.report(title))
    for line in (score.misses + score.false_hits + score.field_errors)[:40]:
        print("   ", line)


def test_seed_figures_precision_and_recall() -> None:
    score = score_corpus(seed_cases())
    _print(score, "seeds")
    assert score.recall >= SEED_TARGET, score.misses
    assert score.precision >= SEED_TARGET, score.false_hits
    for name in FIELDS:
        assert score.accuracy(name) >= FIELD_TARGETS[name], (name, score.field_errors)


@pytest.mark.parametrize("folder", ["unseen", "unseen2"])
def test_unseen_figures_precision_and_recall(folder: str) -> None:
    score = score_corpus(unseen_cases(folder))
    _print(score, folder)
    assert score.recall >= UNSEEN_TARGET, score.misses
    assert score.precision >= UNSEEN_TARGET, score.false_hits
    for name in FIELDS:
        assert score.accuracy(name) >= FIELD_TARGETS[name] - 0.05, (name, score.field_errors)
