"""Progress is kept: a run stopped by its deadline or a signal has loaded what it finished, the next run
picks up the rest, and a parser process that dies costs only its own pages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from flows.sources.web import canonical_url
from tests.fixtures.site.build import trs_article
from tests.fixtures.site.hostile import HostileHost, article_path, drip, list_page, page, story

CLI = Path(sys.executable).parent / "civic-ingest"


def two_hosts(good: HostileHost, slow: HostileHost) -> list:
    """8 articles on `good`; 3 articles on `slow` that drip a byte a second."""
    stories = [story(100 + n) for n in range(8)]
    for s in stories:
        good.routes[article_path(s.key)] = page(trs_article(s, "某市民政局"))
    good.routes["/list/index.html"] = page(list_page("工作动态", [(article_path(s.key), s.title) for s in stories]))
    for n in range(3):
        slow.routes[f"/art/slow-{n}.html"] = drip
    slow.routes["/list/index.html"] = page(list_page("慢", [(f"/art/slow-{n}.html", "慢") for n in range(3)]))
    return stories


def sources_file(path: Path, good: HostileHost, slow: HostileHost, deadline: float) -> Path:
    entries = [f"[fetch]\ndeadline = {deadline}\ntimeout = 60\nmax_retries = 0\n"]
    for host in (good, slow):
        entries.append(
            f'[[source]]\nname = "{host.name}"\nstart_urls = ["{host.url("/list/index.html")}"]\n'
            "article_url_pattern = '/art/'\nrate_limit = 50\n"
        )
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_past_its_deadline_loads_what_it_fetched_and_the_next_run_goes_on(tmp_path: Path) -> None:
    from flows.fetch_articles import fetch_articles

    with HostileHost("good", "127.0.0.70").serving() as good, HostileHost("slow", "127.0.0.71").serving() as slow:
        stories = two_hosts(good, slow)
        db = tmp_path / "w.duckdb"
        started = time.monotonic()
        first = fetch_articles(
            sources_file=str(sources_file(tmp_path / "s.toml", good, slow, 60)), db=str(db), max_minutes=0.1
        )
        assert time.monotonic() - started < 30  # 6 s of run, then the clean stop (a slow page alone takes 60)
        assert first.stopped and first.stopped.startswith("the run's deadline of 0.1 min passed: ")
        assert first.articles_new == 8
        loaded = {uri for (uri,) in rows(db, "SELECT uri FROM documents")}
        assert loaded == {canonical_url(good.url(article_path(s.key))) for s in stories}
        logged = dict(rows(db, "SELECT url, kind FROM fetch_log"))
        assert canonical_url(good.url("/list/index.html")) in logged  # its source finished
        assert canonical_url(slow.url("/list/index.html")) not in logged  # not "seen": read in full next time
        assert not [u for u in logged if "/slow-" in u]  # cut pages are not recorded: they are not done

        mark = len(slow.log)
        second = fetch_articles(sources_file=str(sources_file(tmp_path / "s2.toml", good, slow, 1)), db=str(db))
        assert second.stopped is None and second.articles_new == 0
        assert sorted(p for p in slow.log[mark:] if p.startswith("/art/")) == [f"/art/slow-{n}.html" for n in range(3)]
        assert not [p for p in good.log if p.startswith("/art/")][8:]  # the good host's articles: fetched once


def test_sigterm_stops_the_fetch_cleanly_with_its_pages_loaded(tmp_path: Path) -> None:
    with HostileHost("good", "127.0.0.72").serving() as good, HostileHost("slow", "127.0.0.73").serving() as slow:
        stories = two_hosts(good, slow)
        db = tmp_path / "w.duckdb"
        env = {**os.environ, "PREFECT_LOGGING_LEVEL": "INFO"}
        args = [
            str(CLI),
            "fetch",
            "--sources",
            str(sources_file(tmp_path / "s.toml", good, slow, 120)),
            "--db",
            str(db),
        ]
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 150
            while time.monotonic() < deadline and not any("batch committed" in line for line in output):
                time.sleep(0.2)  # the good host's batch is committed 5 s after it arrived; slow pages drip on
            assert any("batch committed" in line for line in output), "".join(output)[-3000:]
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        reader.join(timeout=5)
        text = "".join(output)
        assert code == 0, text[-3000:]
        assert "STOPPED    stopped by SIGTERM: 3 article page(s) left for the next run" in text
        assert len(rows(db, "SELECT uri FROM documents")) == len(stories)


def test_a_parser_process_killed_mid_batch_costs_nothing() -> None:
    from flows.pipeline import _pools, parse_in_pool, release_parser_pool, warm_parser_pool
    from flows.vocabulary import metric_rules
    from parsers.records import RawDocument

    docs = [
        (RawDocument(f"http://127.0.0.1/art/{n}.html", trs_article(story(n), "某市民政局"), True, "utf-8", "s"), None)
        for n in range(400)  # ~2.5 s of parsing on two processes
    ]
    warm_parser_pool(2)
    pool = _pools[2]
    victim = next(iter(pool._processes.values())).pid  # one of our own parser processes
    killer = threading.Timer(0.3, os.kill, args=(victim, signal.SIGKILL))  # as the out-of-memory killer would
    killer.start()
    try:
        chunks = parse_in_pool(docs, metric_rules(), 2)
    finally:
        killer.join()
        release_parser_pool()
    parsed = [uri for rows_, _ in chunks for uri in rows_.column("uri")]
    assert sorted(parsed) == sorted(raw.uri for raw, _ in docs)  # every page, once
    assert [r for _, rejects in chunks for r in rejects] == []
    assert killer.finished.is_set() and _pools.get(2) is not pool  # it was killed mid-batch; the pool was replaced


@pytest.mark.usefixtures("prefect_harness")
def test_a_host_with_slow_list_pages_delays_only_itself(tmp_path: Path) -> None:
    from flows.fetch_articles import fetch_articles

    with HostileHost("good", "127.0.0.74").serving() as good, HostileHost("slow", "127.0.0.75").serving() as slow:
        stories = two_hosts(good, slow)
        arrived: dict[str, float] = {}

        def note(path: str, handler):
            def answer(x):
                arrived.setdefault(path, time.monotonic())
                handler(x)

            return answer

        for s in stories:
            path = article_path(s.key)
            good.routes[path] = note(path, good.routes[path])
        slow.routes["/list/index.html"] = drip  # the list itself drips until its deadline
        started = time.monotonic()
        db = tmp_path / "w.duckdb"
        summary = fetch_articles(sources_file=str(sources_file(tmp_path / "s.toml", good, slow, 4)), db=str(db))
        assert summary.articles_new == 8
        # The good host's pages were all asked for while the slow host was still reading its list.
        assert max(arrived.values()) - started < 4.0, {k: round(v - started, 2) for k, v in arrived.items()}
        errors = dict(rows(db, "SELECT url, error FROM fetch_log WHERE error IS NOT NULL"))
        assert errors[canonical_url(slow.url("/list/index.html"))].startswith("deadline exceeded after 4 s")


def test_a_page_that_hangs_its_parser_becomes_a_reject(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows import pipeline
    from flows.vocabulary import metric_rules
    from parsers.records import RawDocument

    monkeypatch.setattr(pipeline, "PARSE_STALL_SECONDS", 2.0)  # instead of 60 s, to keep the test short
    # 150,000 flat elements (under the element limit): trafilatura needs many seconds on it.
    slow = b"<html><body>" + "<p>民政工作</p>".encode() * 150_000 + b"</body></html>"
    docs = [(RawDocument("http://127.0.0.1/art/slow.html", slow, True, "utf-8", "s"), None)]
    docs += [
        (RawDocument(f"http://127.0.0.1/art/{n}.html", trs_article(story(n), "某市民政局"), True, "utf-8", "s"), None)
        for n in range(3)
    ]
    try:
        chunks = pipeline.parse_in_pool(docs, metric_rules(), 2)
    finally:
        pipeline.release_parser_pool()
    parsed = sorted(uri for rows_, _ in chunks for uri in rows_.column("uri"))
    assert parsed == [f"http://127.0.0.1/art/{n}.html" for n in range(3)]
    rejects = [r for _, rejects in chunks for r in rejects]
    assert [(r.uri, r.reason) for r in rejects] == [
        ("http://127.0.0.1/art/slow.html", "parsing took longer than 2 s and was stopped")
    ]
