"""Side by side on each real page: bare `trafilatura.extract` and our `parse_document` paragraphs.

For the parser owner to judge by eye: characters, paragraph count, how each body starts and ends (footers
and related-link lists show up at the end). Pages are read from ../shared/real-pages and never copied.
Both sides get text decoded by parsers/decode.py, so the comparison is about extraction, not encodings.

    cd /work/main && .venv/bin/python benchmarks/extraction_real_pages.py [PAGES_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import trafilatura

from parsers.article import parse_document
from parsers.decode import decode_bytes
from parsers.records import ParseError, RawDocument

PAGES = Path(__file__).resolve().parents[1].parent / "shared" / "real-pages"
SHOW = 50  # characters shown from the start and the end of each body


def ends(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 2 * SHOW + 5 else f"{flat[:SHOW]} … {flat[-SHOW:]}"


def compare(path: Path) -> str:
    data = path.read_bytes()
    html = decode_bytes(data, uri=str(path), is_html=True)
    bare = trafilatura.extract(html) or ""
    try:
        article = parse_document(RawDocument(uri=str(path), content=data, is_html=True))
        ours = "\n".join(p.text for p in article.paragraphs)
        ours_line = f"  ours        {len(ours):>6} chars {len(article.paragraphs):>3} paras  {ends(ours)}"
    except ParseError as exc:
        ours_line = f"  ours        rejected [{exc.stage}] {exc.reason}"
    bare_paras = len([line for line in bare.splitlines() if line.strip()])
    return "\n".join([path.name, f"  trafilatura {len(bare):>6} chars {bare_paras:>3} paras  {ends(bare)}", ours_line])


def main(argv: list[str]) -> int:
    pages = Path(argv[0]) if argv else PAGES
    if not pages.is_dir():
        print(f"skipped: no real pages at {pages}")
        return 0
    for path in sorted(pages.glob("*.htm*")):
        print(compare(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
