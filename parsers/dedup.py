"""Duplicate paragraphs within an article, and keys for spotting reposts across articles."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from parsers.clean import match_key
from parsers.records import Block, Removal

# Below this many characters a "duplicate" is usually a stock phrase, not a repeated paragraph.
MIN_DUPLICATE_KEY = 20
HAN = re.compile(r"[\u4e00-\u9fff]")


def drop_duplicate_paragraphs(blocks: Sequence[Block]) -> tuple[list[Block], list[Removal]]:
    """Keep each paragraph once: exact and near copies (whitespace/punctuation, or contained in another
    paragraph) are dropped, the longer container is kept; headings are never dropped."""
    # headings, and lines without Chinese (code, formulas: repeated on purpose in technical posts), are kept
    keys = [match_key(b.text) if not b.is_heading and HAN.search(b.text) else "" for b in blocks]
    dropped: set[int] = set()
    for i, key in enumerate(keys):
        if len(key) < MIN_DUPLICATE_KEY:
            continue
        for j, other in enumerate(keys):
            if i == j or j in dropped or len(other) < len(key):
                continue
            if key == other and j > i:
                continue  # of two equal copies keep the first: the later one is dropped when i reaches it
            if key in other:
                dropped.add(i)
                break
    kept = [b for i, b in enumerate(blocks) if i not in dropped]
    removals = [Removal("duplicate_paragraph", blocks[i].text) for i in sorted(dropped)]
    return kept, removals


def body_text_hash(paragraph_texts: Sequence[str]) -> str:
    """Hash of the normalized body: the same article reposted on another site hashes the same."""
    digest = hashlib.sha256("\n".join(match_key(t) for t in paragraph_texts).encode("utf-8"))
    return digest.hexdigest()[:32]
