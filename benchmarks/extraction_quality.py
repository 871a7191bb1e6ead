"""Article text on real pages against hand-annotated gold: bare trafilatura, its recall mode, and civic-ingest.

Pages are read from ../shared/real-pages (never copied) and gold from tests/gold/pages/*.json: XPath
annotations of each page's title and body made by people who did not see the parser (see
benchmarks/page_gold.py for how the gold text is built and for the score). Pages without gold are skipped,
and so is the whole run when the pages folder is absent.

Systems, each given the page bytes:
  bare    decode (parsers.decode) + trafilatura.extract(html) with default settings
  recall  the same with favor_recall=True
  ours    parse_document (what `civic-ingest inspect FILE --json` shows): title + headings + paragraphs in order

Score: ROUGE-L F1 over word tokens (one CJK character, or one run of Latin letters/digits, each a token;
punctuation dropped), whole page text. Also printed: per-page parse time of ours vs bare trafilatura.

    .venv/bin/python benchmarks/extraction_quality.py [--gold DIR] [--pages DIR] [--match GLOB ...] [--exclude GLOB ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura
from page_gold import PageGold, Score, annotated_pages, rouge_l  # benchmarks/page_gold.py, beside this file

from parsers.article import parse_document
from parsers.decode import decode_bytes
from parsers.records import Article, ParseError, RawDocument

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAGES = "../shared/real-pages"
DEFAULT_GOLD = "tests/gold/pages"
TOLERANCE = 0.02  # a page this far below bare trafilatura is listed as a loss


def article_text(article: Article) -> str:
    """Title, then section headings and paragraphs in document order."""
    lines = [article.title]
    ordinal_of = {s.section_id: s.ordinal for s in article.sections}
    emitted = 0
    for paragraph in article.paragraphs:
        upto = ordinal_of[paragraph.section_id] if paragraph.section_id else -1
        while emitted < len(article.sections) and emitted <= upto:
            lines.append(article.sections[emitted].heading)
            emitted += 1
        lines.append(paragraph.text)
    lines.extend(s.heading for s in article.sections[emitted:])
    return "\n".join(lines)


def bare_trafilatura(page: Path, data: bytes) -> str:
    return trafilatura.extract(decode_bytes(data, uri=str(page), is_html=True)) or ""


def recall_trafilatura(page: Path, data: bytes) -> str:
    return trafilatura.extract(decode_bytes(data, uri=str(page), is_html=True), favor_recall=True) or ""


def ours(page: Path, data: bytes) -> str:
    try:
        return article_text(parse_document(RawDocument(uri=str(page), content=data, is_html=True)))
    except ParseError as exc:
        print(f"  ours failed on {page.name}: {exc}", file=sys.stderr)
        return ""


SYSTEMS: dict[str, Callable[[Path, bytes], str]] = {
    "bare": bare_trafilatura,
    "recall": recall_trafilatura,
    "ours": ours,
}
TIMED = ("bare", "ours")


def resolve(folder: str) -> Path:
    path = Path(folder)
    return path if path.is_absolute() else (ROOT / path)


def score_page(gold: PageGold) -> dict[str, Score]:
    """Scores of every system on one page."""
    data = gold.page.read_bytes()
    return {name: rouge_l(run(gold.page, data), gold.text) for name, run in SYSTEMS.items()}


def time_pages(golds: list[PageGold]) -> dict[str, list[float]]:
    """Seconds per page of the timed systems, measured after every page has been parsed once (warm caches:
    a worker parses thousands of pages, so first-call costs such as dateparser's locale tables are not per page)."""
    seconds: dict[str, list[float]] = {name: [] for name in TIMED}
    for gold in golds:
        data = gold.page.read_bytes()
        for name in TIMED:
            start = time.perf_counter()
            SYSTEMS[name](gold.page, data)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", default=DEFAULT_GOLD, help="folder of <name>.json annotations (default: %(default)s)")
    parser.add_argument("--pages", default=DEFAULT_PAGES, help="the real-pages folder (default: %(default)s)")
    parser.add_argument("--match", nargs="*", default=[], help="only annotation names matching these globs")
    parser.add_argument("--exclude", nargs="*", default=[], help="leave out annotation names matching these globs")
    parser.add_argument("--json", help="also write per-page scores to this file")
    args = parser.parse_args(argv)

    pages_dir, gold_dir = resolve(args.pages), resolve(args.gold)
    if not pages_dir.is_dir():
        print(f"skipped: no real pages at {pages_dir}")
        return 0
    golds = [
        g
        for g in annotated_pages(gold_dir, pages_dir)
        if (not args.match or any(fnmatch.fnmatch(g.name, m) for m in args.match))
        and not any(fnmatch.fnmatch(g.name, m) for m in args.exclude)
    ]
    if not golds:
        print(f"no annotated page under {gold_dir}; nothing to score")
        return 0
    rows = [(g.name, score_page(g), None) for g in golds]
    names = list(SYSTEMS)
    width = max(len(name) for name, _, _ in rows)
    header = f"{'page':<{width}}  " + "  ".join(f"{n + ' F1':>9} {'P':>5} {'R':>5}" for n in names)
    print(header)
    print("-" * len(header))
    for name, scores, _ in rows:
        cells = "  ".join(f"{s.f1:>9.3f} {s.precision:>5.2f} {s.recall:>5.2f}" for s in (scores[n] for n in names))
        flag = "  <" if scores["ours"].f1 < scores["bare"].f1 - TOLERANCE else ""
        print(f"{name:<{width}}  {cells}{flag}")
    print("-" * len(header))
    count = len(rows)
    means = {n: sum(s[n].f1 for _, s, _ in rows) / count for n in names}
    cells = []
    for n in names:
        precision = sum(s[n].precision for _, s, _ in rows) / count
        recall = sum(s[n].recall for _, s, _ in rows) / count
        cells.append(f"{means[n]:>9.3f} {precision:>5.2f} {recall:>5.2f}")
    print(f"{'mean (' + str(count) + ' pages)':<{width}}  " + "  ".join(cells))

    below = [(name, s["ours"].f1 - s["bare"].f1) for name, s, _ in rows if s["ours"].f1 < s["bare"].f1]
    print(f"\npages where ours is below bare trafilatura ({len(below)}):")
    for name, delta in sorted(below, key=lambda x: x[1]):
        print(
            f"  {name:<{width}}  {delta:+.3f}{'  (more than ' + str(TOLERANCE) + ' below)' if delta < -TOLERANCE else ''}"
        )
    seconds = time_pages(golds)
    mean_ms = {n: sum(t) / len(t) * 1000 for n, t in seconds.items()}
    median_ms = {n: statistics.median(t) * 1000 for n, t in seconds.items()}
    print(
        f"\nparse time per page (warm, {count} pages): ours {mean_ms['ours']:.1f} ms mean / {median_ms['ours']:.1f} median "
        f"(decode + extract + clean + outline + indicators), bare trafilatura {mean_ms['bare']:.1f} / "
        f"{median_ms['bare']:.1f} ms (decode + extract); ratio {mean_ms['ours'] / mean_ms['bare']:.2f} mean, "
        f"{median_ms['ours'] / median_ms['bare']:.2f} median"
    )
    if args.json:
        out = {
            "pages": {name: {n: round(s[n].f1, 4) for n in names} for name, s, _ in rows},
            "mean": {n: round(v, 4) for n, v in means.items()},
            "ms_per_page": {n: round(v, 1) for n, v in mean_ms.items()},
        }
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
