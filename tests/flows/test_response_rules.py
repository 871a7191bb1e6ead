"""The rules a response must pass, as pure decisions: where a redirect may lead, how far a body may inflate,
what its first bytes say it is. No socket is opened here: addresses outside loopback are only judged."""

from __future__ import annotations

import gzip
import ipaddress
import zlib

import brotli
import pytest

from flows.sources.bodies import BodyTooLarge, CappedDecoder, UnsupportedEncoding, looks_like_html, sniff_binary
from flows.sources.redirects import address_range, ip_literal, redirect_refusal
from parsers.decode import gunzip_capped
from parsers.records import ParseError

ip = ipaddress.ip_address
PUBLIC_SOURCE = [ip("202.108.22.5")]  # what a government site's name resolves to (never contacted)
LOOPBACK_SOURCE = [ip("127.0.0.1")]


def allow(*hosts: str):
    return lambda url: any(f"//{h}" in url for h in hosts)


def refusal(target: str, origin: list, **kw: object) -> str | None:
    options = {"hop": 1, "max_hops": 5, "chain": ["http://mzt.example.gov.cn/a.html"], "allowed": allow("")}
    options.update(kw)
    return redirect_refusal(target, origin_addresses=origin, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.8/admin", "private"),
        ("http://172.16.3.4/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://127.0.0.1:8080/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://224.0.0.1/", "multicast"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://100.64.0.1/", "reserved"),
    ],
)
def test_a_public_source_never_redirects_to_special_addresses(target: str, kind: str) -> None:
    reason = refusal(target, PUBLIC_SOURCE)
    assert reason is not None and f"leads to a {kind} address" in reason and "redirect 1 to" in reason


def test_a_source_on_loopback_may_redirect_on_loopback_but_not_to_metadata() -> None:
    allowed = allow("127.0.0.1", "127.0.0.3", "169.254.169.254")
    assert refusal("http://127.0.0.3:9000/a/2.html", LOOPBACK_SOURCE, allowed=allowed) is None
    metadata = refusal("http://169.254.169.254/latest/", LOOPBACK_SOURCE, allowed=allowed)
    assert metadata and "link-local address 169.254.169.254" in metadata  # even when listed as a domain


def test_an_intranet_source_stays_inside_its_own_range() -> None:
    intranet = [ip("10.1.2.3")]
    assert refusal("http://10.1.2.9/a.html", intranet) is None
    assert "link-local" in (refusal("http://169.254.169.254/", intranet) or "")


def test_host_names_are_judged_by_the_addresses_they_resolve_to() -> None:
    allowed = allow("intranet.example.gov.cn", "www.example.gov.cn")
    bad = refusal(
        "http://intranet.example.gov.cn/x", PUBLIC_SOURCE, allowed=allowed, target_addresses=[ip("192.168.0.10")]
    )
    assert bad and "private address 192.168.0.10" in bad
    assert (
        refusal("http://www.example.gov.cn/x", PUBLIC_SOURCE, allowed=allowed, target_addresses=[ip("1.2.3.4")]) is None
    )


def test_off_domain_loops_schemes_and_hop_limit() -> None:
    chain = ["http://a.gov.cn/1.html", "http://a.gov.cn/2.html"]
    allowed = allow("a.gov.cn")
    assert "outside the source's domains" in (refusal("http://b.gov.cn/", PUBLIC_SOURCE, allowed=allowed) or "")
    loop = refusal("http://a.gov.cn/1.html", PUBLIC_SOURCE, allowed=allowed, chain=chain, hop=2)
    assert loop == "redirect loop: hop 2 leads back to http://a.gov.cn/1.html"
    assert "not an http(s) URL" in (refusal("file:///etc/passwd", PUBLIC_SOURCE, allowed=allowed) or "")
    assert "more than 5 redirects" in (refusal("http://a.gov.cn/9.html", PUBLIC_SOURCE, allowed=allowed, hop=6) or "")
    assert refusal("http://a.gov.cn/3.html", PUBLIC_SOURCE, allowed=allowed, chain=chain, hop=2) is None


def test_address_ranges() -> None:
    assert address_range(ip("8.8.8.8")) is None and address_range(ip("127.0.0.9")) == "loopback"
    assert ip_literal("[::ffff:10.0.0.1]") == ip("10.0.0.1") and ip_literal("www.gov.cn") is None


# --- bodies ---------------------------------------------------------------------------------------
def bomb(size: int) -> bytes:
    return gzip.compress(bytes(size), compresslevel=9)


def test_a_gzip_bomb_stops_at_the_cap_while_inflating() -> None:
    data = bomb(64 * 1024 * 1024)  # 64 MiB of zeros in ~64 KiB
    decoder = CappedDecoder("gzip", 1_000_000)
    produced = 0
    with pytest.raises(BodyTooLarge):
        for start in range(0, len(data), 8192):
            produced += len(decoder.feed(data[start : start + 8192]))
    assert produced <= 1_000_001


@pytest.mark.parametrize("coding", ["gzip", "deflate", "deflate-raw", "br", "gzip, br"])
def test_pages_in_every_coding_inflate_whole(coding: str) -> None:
    page = ("<html><body><p>" + "全市共有社会组织4088家。" * 500 + "</p></body></html>").encode()
    encoders = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "br": brotli.compress,
    }
    if coding == "deflate-raw":
        packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        data, header = packer.compress(page) + packer.flush(), "deflate"
    elif coding == "gzip, br":
        data, header = brotli.compress(gzip.compress(page)), coding
    else:
        data, header = encoders[coding](page), coding
    decoder = CappedDecoder(header, len(page))
    out = b"".join(decoder.feed(data[i : i + 1000]) for i in range(0, len(data), 1000)) + decoder.finish()
    assert out == page
    with pytest.raises(BodyTooLarge):
        small = CappedDecoder(header, len(page) - 1)
        small.feed(data)
        small.finish()


def test_two_gzip_members_and_unknown_codings() -> None:
    data = gzip.compress(b"<html>one ") + gzip.compress(b"two</html>")
    decoder = CappedDecoder("gzip", 100)
    assert decoder.feed(data) + decoder.finish() == b"<html>one two</html>"
    with pytest.raises(UnsupportedEncoding):
        CappedDecoder("compress", 100)


def test_files_gzipped_without_saying_so_are_capped_too() -> None:
    with pytest.raises(ParseError, match="gzip bomb"):
        gunzip_capped(bomb(8 * 1024 * 1024), uri="x.html", limit=1024 * 1024)
    assert gunzip_capped(gzip.compress(b"<html></html>"), uri="x.html") == b"<html></html>"


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3", "a PDF document"),
        (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive (or an Office/OFD document)"),
        (b"Rar!\x1a\x07\x01\x00", "a RAR archive"),
        (b"\x1f\x8b\x08\x00", "gzip data"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a WebP image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (doc/xls/ppt)"),
    ],
)
def test_file_signatures_are_not_pages(head: str, what: str) -> None:
    assert sniff_binary(head + b"<html><body>not really</body></html>") == what


def test_text_and_binary_by_their_bytes() -> None:
    page = "<!DOCTYPE html><html><head><meta charset=utf-8></head><body>民政</body></html>".encode()
    assert sniff_binary(page) is None and looks_like_html(page)
    assert sniff_binary("\ufeff<html>民政</html>".encode("utf-16")) is None
    assert looks_like_html("<html><body>民政</body></html>".encode("utf-16"))
    noise = bytes(range(256)) * 4
    assert (sniff_binary(noise) or "").startswith("binary data")
    assert not looks_like_html(b"Just some plain text, no markup at all.")
