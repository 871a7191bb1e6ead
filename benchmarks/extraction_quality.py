"""Article-body extraction quality on real pages: bare trafilatura, trafilatura recall mode, and ours.

Pages come from ../shared/real-pages (relative to the project root) and hand-made gold bodies from
--gold (default ../real-pages-gold): one <page-stem>.txt per page, one paragraph per line. Neither
folder is part of the project; pages without gold are skipped, and so is the whole run when the
pages folder is absent.

The score is ROUGE-L at character level: the longest common subsequence (LCS) between the extracted
body and the gold body, both concatenated with all whitespace removed. Precision = LCS / extracted
length, recall = LCS / gold length, F1 their harmonic mean.

    cd /work/main && .venv/bin/python benchmarks/extraction_quality.py [--gold DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from parsers.article import parse_document
from parsers.decode import decode_bytes
from parsers.records import ParseError, RawDocument

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAGES = "../shared/real-pages"
DEFAULT_GOLD = "../real-pages-gold"

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


def squash(text: str) -> str:
    """The text with all whitespace (including full-width spaces and NBSP) removed."""
    return _WHITESPACE.sub("", text)


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence of two strings (O(len(a) * len(b)) DP, one row kept)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    previous = [0] * (len(b) + 1)
    for char in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            if char == other:
                current.append(previous[j - 1] + 1)
            else:
                left = current[j - 1]
                up = previous[j]
                current.append(left if left > up else up)
        previous = current
    return previous[-1]


def rouge_l(candidate: str, gold: str) -> Score:
    """Character-level ROUGE-L of a candidate body against the gold body, whitespace ignored."""
    cand, ref = squash(candidate), squash(gold)
    if not cand or not ref:
        return Score(0.0, 0.0, 0.0)
    lcs = lcs_length(cand, ref)
    precision, recall = lcs / len(cand), lcs / len(ref)
    f1 = 2 * precision * recall / (precision + recall) if lcs else 0.0
    return Score(precision, recall, f1)


def bare_trafilatura(path: Path, data: bytes) -> str:
    return trafilatura.extract(decode_bytes(data, uri=str(path), is_html=True)) or ""


def recall_trafilatura(path: Path, data: bytes) -> str:
    return trafilatura.extract(decode_bytes(data, uri=str(path), is_html=True), favor_recall=True) or ""


def ours(path: Path, data: bytes) -> str:
    try:
        article = parse_document(RawDocument(uri=str(path), content=data, is_html=True))
    except ParseError as exc:
        print(f"  ours failed on {path.name}: {exc}", file=sys.stderr)
        return ""
    return "\n".join(p.text for p in article.paragraphs)


SYSTEMS: dict[str, Callable[[Path, bytes], str]] = {
    "bare": bare_trafilatura,
    "recall": recall_trafilatura,
    "ours": ours,
}


def resolve(folder: str) -> Path:
    """A folder given on the command line; relative paths are taken from the project root."""
    path = Path(folder)
    return path if path.is_absolute() else (ROOT / path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--gold", default=DEFAULT_GOLD, help="folder of <page-stem>.txt gold bodies (default: %(default)s)"
    )
    parser.add_argument("--pages", default=DEFAULT_PAGES, help="folder of .html pages (default: %(default)s)")
    args = parser.parse_args(argv)

    pages_dir, gold_dir = resolve(args.pages), resolve(args.gold)
    if not pages_dir.is_dir():
        print(f"skipped: no real pages at {pages_dir}")
        return 0
    if not gold_dir.is_dir():
        print(f"skipped: no gold folder at {gold_dir}")
        return 0

    rows: list[tuple[str, dict[str, Score]]] = []
    for page in sorted(pages_dir.glob("*.html")):
        gold_file = gold_dir / f"{page.stem}.txt"
        if not gold_file.is_file():
            print(f"skipped {page.name}: no gold {gold_file.name}")
            continue
        gold = gold_file.read_text(encoding="utf-8")
        data = page.read_bytes()
        rows.append((page.stem, {name: rouge_l(run(page, data), gold) for name, run in SYSTEMS.items()}))

    if not rows:
        print("no page has gold; nothing to score")
        return 0

    names = list(SYSTEMS)
    width = max(len(stem) for stem, _ in rows)
    header = f"{'page':<{width}}  " + "  ".join(f"{name + ' F1':>9} {'P':>5} {'R':>5}" for name in names)
    print(header)
    print("-" * len(header))
    for stem, scores in rows:
        cells = "  ".join(f"{s.f1:>9.3f} {s.precision:>5.2f} {s.recall:>5.2f}" for s in (scores[n] for n in names))
        print(f"{stem:<{width}}  {cells}")
    print("-" * len(header))
    means = []
    for name in names:
        count = len(rows)
        f1 = sum(scores[name].f1 for _, scores in rows) / count
        precision = sum(scores[name].precision for _, scores in rows) / count
        recall = sum(scores[name].recall for _, scores in rows) / count
        means.append(f"{f1:>9.3f} {precision:>5.2f} {recall:>5.2f}")
    print(f"{'mean (' + str(len(rows)) + ' pages)':<{width}}  " + "  ".join(means))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
