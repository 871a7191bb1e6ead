"""WebClient against misbehaving servers on 127.0.0.x: deadlines, size caps, codings, sniffing, redirect hops.

Real sockets, real timing: each test says what a crawler operator would notice (how long a page took,
what was logged, whether the host's next page still came).
"""

from __future__ import annotations

import gzip
import os
import signal
import threading
import time
from collections.abc import Iterator

import brotli
import pytest

from flows.sources.config import FetchSettings, parse_sources
from flows.sources.web import WebClient
from tests.fixtures.site.hostile import Exchange, HostileHost, drip, list_page, never_answer, redirect

FAST = FetchSettings(timeout=5, deadline=2, max_retries=1, backoff_seconds=0.1, max_bytes=1_000_000)
PAGE = list_page("民政要闻", [("/art/1.html", "养老服务工作推进会召开")])


@pytest.fixture
def host() -> Iterator[HostileHost]:
    with HostileHost("test", "127.0.0.60").serving() as served:
        yield served


def client(settings: FetchSettings = FAST) -> WebClient:
    return WebClient(settings, default_rate=100)


def allow_all(_: str) -> bool:
    return True


def test_a_dripping_page_is_abandoned_at_its_deadline_and_the_host_goes_on(host: HostileHost) -> None:
    host.routes["/slow.html"] = drip
    host.routes["/next.html"] = lambda x: x.page(PAGE)
    web = client()
    started = time.monotonic()
    slow = web.fetch(host.url("/slow.html"), allowed=allow_all)
    took = time.monotonic() - started
    assert slow.outcome == "deadline" and 1.9 < took < 4.0
    assert slow.error is not None and slow.error.startswith("deadline exceeded after 2 s, ")
    assert slow.error.endswith(" bytes read") and slow.retries == 0  # not retried: it would drip again
    nxt = web.fetch(host.url("/next.html"), allowed=allow_all)  # the same thread, free again
    assert nxt.is_ok and nxt.content == PAGE
    web.close()


def test_headers_that_never_come_are_bounded_by_the_deadline(host: HostileHost) -> None:
    host.routes["/silent.html"] = never_answer
    started = time.monotonic()
    result = client().fetch(host.url("/silent.html"), allowed=allow_all)
    assert (result.outcome, result.error) == ("deadline", "deadline exceeded after 2 s, no answer")
    assert time.monotonic() - started < 4.0


def test_headers_dripped_a_byte_at_a_time_are_bounded_too(host: HostileHost) -> None:
    def drip_headers(x: Exchange) -> None:
        x.conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for byte in b"X-Padding: " + b"a" * 100:
            if not x.wait(0.5):
                return
            x.conn.sendall(bytes([byte]))

    host.routes["/slow-head.html"] = drip_headers
    started = time.monotonic()
    result = client().fetch(host.url("/slow-head.html"), allowed=allow_all)
    assert result.outcome == "deadline" and (result.error or "").startswith("deadline exceeded after 2 s, ")
    assert time.monotonic() - started < 4.0


def test_a_sources_own_deadline_wins(host: HostileHost) -> None:
    host.routes["/slow.html"] = drip
    config = parse_sources(
        {
            "fetch": {"deadline": 20},
            "source": [{"name": "s", "start_urls": [host.url("/")], "article_url_pattern": "/a/", "deadline": 1}],
        }
    )
    web = WebClient.for_sources(config.fetch, config.sources)
    started = time.monotonic()
    result = web.fetch(host.url("/slow.html"), allowed=config.sources[0].allows)
    assert result.error and result.error.startswith("deadline exceeded after 1 s") and time.monotonic() - started < 3


def test_a_declared_length_over_the_cap_is_refused_before_reading(host: HostileHost) -> None:
    def announce(x: Exchange) -> None:
        x.send("200 OK", {"Content-Type": "text/html", "Content-Length": str(60 * 1024 * 1024)})
        x.wait(30)  # the body would follow: it is never asked for

    host.routes["/big.html"] = announce
    started = time.monotonic()
    result = client().fetch(host.url("/big.html"), allowed=allow_all)
    assert result.outcome == "too_large" and time.monotonic() - started < 1.5
    assert result.error == "Content-Length 62,914,560 bytes is over the 1,000,000-byte limit: not downloaded"


def test_compressed_pages_are_read_and_bombs_are_cut(host: HostileHost) -> None:
    def encoded(coding: str, data: bytes):
        return lambda x: x.send(
            "200 OK",
            {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": coding, "Content-Length": str(len(data))},
            data,
        )

    host.routes["/gz.html"] = encoded("gzip", gzip.compress(PAGE))
    host.routes["/br.html"] = encoded("br", brotli.compress(PAGE))
    host.routes["/bomb.html"] = encoded("gzip", gzip.compress(bytes(50_000_000), compresslevel=9))
    bare = gzip.compress(PAGE)  # gzip sent without Content-Encoding
    host.routes["/bare.html"] = lambda x: x.page(bare)
    web = client()
    for path in ("/gz.html", "/br.html", "/bare.html"):
        result = web.fetch(host.url(path), allowed=allow_all)
        assert result.is_ok and result.content == PAGE, path
    bomb = web.fetch(host.url("/bomb.html"), allowed=allow_all)
    assert bomb.outcome == "too_large" and "1,000,000-byte limit once decompressed (gzip" in (bomb.error or "")


def test_bytes_decide_over_the_content_type(host: HostileHost) -> None:
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 20
    host.routes["/lying.html"] = lambda x: x.page(pdf, "text/html; charset=utf-8")
    host.routes["/octet.html"] = lambda x: x.page(PAGE, "application/octet-stream")
    host.routes["/octet.pdf.html"] = lambda x: x.page(pdf, "application/octet-stream")
    web = client()
    lying = web.fetch(host.url("/lying.html"), allowed=allow_all)
    assert (lying.outcome, lying.error) == (
        "not_a_page",
        "the body is a PDF document, though it was served as text/html",
    )
    assert web.fetch(host.url("/octet.html"), allowed=allow_all).content == PAGE
    assert web.fetch(host.url("/octet.pdf.html"), allowed=allow_all).outcome == "skipped_non_html"


def test_redirects_to_another_loopback_host_follow_the_source_domains(host: HostileHost) -> None:
    with HostileHost("other", "127.0.0.61").serving() as other:
        other.routes["/a/2.html"] = lambda x: x.page(PAGE)
        host.routes["/a/1.html"] = redirect(lambda: other.url("/a/2.html"))
        both = parse_sources(
            {
                "source": [
                    {
                        "name": "s",
                        "start_urls": [host.url("/")],
                        "article_url_pattern": "/a/",
                        "allowed_domains": ["127.0.0.60", "127.0.0.61"],
                    }
                ]
            }
        ).sources[0]
        one = parse_sources({"source": [{"name": "s", "start_urls": [host.url("/")], "article_url_pattern": "/a/"}]})
        followed = client().fetch(host.url("/a/1.html"), allowed=both.allows)
        assert followed.is_ok and followed.final_url == other.url("/a/2.html")
        refused = client().fetch(host.url("/a/1.html"), allowed=one.sources[0].allows)
        assert refused.outcome == "3xx"
        assert refused.error == f"redirect 1 to {other.url('/a/2.html')} goes outside the source's domains"
        assert other.log == ["/robots.txt", "/a/2.html"]  # the refused hop was never requested


def test_long_redirect_chains_are_cut(host: HostileHost) -> None:
    for n in range(10):
        host.routes[f"/r{n}.html"] = redirect(f"/r{n + 1}.html")
    result = client().fetch(host.url("/r0.html"), allowed=allow_all)
    assert result.outcome == "3xx" and (result.error or "").startswith("more than 5 redirects (hop 6 to ")
    assert host.log[1:] == [f"/r{n}.html" for n in range(6)]  # after robots.txt: the page and 5 hops


def test_abort_cuts_requests_in_flight(host: HostileHost) -> None:
    host.routes["/slow.html"] = drip
    web = client(FetchSettings(timeout=60, deadline=60, max_retries=0))
    threading.Timer(1.0, web.abort, args=("stopped by SIGTERM",)).start()
    started = time.monotonic()
    result = web.fetch(host.url("/slow.html"), allowed=allow_all)
    assert (result.outcome, result.requested) == ("stopped", False) and time.monotonic() - started < 3
    assert result.error == "not fetched: stopped by SIGTERM"


def test_the_first_signal_asks_for_a_clean_stop() -> None:
    from flows.page_stream import RunStop

    stop = RunStop()
    reasons: list[str] = []
    stop.on_stop(reasons.append)
    with stop.on_signals():
        os.kill(os.getpid(), signal.SIGTERM)  # to ourselves: the handler runs in this (main) thread
        time.sleep(0.1)
        assert stop.is_set() and reasons == ["stopped by SIGTERM"]
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
    assert RunStop(max_seconds=0.01).remaining() is not None
    late = RunStop(max_seconds=0.05)
    time.sleep(0.1)
    assert late.is_set() and late.reason == "the run's deadline of 0.000833333 min passed"
