"""Duplicate paragraphs within an article, and keys for spotting reposts across articles."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence

from parsers.clean import match_key
from parsers.records import Block, Removal

# Below this many characters a "duplicate" is usually a stock phrase, not a repeated paragraph.
MIN_DUPLICATE_KEY = 20
# A paragraph this long printed twice is the CMS printing it twice. A shorter line that recurs (an
# interviewer's question put to each guest, a refrain, a label) is a duplicate only when the page repeats
# it with its neighbours: a run of paragraphs printed twice.
MIN_LONE_DUPLICATE = 50
HAN = re.compile(r"[\u4e00-\u9fff]")


def _copies_of(keys: Sequence[str], i: int, dropped: set[int]) -> Iterator[int]:
    """Indexes of the paragraphs that block i repeats: equal earlier copies, or longer paragraphs holding it."""
    key = keys[i]
    for j, other in enumerate(keys):
        if i == j or j in dropped or len(other) < len(key):
            continue
        if key == other and j > i:
            continue  # of two equal copies keep the first: the later one is dropped when i reaches it
        if key in other:
            yield j


def _same(keys: Sequence[str], a: int, b: int) -> bool:
    """Blocks a and b exist and one holds the other (a neighbour printed twice with its paragraph)."""
    if not (0 <= a < len(keys) and 0 <= b < len(keys)) or a == b:
        return False
    ka, kb = keys[a], keys[b]
    return len(ka) >= MIN_DUPLICATE_KEY and len(kb) >= MIN_DUPLICATE_KEY and (ka in kb or kb in ka)


def is_printed_twice(keys: Sequence[str], i: int, j: int) -> bool:
    """Block i repeats block j because the page printed it twice, not because the article says it again.

    Long paragraphs are never said twice on purpose; a short one is printed twice when it sits next to its
    copy or when the paragraph before or after it repeats too (a run of paragraphs printed again).
    """
    if min(len(keys[i]), len(keys[j])) >= MIN_LONE_DUPLICATE or abs(i - j) == 1:
        return True
    return _same(keys, i - 1, j - 1) or _same(keys, i + 1, j + 1)


def drop_duplicate_paragraphs(blocks: Sequence[Block]) -> tuple[list[Block], list[Removal]]:
    """Keep each paragraph the page printed twice once: exact and near copies (whitespace/punctuation, or
    contained in another paragraph) are dropped, the longer container is kept; headings are never dropped,
    and neither is a short line the article repeats with different text after each (a question put to each
    of several people)."""
    # headings, and lines without Chinese (code, formulas: repeated on purpose in technical posts), are kept
    keys = [match_key(b.text) if not b.is_heading and HAN.search(b.text) else "" for b in blocks]
    dropped: set[int] = set()
    for i, key in enumerate(keys):
        if len(key) < MIN_DUPLICATE_KEY:
            continue
        if any(is_printed_twice(keys, i, j) for j in _copies_of(keys, i, dropped)):
            dropped.add(i)
    kept = [b for i, b in enumerate(blocks) if i not in dropped]
    removals = [Removal("duplicate_paragraph", blocks[i].text) for i in sorted(dropped)]
    return kept, removals


def body_text_hash(paragraph_texts: Sequence[str]) -> str:
    """Hash of the normalized body: the same article reposted on another site hashes the same."""
    digest = hashlib.sha256("\n".join(match_key(t) for t in paragraph_texts).encode("utf-8"))
    return digest.hexdigest()[:32]
