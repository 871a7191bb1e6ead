"""Thirteen sources in one fetch: a well-behaved site and twelve hostile hosts (tests/fixtures/site/hostile.py).

What an operator would check after the daily run: it ended on its own and soon, every normal article is in
the warehouse, every hostile URL is in fetch_log (or rejects) with a reason a person understands, no
document came from a hostile URL, and a second run changes nothing. The whole module also refuses any
connection outside 127.0.0.0/8: a redirect to a metadata address must be refused before a socket is opened.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flows.sources.web import canonical_url
from tests.fixtures.site.hostile import HostileHosts
from tests.flows.warehouse_rows import read_rows

pytestmark = pytest.mark.usefixtures("prefect_harness")

# Small limits keep the test quick; the benchmark (benchmarks/hostile.py) runs the defaults.
FAST_FETCH = """
[fetch]
deadline = 3
timeout = 5
max_retries = 1
backoff_seconds = 0.1
max_bytes = 2097152
"""
RUN_BOUND_SECONDS = 60.0  # each run, Prefect's own overhead included (it takes ~10 s on a quiet machine)


@contextmanager
def loopback_only() -> Iterator[list[Any]]:
    """Refuse (and record) every connection this process tries outside 127.0.0.0/8 while the block runs."""
    attempts: list[Any] = []
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not ipaddress.ip_address(host).is_loopback:
            attempts.append(address)
            raise ConnectionRefusedError(f"test guard: {host} is not a loopback address")
        original(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    try:
        yield attempts
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]


@dataclass
class HostileRun:
    hosts: HostileHosts
    db: Path
    summaries: list[Any]
    seconds: list[float]
    outside: list[Any]
    requests: list[dict[str, list[str]]]  # per run: host name -> paths requested

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return read_rows(self.db, sql, params)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileRun]:
    from flows.fetch_articles import fetch_articles

    work = tmp_path_factory.mktemp("hostile")
    hosts = HostileHosts(first_octet=40)
    with hosts.serving(), loopback_only() as outside:
        sources = work / "sources.toml"
        sources.write_text(hosts.sources_toml(fetch=FAST_FETCH), encoding="utf-8")
        run = HostileRun(hosts, work / "warehouse.duckdb", [], [], outside, [])
        for _ in range(2):
            marks = {h.name: len(h.log) for h in hosts.hosts}
            started = time.monotonic()
            run.summaries.append(fetch_articles(sources_file=str(sources), db=str(run.db)))
            run.seconds.append(time.monotonic() - started)
            run.requests.append({h.name: h.log[marks[h.name] :] for h in hosts.hosts})
        yield run


def test_the_run_ends_on_its_own_within_the_bound(hostile: HostileRun) -> None:
    assert all(seconds < RUN_BOUND_SECONDS for seconds in hostile.seconds), hostile.seconds
    assert hostile.summaries[0].stopped is None  # it finished; nothing was left to a deadline or signal


def test_every_normal_article_is_loaded(hostile: HostileRun) -> None:
    loaded = {uri for (uri,) in hostile.query("SELECT uri FROM documents")}
    expected = {canonical_url(url) for _, url in hostile.hosts.normal_articles}
    assert len(expected) == 32
    assert expected - loaded == set()
    assert loaded == expected  # and nothing else: no document from any hostile URL
    titles = dict(hostile.query("SELECT uri, title FROM documents"))
    for name, url in hostile.hosts.normal_articles:
        story = next(s for s in hostile.hosts.stories[name] if s.key in url)
        assert titles[canonical_url(url)] == story.title


def test_each_hostile_url_is_logged_with_its_reason(hostile: HostileRun) -> None:
    errors = dict(hostile.query("SELECT url, error FROM fetch_log"))
    rejects = dict(hostile.query("SELECT uri, reason FROM rejects"))
    for case in hostile.hosts.hostile:
        url = canonical_url(hostile.hosts.host(case.source).url(case.path))
        logged = (errors if case.logged_in == "fetch_log" else rejects).get(url)
        assert logged is not None, f"{case.source}: {url} not in {case.logged_in}"
        assert case.expect in logged, f"{case.source}: {logged!r}"
    # The run's report names them too, with the same reasons.
    reported = {r.uri for r in hostile.summaries[0].rejects}
    assert all(canonical_url(hostile.hosts.host(c.source).url(c.path)) in reported for c in hostile.hosts.hostile)


def test_reasons_read_as_a_person_would_say_them(hostile: HostileRun) -> None:
    errors = dict(hostile.query("SELECT url, error FROM fetch_log"))

    def error(source: str, path: str) -> str:
        return errors[canonical_url(hostile.hosts.host(source).url(path))]

    assert error("drip", "/art/hostile.html").startswith("deadline exceeded after 3 s, ")
    assert error("drip", "/art/hostile.html").endswith(" bytes read")
    assert error("silent", "/art/hostile.html") == "deadline exceeded after 3 s, no answer"
    assert "2,097,152-byte limit once decompressed (gzip" in error("bomb", "/art/hostile.html")
    assert "connection closed after 20,000 of 50,000 bytes" in error("truncated", "/art/hostile.html")
    assert "169.254.169.254" in error("redirects", "/art/metadata.html")
    assert "redirect 1 to http://mirror.example.net/" in error("redirects", "/art/offsite.html")


def test_no_request_left_loopback(hostile: HostileRun) -> None:
    assert hostile.outside == []


def test_traps_and_endless_lists_are_bounded(hostile: HostileRun) -> None:
    for requests in hostile.requests:
        for name in ("trap", "pages"):
            lists = [p for p in requests[name] if p.startswith("/list/")]
            assert 1 < len(lists) <= 4, (name, lists)  # max_list_pages = 4


def test_the_feed_is_read_without_expanding_its_entities(hostile: HostileRun) -> None:
    feed = canonical_url(hostile.hosts.host("feed").url("/list/index.html"))
    assert hostile.query("SELECT kind, status, error FROM fetch_log WHERE url = ?", [feed]) == [("list", 200, None)]


def test_a_second_run_adds_nothing_twice(hostile: HostileRun) -> None:
    first, second = hostile.summaries
    assert first.articles_new == 32
    assert (second.articles_new, second.articles_updated) == (0, 0)
    assert hostile.query("SELECT count(*), count(DISTINCT uri) FROM documents") == [(32, 32)]
    (paragraphs,) = hostile.query("SELECT count(*) FROM paragraphs")[0]
    assert paragraphs == first.paragraphs
    # The failed hostile URLs were tried again (and failed again); known articles were not fetched again.
    good = hostile.requests[1]["good"]
    assert not [p for p in good if p.startswith("/art/")]
    attempts = dict(hostile.query("SELECT url, attempts FROM fetch_log WHERE error IS NOT NULL"))
    drip = canonical_url(hostile.hosts.host("drip").url("/art/hostile.html"))
    assert attempts[drip] == 2
