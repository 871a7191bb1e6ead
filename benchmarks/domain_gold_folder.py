"""Score a folder of whole-domain gold (the format of tests/gold/own: <stem>.json next to the text it names).

    .venv/bin/python -m benchmarks.domain_gold_folder tests/gold/own [more folders …] [--misses]

Prints figures recall and precision, code coverage (share of the figures the gold marks as an official quantity
that get a code) and purity (one code per quantity, one quantity per code) — the scoring of
tests/parsers/test_domain_gold.py, on any folder, e.g. a fresh held-out set before it joins the suite.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tests.parsers.domain_scoring import (
    LEVEL_KINDS,
    FigureScore,
    GoldCase,
    parse_text,
    score_codes,
    score_figures,
)


def folder_cases(folder: Path) -> list[GoldCase]:
    """Gold files of a folder whose text is there too (`file` names it, else <stem>.txt)."""
    cases = []
    for gold_path in sorted(folder.glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        if "figures" not in gold:
            continue
        text = folder / gold.get("file", gold_path.with_suffix(".txt").name)
        if text.exists():
            cases.append(GoldCase(gold_path.stem, text, gold))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--misses", action="store_true", help="print missed and extra figures and uncoded concepts")
    args = parser.parse_args()
    cases = [case for folder in args.folders for case in folder_cases(folder)]
    total = FigureScore()
    for case in cases:
        total.add(score_figures(case, parse_text(case.path)))  # as the suite parses them
    codes = score_codes(total.pairs)
    print(total.report(f"figures ({len(cases)} files)"))
    print(codes.report("codes"))
    if args.misses:
        for line in total.misses + total.false_hits + codes.impure():
            print("   ", line)
        for gold, found in total.pairs:
            if gold.get("concept") and gold.get("kind") in LEVEL_KINDS and not found.metric_code:
                print(f"    uncoded {gold['concept']}: {found.raw_text} | {found.metric}")


if __name__ == "__main__":
    main()
