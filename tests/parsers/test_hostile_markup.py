"""Parsers on hostile markup: every page either parses or becomes a ParseError with a reason, quickly,
never a crash. (Pages built with the fixture site's article template; no Prefect, no network.)"""

from __future__ import annotations

import gzip
import time

import pytest

from parsers.article import parse_document
from parsers.records import ParseError, RawDocument
from tests.fixtures.site.build import trs_article
from tests.fixtures.site.hostile import nested_divs, story


def raw(content: bytes) -> RawDocument:
    return RawDocument("http://127.0.0.1/art/x.html", content, True, "utf-8", "test")


def test_a_hundred_thousand_nested_divs_are_a_reject_that_says_why() -> None:
    started = time.monotonic()
    with pytest.raises(ParseError) as caught:
        parse_document(raw(nested_divs(100_000)))
    assert caught.value.stage == "extract"
    assert "nests deeper than 256 elements" in caught.value.reason
    assert time.monotonic() - started < 5


def test_an_article_followed_by_deep_nesting_still_parses() -> None:
    page = trs_article(story(7), "某市民政局").replace(b"</body>", b"<div>" * 50_000 + b"</body>")
    article = parse_document(raw(page))
    assert article.title == story(7).title and len(article.paragraphs) == 3


def test_hundreds_of_thousands_of_elements_are_refused_before_extraction() -> None:
    page = b"<html><body>" + "<p>民政工作</p>".encode() * 500_000 + b"</body></html>"
    started = time.monotonic()
    with pytest.raises(ParseError, match="more than 200,000 elements"):
        parse_document(raw(page))
    assert time.monotonic() - started < 10  # trafilatura alone took 30 s and ~900 MiB on this page


def test_a_gzip_bomb_as_a_file_is_refused_not_inflated() -> None:
    bomb = gzip.compress(b"<html>" + bytes(100 * 1024 * 1024), compresslevel=9)
    with pytest.raises(ParseError, match="gzip bomb"):
        parse_document(raw(bomb))


def test_malformed_encodings_are_rejects_with_reasons() -> None:
    with pytest.raises(ParseError, match="binary content"):
        parse_document(raw(b"<html>\x00\x01\x02\x03" * 500))
    # Declared UTF-8, really GBK: decoded by sniffing, not rejected.
    page = trs_article(story(3), "某市民政局").decode().encode("gbk", "replace")
    assert parse_document(raw(page)).title == story(3).title
