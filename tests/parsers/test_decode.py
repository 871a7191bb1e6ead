"""Decoding decided by us: BOM, HTTP charset, <meta>, then sniffing; gbk/gb2312 read as gb18030."""

from __future__ import annotations

import codecs
import gzip

import pytest

from parsers.decode import decode_bytes, normalize_charset
from parsers.records import ParseError

TEXT = "全省共注册登记社会组织7.7万家，朱镕基、王喆等同志出席。社会团体3万家、基金会810家。" * 3


def test_gb2312_label_with_gbk_only_characters_decodes_intact() -> None:
    page = f'<html><head><meta charset="gb2312"></head><body><p>{TEXT}</p></body></html>'.encode("gbk")
    assert "镕" in decode_bytes(page, uri="x", is_html=True)
    assert "喆" in decode_bytes(page, uri="x", http_charset="GB2312", is_html=True)


def test_meta_label_that_lies_falls_back_to_the_bytes() -> None:
    page = f'<html><head><meta charset="gb2312"></head><body>{TEXT}</body></html>'.encode()
    assert TEXT in decode_bytes(page, uri="x", is_html=True)


def test_http_charset_wins_over_meta() -> None:
    page = f'<html><head><meta charset="utf-8"></head><body>{TEXT}</body></html>'.encode("gb18030")
    assert TEXT in decode_bytes(page, uri="x", http_charset="gbk", is_html=True)


@pytest.mark.parametrize(
    ("data", "codec"),
    [
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16 LE"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16 BE"),
        (codecs.BOM_UTF8 + TEXT.encode(), "utf-8 BOM"),
        (TEXT.encode("gbk"), "undeclared GBK"),
        (gzip.compress(TEXT.encode()), "gzip without being asked"),
    ],
)
def test_files_in_other_encodings(data: bytes, codec: str) -> None:
    assert decode_bytes(data, uri=codec).strip("\ufeff") == TEXT


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (b"  \n\t ", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "binary")],
)
def test_empty_and_binary_input_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        decode_bytes(data, uri="bad.txt")
    assert reason in caught.value.reason
    assert caught.value.stage == "decode"


def test_charset_aliases() -> None:
    assert normalize_charset("GB2312") == "gb18030"
    assert normalize_charset("x-gbk") == "gb18030"
    assert normalize_charset("no-such-charset") is None
