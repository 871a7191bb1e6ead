"""Indicator engine speed on one core: characters of body text per second (issue 3 asks for >= 1M).

    .venv/bin/python benchmarks/indicator_speed.py [--seconds 5]

Runs find_indicators over the paragraphs of every article in seeds/ and tests/gold/ (unseen sets), in
one process, and prints the best of several timed rounds (CPU time, so other load on the machine
matters less). Parsing before the engine (cleaning, sections) is not timed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from parsers.article import parse_document
from parsers.indicators import find_indicators
from parsers.records import Paragraph, RawDocument

ROOT = Path(__file__).resolve().parent.parent
CORPUS = [*sorted((ROOT / "seeds").glob("*.txt")), *sorted((ROOT / "tests" / "gold").glob("unseen*/*.txt"))]


def load_paragraphs() -> list[tuple[str | None, tuple[Paragraph, ...]]]:
    """(article region, paragraphs) for every article of the corpus."""
    out = []
    for path in CORPUS:
        article = parse_document(RawDocument(str(path), path.read_bytes(), is_html=False))
        out.append((article.region_city or article.region_province, article.paragraphs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time budget for the timed rounds")
    args = parser.parse_args()
    corpus = load_paragraphs()
    chars = sum(len(p.text) for _, paragraphs in corpus for p in paragraphs)
    figures = sum(len(find_indicators("d", ps, published=None, region=r)) for r, ps in corpus)
    best = float("inf")
    deadline = time.monotonic() + args.seconds
    rounds = 0
    while time.monotonic() < deadline or rounds < 3:
        started = time.process_time()
        for region, paragraphs in corpus:
            find_indicators("d", paragraphs, published=None, region=region)
        best = min(best, time.process_time() - started)
        rounds += 1
    rate = chars / best
    print(f"{len(corpus)} articles, {chars:,} characters, {figures} figures")
    print(
        f"best of {rounds} rounds: {best * 1000:.1f} ms CPU -> {rate / 1e6:.2f} M chars/s, {figures / best:,.0f} figures/s"
    )
    print(json.dumps({"articles": len(corpus), "chars": chars, "figures": figures, "chars_per_s": round(rate)}))


if __name__ == "__main__":
    main()
