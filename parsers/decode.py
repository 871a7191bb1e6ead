"""Bytes -> str, decided by us: BOM, then the HTTP charset, then <meta>, then sniffing.

Real Chinese pages declare charsets their bytes do not follow (a "gb2312" page holding GBK-only
characters such as 镕 and 喆; a "gb2312" page that is really UTF-8), so every declared charset is
checked against the bytes before it is trusted, and gb2312/gbk labels are read as gb18030, their superset.
"""

from __future__ import annotations

import codecs
import re
import zlib

from charset_normalizer import from_bytes

from parsers.records import ParseError

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
# Chinese legacy labels all decode correctly as gb18030, which is a superset of each.
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "cp936": "gb18030",
    "windows-936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "hz",
    "utf8": "utf-8",
}
GZIP_MAGIC = b"\x1f\x8b"
# A gzipped page or file inflating past this is not an article (a gzip bomb): refused, never inflated whole.
MAX_INFLATED_BYTES = 64 * 1024 * 1024
# Share of C0 control bytes above which input is binary, not text.
MAX_CONTROL_SHARE = 0.02
# Bytes that are neither text nor whitespace (tab, LF, VT, FF, CR are text); counted with bytes.translate.
CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or b > 13)


def normalize_charset(label: str | None) -> str | None:
    """Codec name for a declared charset label, or None when Python does not know it."""
    if not label:
        return None
    name = CHARSET_ALIASES.get(label.strip().lower(), label.strip().lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def meta_charset(data: bytes) -> str | None:
    """The charset declared in the first <meta> that declares one, within the first 4 KiB."""
    match = META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def _strict(data: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, CONTROL_BYTES))
    return controls > MAX_CONTROL_SHARE * len(sample)


def decode_bytes(data: bytes, *, uri: str, http_charset: str | None = None, is_html: bool = False) -> str:
    """Decode page or file bytes to text; raises ParseError for empty or binary input."""
    if data.startswith(GZIP_MAGIC):  # some servers gzip without being asked
        data = gunzip_capped(data, uri=uri)
    for bom, codec in BOMS:
        if data.startswith(bom):
            text = _strict(data, codec)
            if text is not None:
                return text
    if not data.strip():
        raise ParseError(uri, "decode", "empty file")
    if _looks_binary(data):
        raise ParseError(uri, "decode", "binary content, not text (NUL or control bytes)")
    declared = [http_charset, meta_charset(data) if is_html else None]
    for label in declared:
        text = _strict(data, normalize_charset(label))
        if text is not None:
            return text
    # Undeclared or wrongly declared: UTF-8 is by far the most common, and a strict UTF-8 decode of
    # Chinese legacy bytes practically never succeeds, so try it before the gb18030 family.
    for codec in ("utf-8", "gb18030", "big5"):
        text = _strict(data, codec)
        if text is not None and codec == "utf-8":
            return text
        if text is not None and _is_plausible_chinese(text):
            return text
    best = from_bytes(data).best()
    if best is None:
        raise ParseError(uri, "decode", "undecodable bytes: no text encoding fits")
    return str(best)


def gunzip_capped(data: bytes, *, uri: str, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """The inflated bytes of gzip data (every member); ParseError when corrupt or larger than `limit`."""
    out = bytearray()
    pending = data
    try:
        while pending:
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            out += inflater.decompress(pending, limit + 1 - len(out))
            if len(out) > limit or inflater.unconsumed_tail:
                raise ParseError(uri, "decode", f"gzip data inflating past {limit:,} bytes (a gzip bomb?)")
            if not inflater.eof:
                raise ParseError(uri, "decode", "corrupt gzip data: truncated")
            pending = inflater.unused_data if inflater.unused_data.startswith(GZIP_MAGIC) else b""
    except zlib.error as exc:
        raise ParseError(uri, "decode", f"corrupt gzip data: {exc}") from exc
    return bytes(out)


def _is_plausible_chinese(text: str) -> bool:
    """True when decoded text is mostly common CJK, ASCII and punctuation (not mojibake)."""
    sample = text[:4000]
    if not sample:
        return False
    common = sum(
        1
        for ch in sample
        if ch.isascii()
        or "\u4e00" <= ch <= "\u9fff"
        or "\u3000" <= ch <= "\u303f"
        or "\uff00" <= ch <= "\uffef"
        or ch in "“”‘’…—·"
    )
    return common / len(sample) > 0.95
