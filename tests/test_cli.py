"""The `civic-ingest` command as a user runs it: inspect without Prefect, and query/stats/export on a warehouse."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows.cli import EXIT_ERROR, EXIT_OK, main
from warehouse.queries import PUBLIC_TABLES, table_counts
from warehouse.schema import connect, snapshot_path

SEED = "001_6bc3f2be9f148523.txt"  # Suzhou speech: dated, sourced, nested sections, many figures
INSPECT_KEYS = {
    "title",
    "published_date",
    "source",
    "author",
    "region_province",
    "region_city",
    "sections",
    "paragraphs",
    "indicators",
    "removed",
}


def inspect_seed(seeds_dir: Path) -> tuple[dict, set[str], float]:
    """(printed JSON, modules imported, seconds) of `civic-ingest inspect SEED --json` run as a user would."""
    cli = Path(sys.executable).parent / "civic-ingest"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(cli), "inspect", str(seeds_dir / SEED), "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    took = time.monotonic() - started
    assert done.returncode == EXIT_OK, done.stderr
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return json.loads(done.stdout), modules, took


@pytest.fixture(scope="module")
def inspected(seeds_dir: Path) -> tuple[dict, set[str], float]:
    return inspect_seed(seeds_dir)


def test_inspect_json_is_one_article_object(inspected) -> None:
    article, _, _ = inspected
    assert set(article) >= INSPECT_KEYS
    assert article["title"] and article["published_date"] == "2023-09-22"
    assert article["sections"] and article["paragraphs"] and article["indicators"] and article["removed"]

    sections = article["sections"]
    assert all(set(s) == {"ordinal", "level", "heading", "parent"} for s in sections)
    ordinals = [s["ordinal"] for s in sections]
    assert ordinals == sorted(ordinals)
    for s in sections:
        if s["parent"] is None:
            assert s["level"] == 1
        else:
            parent = next(p for p in sections if p["ordinal"] == s["parent"])
            assert parent["ordinal"] < s["ordinal"] and parent["level"] < s["level"]

    assert all(set(p) == {"ordinal", "section", "kind", "text"} for p in article["paragraphs"])
    assert {p["kind"] for p in article["paragraphs"]} <= {"paragraph", "list_item", "table_row"}
    assert {p["section"] for p in article["paragraphs"]} <= {None, *ordinals}
    assert all(set(r) == {"reason", "text"} and r["reason"] and r["text"] for r in article["removed"])


def test_inspect_indicators_have_the_table_columns(inspected, tmp_path: Path) -> None:
    article, _, _ = inspected
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        columns = {row[0] for row in con.execute("DESCRIBE indicators").fetchall()}
    finally:
        con.close()
    # doc_id is the article's own id; every other column of the table is in each printed figure.
    assert all(set(i) == columns - {"doc_id"} for i in article["indicators"])


def test_inspect_starts_no_prefect_and_is_fast(inspected) -> None:
    _, modules, took = inspected
    assert "flows.cli" in modules and "parsers.article" in modules, "importtime output was read"
    assert not {m for m in modules if m.split(".")[0] in {"prefect", "duckdb"}}
    assert took < 10, f"inspect took {took:.1f}s: a Prefect server start would show here"


def test_inspect_shows_what_ingest_stores(inspected, ingested_seeds) -> None:
    article, _, _ = inspected
    db, _ = ingested_seeds
    con = duckdb.connect(str(snapshot_path(db)), read_only=True)
    try:
        (doc_id, title) = con.execute("SELECT doc_id, title FROM documents WHERE uri LIKE ?", [f"%/{SEED}"]).fetchone()
        paragraphs = con.execute("SELECT text FROM paragraphs WHERE doc_id = ? ORDER BY ordinal", [doc_id]).fetchall()
        figures = con.execute(
            "SELECT indicator_id, raw_text, value FROM indicators WHERE doc_id = ? ORDER BY ordinal", [doc_id]
        ).fetchall()
        removed = con.execute("SELECT reason, text FROM cleaning_log WHERE doc_id = ? ORDER BY ordinal", [doc_id])
        removed_rows = removed.fetchall()
    finally:
        con.close()
    assert title == article["title"]
    assert [p[0] for p in paragraphs] == [p["text"] for p in article["paragraphs"]]
    assert figures == [(i["indicator_id"], i["raw_text"], i["value"]) for i in article["indicators"]]
    assert removed_rows == [(r["reason"], r["text"]) for r in article["removed"]]


def test_inspect_unreadable_file_is_an_error_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert main(["inspect", str(tmp_path / "empty.txt")]) == EXIT_ERROR
    assert "empty file" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path / "missing.txt")]) == EXIT_ERROR
    assert "cannot read" in capsys.readouterr().err


def test_query_csv_and_json(ingested_seeds, capsys: pytest.CaptureFixture[str]) -> None:
    db, _ = ingested_seeds
    sql = "SELECT uri, title, published_date FROM documents ORDER BY uri"
    assert main(["query", sql, "--db", str(db), "--format", "csv"]) == EXIT_OK
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0] == ["uri", "title", "published_date"]
    assert len(table) == 6
    assert any(row[0].endswith(SEED) and row[2] == "2023-09-22" and "苏州" in row[1] for row in table[1:])

    assert main(["query", sql, "--db", str(db), "--format", "json"]) == EXIT_OK
    records = json.loads(capsys.readouterr().out)
    assert [r["uri"] for r in records] == [row[0] for row in table[1:]]
    assert {r["published_date"] for r in records if r["uri"].endswith(SEED)} == {"2023-09-22"}


def test_query_is_read_only_and_reports_bad_sql(ingested_seeds, capsys: pytest.CaptureFixture[str]) -> None:
    db, _ = ingested_seeds
    assert main(["query", "DELETE FROM documents", "--db", str(db)]) == EXIT_ERROR
    assert main(["query", "SELECT * FROM no_such_table", "--db", str(db)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "read-only" in err.lower() and "no_such_table" in err
    assert main(["query", "SELECT count(*) AS n FROM documents", "--db", str(db), "--format", "csv"]) == EXIT_OK
    assert capsys.readouterr().out.split() == ["n", "5"]


def test_query_without_a_warehouse_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "SELECT 1", "--db", str(tmp_path / "none.duckdb")]) == EXIT_ERROR
    assert "run `civic-ingest ingest` first" in capsys.readouterr().err


def test_stats_summarizes_the_warehouse(ingested_seeds, capsys: pytest.CaptureFixture[str]) -> None:
    db, summary = ingested_seeds
    assert main(["stats", "--db", str(db)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"documents 5, sections {summary.sections}, paragraphs {summary.paragraphs}" in out
    for province in ("江苏省", "山东省", "陕西省", "吉林省"):
        assert province in out
    assert "duplicate_paragraph" in out
    last_runs = out.split("last runs\n", 1)[1].splitlines()
    assert last_runs[0].split() == ["flow", "finished_at", "new", "updated", "unchanged", "indicators", "rejects"]
    assert last_runs[2].startswith("ingest-files") and last_runs[2].split()[-5:-2] == ["5", "0", "0"]


def test_export_writes_parquet_that_duckdb_reads(ingested_seeds, tmp_path: Path, capsys) -> None:
    db, _ = ingested_seeds
    out = tmp_path / "export"
    assert main(["export", str(out), "--db", str(db)]) == EXIT_OK
    printed = capsys.readouterr().out.split()
    assert sorted(printed) == sorted(str(out / f"{t}.parquet") for t in PUBLIC_TABLES)

    con = duckdb.connect(str(snapshot_path(db)), read_only=True)
    try:
        counts = table_counts(con)
        titles = con.execute("SELECT doc_id, title FROM documents ORDER BY doc_id").fetchall()
    finally:
        con.close()
    reader = duckdb.connect()
    for table, n in counts.items():
        assert reader.execute("SELECT count(*) FROM read_parquet(?)", [str(out / f"{table}.parquet")]).fetchone() == (
            n,
        )
    exported = reader.execute(
        "SELECT doc_id, title FROM read_parquet(?) ORDER BY doc_id", [str(out / "documents.parquet")]
    ).fetchall()
    assert exported == titles


def test_query_reads_the_snapshot_while_the_warehouse_is_locked(
    ingested_seeds, tmp_path: Path, hold_warehouse, run_cli
) -> None:
    db, _ = ingested_seeds
    local = Path(shutil.copy(db, tmp_path / "warehouse.duckdb"))
    shutil.copy(snapshot_path(db), snapshot_path(local))
    holder = hold_warehouse(local)  # e.g. an ingest run or an analyst's DuckDB session

    done = run_cli("query", "SELECT count(*) AS n FROM documents", "--db", str(local), "--format", "csv", timeout=60)

    assert holder.poll() is None, "the file was still locked during the query"
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stdout.split() == ["n", "5"]


def test_a_run_on_a_warehouse_locked_too_long_fails_with_one_line(
    prefect_harness, seeds_dir: Path, tmp_path: Path, hold_warehouse, monkeypatch, capsys
) -> None:
    from flows import settings

    db = tmp_path / "warehouse.duckdb"
    connect(db).close()
    holder = hold_warehouse(db)  # an analyst's DuckDB session on the main file, not the snapshot
    monkeypatch.setattr(settings, "LOCK_WAIT_SECONDS", 0.5)

    assert main(["ingest", str(seeds_dir), "--db", str(db)]) == EXIT_ERROR

    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"error: warehouse {db} is locked by process {holder.pid}")
    assert "civic-ingest query" in err


def test_an_unforeseen_failure_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    """Exit 1 means "finished, some inputs rejected"; a command that could not finish must not look like that."""
    db = tmp_path / "warehouse.duckdb"
    db.write_text("an analyst saved notes under the warehouse's name\n" * 200)

    assert main(["stats", "--db", str(db)]) == EXIT_ERROR

    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: IOException:") and str(db) in err[0] and "not a valid DuckDB database" in err[0]
    assert err[0].endswith("(CIVIC_DEBUG=1 shows the traceback)")
    assert db.read_text().startswith("an analyst saved notes"), "the file that is not a warehouse is left alone"


def test_civic_debug_shows_the_traceback(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "warehouse.duckdb"
    db.write_text("not a database\n" * 200)
    monkeypatch.setenv("CIVIC_DEBUG", "1")

    with pytest.raises(duckdb.IOException, match="not a valid DuckDB database"):
        main(["stats", "--db", str(db)])
