"""Traditional Chinese text (政府网 繁体 gateways, Hong Kong and Taiwan reposts) read as simplified, character for character.

The mapping is one character to one character (hanziconv's table), so offsets do not move: figures are found
in the simplified text and reported with the characters as printed (34個 stays 34個 in raw_text).
Simplified text is left alone: the table also maps characters that are valid simplified ones (著, 乾),
so it is applied only to text that is clearly traditional.
"""

from __future__ import annotations

from functools import cache

from hanziconv.charmap import simplified_charmap, traditional_charmap

MIN_TRADITIONAL_SHARE = 0.03  # of the CJK characters: 3% traditional-only characters make a text traditional
SAMPLE_CHARS = 4000  # enough text to tell


EXTRA = {"佔": "占", "註": "注", "週": "周", "於": "于", "裏": "里"}  # variants the table leaves out


@cache
def _tables() -> tuple[dict[int, str], frozenset[str]]:
    pairs = {t: s for t, s in zip(traditional_charmap, simplified_charmap, strict=True) if t != s} | EXTRA
    only_traditional = frozenset(t for t in pairs if t not in set(simplified_charmap))
    return str.maketrans(pairs), only_traditional


def is_traditional(text: str) -> bool:
    """True when the text is written in traditional characters."""
    sample = text[:SAMPLE_CHARS]
    cjk = sum(1 for c in sample if "\u4e00" <= c <= "\u9fff")
    if not cjk:
        return False
    only_traditional = _tables()[1]
    return sum(1 for c in sample if c in only_traditional) >= MIN_TRADITIONAL_SHARE * cjk


def to_simplified(text: str) -> str:
    """The same text in simplified characters, of exactly the same length."""
    return text.translate(_tables()[0])
