"""Response bodies: decompressed a piece at a time under a size cap, and sniffed before they are trusted.

A gzip bomb (a few KiB that inflate to gigabytes) must fail at the cap, not after: each piece of the
raw stream is inflated with a bound on its output, so memory never holds more than the cap. Sniffing
reads the first bytes of a body: an image, PDF, archive or executable is not a page whatever its
Content-Type says, and a page sent as application/octet-stream is still a page.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

try:  # brotli is declared, but a body in br must still fail cleanly where it is missing
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

# Content codings asked for in Accept-Encoding: those we can inflate under a cap.
ACCEPT_ENCODING = "gzip, deflate, br" if brotli is not None else "gzip, deflate"
GZIP_MAGIC = b"\x1f\x8b"

# Signatures of files that are not web pages: (offset, bytes, what a person would call it).
MAGIC = (
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF87a", "a GIF image"),
    (0, b"GIF89a", "a GIF image"),
    (0, b"II*\x00", "a TIFF image"),
    (0, b"MM\x00*", "a TIFF image"),
    (0, b"%PDF-", "a PDF document"),
    (0, b"PK\x03\x04", "a ZIP archive (or an Office/OFD document)"),
    (0, b"PK\x05\x06", "a ZIP archive"),
    (0, b"\x1f\x8b", "gzip data"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (0, b"Rar!\x1a\x07", "a RAR archive"),
    (0, b"\xfd7zXZ\x00", "an XZ archive"),
    (0, b"BZh", "a bzip2 archive"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (doc/xls/ppt)"),
    (0, b"\x7fELF", "an executable"),
    (0, b"MZ\x90\x00", "a Windows executable"),
    (0, b"OggS", "an audio/video file"),
    (0, b"ID3", "an MP3 file"),
    (0, b"\x1aE\xdf\xa3", "a video file"),
    (0, b"FLV\x01", "a video file"),
    (0, b"wOFF", "a web font"),
    (0, b"wOF2", "a web font"),
    (4, b"ftyp", "a video file"),
    (257, b"ustar", "a tar archive"),
)
RIFF_KINDS = {b"WEBP": "a WebP image", b"AVI ": "a video file", b"WAVE": "an audio file"}
# Share of control bytes (not tab, LF, VT, FF, CR or ESC) above which a body is binary, not text.
MAX_CONTROL_SHARE = 0.02
CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or 13 < b < 27 or b > 27)
SNIFF_BYTES = 1024


def sniff_binary(head: bytes) -> str | None:
    """What a body is when its first bytes show it is no text page ('a PNG image', 'binary data'), else None.

    UTF-16 text (with its byte-order mark) is text; NUL bytes or many control bytes are binary.
    """
    for offset, magic, what in MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return what
    if head[:4] == b"RIFF" and head[8:12] in RIFF_KINDS:
        return RIFF_KINDS[head[8:12]]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 with a byte-order mark: decode.py reads it
    sample = head[:SNIFF_BYTES]
    if not sample:
        return None
    controls = len(sample) - len(sample.translate(None, CONTROL_BYTES))
    if b"\x00" in sample or controls > MAX_CONTROL_SHARE * len(sample):
        return f"binary data ({controls} control bytes in the first {len(sample)})"
    return None


HTML_MARKS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta ", b"<title", b"<div", b"<p>", b"<table")


def looks_like_html(head: bytes) -> bool:
    """True when a body's first bytes are HTML markup (for bodies sent untyped, as text/plain or octet-stream)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("ascii", "ignore")
    start = head[:SNIFF_BYTES].lower()
    return any(mark in start for mark in HTML_MARKS)


class BodyTooLarge(Exception):
    """The decoded body went past the cap."""


class UnsupportedEncoding(Exception):
    """A Content-Encoding this client cannot inflate under a cap."""


class CappedDecoder:
    """Inflates one body's content codings (gzip, deflate, br; identity) under a cap on the decoded size.

    `feed` raw pieces as they arrive and `finish` at the end; both raise BodyTooLarge once the decoded
    body would pass `limit` bytes, having produced at most `limit + 1` of them.
    """

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self.limit = limit
        self.size = 0  # decoded bytes produced so far
        codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
        codings = [c for c in codings if c not in ("identity", "none")]
        # Codings are listed in the order they were applied: undo the last one first.
        self._steps = [_inflater(coding, limit) for coding in reversed(codings)]
        self.encoding = ", ".join(codings) or None

    def feed(self, data: bytes) -> bytes:
        for step in self._steps:
            data = step(data, False)
        return self._count(data)

    def finish(self) -> bytes:
        data = b""
        for step in self._steps:
            data = step(data, True)
        return self._count(data)

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise BodyTooLarge(self.size)
        return data


Step = Callable[[bytes, bool], bytes]


def _inflater(coding: str, limit: int) -> Step:
    if coding in ("gzip", "x-gzip"):
        return _ZlibStep(zlib.MAX_WBITS | 16, limit)
    if coding == "deflate":
        return _ZlibStep(zlib.MAX_WBITS, limit, raw_fallback=True)
    if coding == "br" and brotli is not None:
        return _BrotliStep(limit)
    raise UnsupportedEncoding(coding)


class _ZlibStep:
    """gzip (all members) or deflate (zlib-wrapped, or raw as some servers send it), bounded output."""

    def __init__(self, wbits: int, limit: int, *, raw_fallback: bool = False) -> None:
        self.wbits, self.limit, self.raw_fallback = wbits, limit, raw_fallback
        self.inflater = zlib.decompressobj(wbits)
        self.produced = 0
        self.started = False

    def __call__(self, data: bytes, final: bool) -> bytes:
        out = bytearray()
        pending = data
        while pending:
            try:
                piece = self.inflater.decompress(pending, self.limit + 1 - self.produced)
            except zlib.error as exc:
                if self.raw_fallback and not self.started:  # "deflate" sent without its zlib header
                    self.raw_fallback, self.inflater = False, zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise ValueError(f"corrupt {'gzip' if self.wbits & 16 else 'deflate'} data: {exc}") from exc
            self.started = True
            self._add(out, piece)
            if self.inflater.unconsumed_tail:
                pending = self.inflater.unconsumed_tail
            elif self.inflater.eof and self.inflater.unused_data.startswith(GZIP_MAGIC):
                pending = self.inflater.unused_data  # a further gzip member
                self.inflater = zlib.decompressobj(self.wbits)
            else:
                pending = b""
        if final:
            self._add(out, self.inflater.flush())
        return bytes(out)

    def _add(self, out: bytearray, piece: bytes) -> None:
        out += piece
        self.produced += len(piece)
        if self.produced > self.limit:
            raise BodyTooLarge(self.produced)


class _BrotliStep:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inflater = brotli.Decompressor()
        self.produced = 0

    def __call__(self, data: bytes, final: bool) -> bytes:
        out = bytearray()
        try:
            piece = self.inflater.process(data, output_buffer_limit=self.limit + 1 - self.produced)
            while True:
                self._add(out, piece)
                if self.inflater.can_accept_more_data():
                    break
                piece = self.inflater.process(b"", output_buffer_limit=self.limit + 1 - self.produced)
        except brotli.error as exc:
            raise ValueError(f"corrupt brotli data: {exc}") from exc
        return bytes(out)

    def _add(self, out: bytearray, piece: bytes) -> None:
        out += piece
        self.produced += len(piece)
        if self.produced > self.limit:
            raise BodyTooLarge(self.produced)
