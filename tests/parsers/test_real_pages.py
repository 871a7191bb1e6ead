"""civic-ingest on the real pages of ../shared/real-pages (skipped when absent): no article text lost, and
the body scored against the hand-annotated gold of tests/gold/pages.

Nothing of the pages is copied here: they are read at run time, and the gold holds XPaths only.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import trafilatura

from parsers.article import parse_document
from parsers.clean import match_key
from parsers.decode import decode_bytes
from parsers.records import Article, ParseError, RawDocument

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT.parent / "shared" / "real-pages"
GOLD = ROOT / "tests" / "gold" / "pages"
sys.path.insert(0, str(ROOT / "benchmarks"))
from extraction_quality import article_text  # noqa: E402  (benchmarks/ is not a package)
from page_gold import annotated_pages, rouge_l  # noqa: E402

# Floor of the mean ROUGE-L F1 over the annotated pages (0.973 measured on the 69 pages when set; bare
# trafilatura 0.837).
MEAN_F1_FLOOR = 0.96
# A page may fall this far below bare trafilatura (the target), save the exceptions listed here.
PAGE_TOLERANCE = 0.02
SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")

pytestmark = pytest.mark.skipif(not PAGES.is_dir(), reason="no real pages at ../shared/real-pages")


@dataclass(frozen=True)
class Run:
    bare: str
    article: Article | None
    error: str | None


def all_pages() -> list[Path]:
    if not PAGES.is_dir():
        return []
    return sorted(PAGES.glob("*.html")) + sorted(PAGES.glob("*/*.html"))


_runs: dict[Path, Run] = {}


def run_page(page: Path) -> Run:
    """Bare trafilatura's text and our article of one page (computed once per test session)."""
    if page not in _runs:
        data = page.read_bytes()
        bare = trafilatura.extract(decode_bytes(data, uri=str(page), is_html=True)) or ""
        try:
            _runs[page] = Run(bare, parse_document(RawDocument(uri=str(page), content=data, is_html=True)), None)
        except ParseError as exc:
            _runs[page] = Run(bare, None, exc.reason)
    return _runs[page]


MIN_PART = 6  # a sentence split over our blocks is covered by pieces at least this long (or whole blocks)


def sentences(text: str) -> list[str]:
    return [s for line in text.splitlines() for s in SENTENCE_END.split(line) if match_key(s)]


def is_covered(sentence: str, pieces: str) -> bool:
    """The sentence's text is in our blocks/removals, whole or as consecutive runs of them.

    `pieces` holds the normalized keys of our lines, each between NUL separators. Trafilatura's text flattens
    a table cell holding a title paragraph and a loose source line into one line; we keep them apart.
    """
    key = match_key(sentence)
    if key in pieces:
        return True
    i = 0
    while i < len(key):
        j = i
        while j < len(key) and key[i : j + 1] in pieces:
            j += 1
        if j == i or (j - i < MIN_PART and f"\x00{key[i:j]}\x00" not in pieces):
            return False
        i = j
    return True


@pytest.mark.parametrize("page", all_pages(), ids=lambda p: p.relative_to(PAGES).as_posix())
def test_every_sentence_of_bare_trafilatura_is_kept_or_removed_with_a_reason(page: Path) -> None:
    run = run_page(page)
    assert run.article is not None, f"rejected: {run.error}"
    lines = [*article_text(run.article).splitlines(), *(r.text for r in run.article.removals if r.reason)]
    pieces = "\x00" + "\x00".join(match_key(line) for line in lines) + "\x00"
    missing = [s for s in sentences(run.bare) if not is_covered(s, pieces)]
    assert not missing, f"{len(missing)} sentences of bare trafilatura neither kept nor removed: {missing[:5]}"


def test_removals_name_their_reason_and_text() -> None:
    for page in all_pages():
        article = run_page(page).article
        assert article is not None
        assert all(r.reason and r.text for r in article.removals), page.name


def _scores() -> list[tuple[str, float, float]]:
    """(annotation name, our F1, bare trafilatura's F1) of every annotated page present."""
    out = []
    for gold in annotated_pages(GOLD, PAGES):
        run = run_page(gold.page)
        ours = article_text(run.article) if run.article else ""
        out.append((gold.name, rouge_l(ours, gold.text).f1, rouge_l(run.bare, gold.text).f1))
    return out


def test_mean_f1_against_the_annotated_gold_stays_above_the_floor() -> None:
    scores = _scores()
    if not scores:
        pytest.skip("no annotated page present")
    mean = sum(f1 for _, f1, _ in scores) / len(scores)
    bare = sum(b for _, _, b in scores) / len(scores)
    print(f"\nmean ROUGE-L F1 on {len(scores)} annotated pages: ours {mean:.3f}, bare trafilatura {bare:.3f}")
    assert mean >= MEAN_F1_FLOOR


def test_no_page_falls_well_below_bare_trafilatura() -> None:
    losses = [(name, round(f1 - bare, 3)) for name, f1, bare in _scores() if f1 < bare - PAGE_TOLERANCE]
    assert not losses, losses
