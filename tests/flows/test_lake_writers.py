"""Many writers, one lake: `civic-ingest ingest` processes on disjoint halves of a corpus, a reader meanwhile.

Real parts throughout: a generated corpus of government-style pages (benchmarks/corpus.py), the installed
`civic-ingest` console script in its own processes (against the session's Prefect server), a PostgreSQL
catalog, a data folder in tmp. The lake must end up holding exactly what one single-file ingest of the whole
corpus holds, however the writers interleave, and after a writer is SIGKILLed and run again.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from benchmarks.corpus import generate
from tests.conftest import CLI, LakeTarget
from warehouse.backends import open_warehouse

CORPUS_PAGES = 160
CORPUS_SITES = 8
TABLES = ("documents", "sections", "paragraphs", "indicators", "cleaning_log", "rejects")
CLOCK_COLUMNS = {"ingested_at", "updated_at", "first_seen", "last_seen"}
COUNTS_SQL = (
    "SELECT (SELECT count(*) FROM documents) AS documents, (SELECT count(*) FROM paragraphs) AS paragraphs, "
    "(SELECT count(*) FROM indicators) AS indicators"
)


@dataclass(frozen=True)
class Corpus:
    halves: tuple[list[str], list[str]]  # site folders, as given to each writer

    @property
    def folders(self) -> list[str]:
        return sorted(self.halves[0] + self.halves[1])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    out = tmp_path_factory.mktemp("corpus")
    generate(out, CORPUS_PAGES, seed=15, sites=CORPUS_SITES)
    sites = sorted(str(p) for p in (out / "pages").iterdir())
    return Corpus((sites[0::2], sites[1::2]))


def cli_env(api_url: str, lake: LakeTarget | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
    env.update(PREFECT_API_URL=api_url, PREFECT_SERVER_ANALYTICS_ENABLED="false", **extra)
    if lake is not None:
        env["CIVIC_LAKE_DATA"] = str(lake.data)
    return env


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(CLI), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its parser processes are in its group: a SIGKILL of the group ends them all
        )


def finish(proc: subprocess.Popen[bytes], log: Path, timeout: float = 300) -> str:
    proc.wait(timeout=timeout)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert proc.returncode == 0, f"exit {proc.returncode}\n{text[-3000:]}"
    return text


def contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the article tables, clock columns left out, in a stable order."""
    found = {}
    for table in TABLES:
        columns = [c for (c,) in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()]
        kept = ", ".join(c for c in columns if c not in CLOCK_COLUMNS)
        found[table] = con.execute(f"SELECT {kept} FROM {table} ORDER BY ALL").fetchall()
    return found


def lake_contents(lake: LakeTarget) -> dict[str, list[tuple[Any, ...]]]:
    con = open_warehouse(lake.url).reader()
    try:
        return contents(con)
    finally:
        con.close()


def report_files(lake: LakeTarget) -> list[str]:
    """The data and delete files the lake's catalog references."""
    con = open_warehouse(lake.url).reader()
    try:
        tables = [
            t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake'").fetchall()
        ]
        sql = "SELECT data_file, delete_file FROM ducklake_list_files('lake', ?)"
        return [f for t in tables for row in con.execute(sql, [t]).fetchall() for f in row if f]
    finally:
        con.close()


@pytest.fixture(scope="module")
def single_file(corpus: Corpus, prefect_api_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What one ingest of the whole corpus into a DuckDB file holds."""
    tmp = tmp_path_factory.mktemp("single")
    db = tmp / "warehouse.duckdb"
    finish(start(["ingest", *corpus.folders, "--db", str(db)], cli_env(prefect_api_url), tmp / "log"), tmp / "log")
    con = duckdb.connect(str(db), read_only=True)
    try:
        held = contents(con)
    finally:
        con.close()
    assert len(held["documents"]) == CORPUS_PAGES and held["indicators"]
    return held


@dataclass
class Reader:
    """An analyst running `civic-ingest query` and `stats` against the lake over and over, in its own processes."""

    url: str
    env: dict[str, str]
    answers: list[tuple[int, int, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stats_answered: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        turn = 0
        while not self.stop.is_set():
            turn += 1
            args = (
                ["stats", "--db", self.url]
                if turn % 3 == 0
                else ["query", COUNTS_SQL, "--db", self.url, "--format", "csv"]
            )
            done = subprocess.run([str(CLI), *args], env=self.env, capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                if self.answers:  # before the first answer the writers are still creating the lake and its tables
                    self.failures.append(done.stderr.strip())
                continue
            if args[0] == "stats":
                self.stats_answered += "warehouse ducklake:" in done.stdout
            else:
                self.answers.append(tuple(int(v) for v in done.stdout.splitlines()[1].split(",")))  # type: ignore[arg-type]


@pytest.fixture
def reader_of(prefect_api_url: str) -> Iterator[Callable[[LakeTarget], Reader]]:
    threads: list[tuple[Reader, threading.Thread]] = []

    def make(lake: LakeTarget) -> Reader:
        reader = Reader(lake.url, cli_env(prefect_api_url, lake))
        thread = threading.Thread(target=reader.run, daemon=True)
        thread.start()
        threads.append((reader, thread))
        return reader

    yield make
    for reader, thread in threads:
        reader.stop.set()
        thread.join(timeout=150)


def run_two_writers(corpus: Corpus, lake: LakeTarget, api_url: str, tmp: Path, tag: str) -> list[str]:
    procs = []
    for i, half in enumerate(corpus.halves):
        log = tmp / f"{tag}-writer-{i}.log"
        procs.append((start(["ingest", *half, "--db", lake.url], cli_env(api_url, lake), log), log))
    return [finish(proc, log) for proc, log in procs]


def test_two_writers_on_halves_hold_what_one_file_ingest_holds_and_a_rerun_changes_nothing(
    corpus: Corpus, single_file: dict[str, Any], lake: LakeTarget, prefect_api_url: str, tmp_path: Path, reader_of
) -> None:
    reader = reader_of(lake)
    first = run_two_writers(corpus, lake, prefect_api_url, tmp_path, "first")
    held = lake_contents(lake)
    for table in TABLES:
        assert held[table] == single_file[table], f"{table} differs from the single-file ingest"
    doc_ids = [row[0] for row in held["documents"]]
    assert len(doc_ids) == len(set(doc_ids)) == CORPUS_PAGES, "each document once"
    new = [int(re.search(r"articles\s+(\d+) new", out)[1]) for out in first]  # type: ignore[index]
    assert new == [sum(1 for f in half for p in Path(f).rglob("*") if p.is_file()) for half in corpus.halves]

    again = run_two_writers(corpus, lake, prefect_api_url, tmp_path, "again")
    assert lake_contents(lake) == held, "re-running both writers changed the lake"
    for half, out in zip(corpus.halves, again, strict=True):
        pages = sum(1 for folder in half for p in Path(folder).rglob("*") if p.is_file())
        assert re.search(rf"articles\s+0 new, 0 updated, {pages} unchanged", out), out

    time.sleep(1.5)  # a last answer after both runs
    reader.stop.set()
    assert not reader.failures, reader.failures[:3]
    assert len(reader.answers) >= 3 and reader.stats_answered >= 1
    for before, after in zip(reader.answers, reader.answers[1:], strict=False):
        assert all(a >= b for a, b in zip(after, before, strict=True)), f"counts went down: {before} -> {after}"


def test_a_writer_killed_mid_run_and_run_again_leaves_the_same_rows(
    corpus: Corpus, single_file: dict[str, Any], lake: LakeTarget, prefect_api_url: str, tmp_path: Path
) -> None:
    # Small commits (CIVIC_LOAD_FLUSH_ROWS) and batches, so the writer has committed part of the corpus when killed.
    env = cli_env(prefect_api_url, lake, CIVIC_LOAD_FLUSH_ROWS="2000")
    args = ["ingest", *corpus.folders, "--db", lake.url, "--batch-size", "16"]
    victim = start(args, env, tmp_path / "killed.log")
    committed = 0
    deadline = time.monotonic() + 240
    try:
        while committed == 0 and time.monotonic() < deadline and victim.poll() is None:
            time.sleep(0.3)
            try:
                con = open_warehouse(lake.url).reader()
            except Exception:  # the lake is not created yet
                continue
            try:
                committed = int(con.execute("SELECT count(*) FROM documents").fetchone()[0])  # type: ignore[index]
            except duckdb.CatalogException:  # its tables are being created
                continue
            finally:
                con.close()
    finally:
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert 0 < committed < CORPUS_PAGES, f"killed after {committed} documents: not mid-run"

    out = finish(start(args, env, tmp_path / "rerun.log"), tmp_path / "rerun.log")
    assert lake_contents(lake) == {t: single_file[t] for t in TABLES}
    counts = re.search(r"articles\s+(\d+) new, 0 updated, (\d+) unchanged", out)
    assert counts and int(counts[2]) >= committed and int(counts[1]) + int(counts[2]) == CORPUS_PAGES, out

    # Maintenance afterwards (what the nightly deployment runs): files merged, the killed run's leftovers gone.
    done = subprocess.run(
        [str(CLI), "lake", "maintain", "--db", lake.url, "--keep-hours", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["data_files_after"] < report["data_files_before"]
    referenced = {Path(f).name for f in report_files(lake)}
    assert {p.name for p in lake.data.rglob("*.parquet")} == referenced, "every file left in the folder is in use"
    assert lake_contents(lake) == {t: single_file[t] for t in TABLES}
