"""The `ingest-files` flow under a real Prefect test server: seeds in, warehouse rows, run record and artifact out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.ingest_files import ingest_files
from warehouse.queries import PUBLIC_TABLES, table_counts
from warehouse.schema import connect, snapshot_path

pytestmark = pytest.mark.usefixtures("prefect_harness")

JIANGSU_SEED = "000_64fbd062cf5ae21c.txt"  # repeats its evaluation paragraph (5A级社会组织409家)


def read_only(db: Path) -> duckdb.DuckDBPyConnection:
    return connect(db, read_only=True, wait_seconds=5)


def contents(db: Path, tables: tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    con = read_only(db)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    finally:
        con.close()


def test_flow_loads_the_seeds(ingested_seeds, seed_files: list[Path]) -> None:
    db, summary = ingested_seeds
    con = read_only(db)
    try:
        counts = table_counts(con)
        uris = sorted(row[0] for row in con.execute("SELECT uri FROM documents").fetchall())
        duplicates = con.execute(
            "SELECT d.uri, d.region_province, c.text FROM cleaning_log c JOIN documents d USING (doc_id) "
            "WHERE c.reason = 'duplicate_paragraph'"
        ).fetchall()
        kept = con.execute("SELECT count(*) FROM paragraphs WHERE text LIKE '%全省共有5A级社会组织409家%'").fetchone()
        run = con.execute("SELECT flow, articles_new, paragraphs, rejects FROM runs WHERE run_id = ?", [summary.run_id])
        run_row = run.fetchone()
    finally:
        con.close()

    assert uris == sorted(str(f) for f in seed_files), "uri is the path as given, ending with the file name"
    assert counts["documents"] == 5
    assert counts["sections"] > 0 and counts["paragraphs"] > 0 and counts["indicators"] > 0
    assert (counts["sections"], counts["paragraphs"], counts["indicators"]) == (
        summary.sections,
        summary.paragraphs,
        summary.indicators,
    )
    assert counts["rejects"] == 0 and not summary.rejects
    assert [(Path(uri).name, province) for uri, province, _ in duplicates] == [(JIANGSU_SEED, "江苏省")]
    assert kept == (1,), "the repeated paragraph is stored once"
    assert run_row == ("ingest-files", 5, summary.paragraphs, 0)

    snapshot = duckdb.connect(str(snapshot_path(db)), read_only=True)
    try:
        assert table_counts(snapshot) == counts, "the run publishes a snapshot for readers"
    finally:
        snapshot.close()


def test_flow_publishes_its_summary_as_a_markdown_artifact(ingested_seeds) -> None:
    import httpx
    from prefect.settings import PREFECT_API_URL

    _, summary = ingested_seeds
    # The REST endpoint directly: prefect 3.8.8's client sends null for omitted filters, which this server
    # rejects with a 422, and empty filter objects join task runs (dropping flow-level artifacts).
    response = httpx.post(
        f"{PREFECT_API_URL.value()}/artifacts/filter",
        json={"artifacts": {"flow_run_id": {"any_": [summary.run_id]}}},
        timeout=30,
    )
    response.raise_for_status()
    artifacts = {a["key"]: a["data"] for a in response.json()}
    assert sorted(artifacts) == ["ingest-files-report", "ingest-files-summary"]
    markdown = artifacts["ingest-files-summary"]
    assert "| articles new | 5 |" in markdown
    assert f"| paragraphs | {summary.paragraphs} |" in markdown
    assert "## Rejects\nnone" in markdown
    report = Path(summary.report)
    assert report.exists() and f"]({report.as_uri()})" in artifacts["ingest-files-report"], "links the run's report"


def test_rerunning_the_same_seeds_changes_no_rows(seed_copy: Path, tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    data_tables = tuple(t for t in PUBLIC_TABLES if t != "runs")

    first = ingest_files(paths=[str(seed_copy)], db=str(db))
    before = contents(db, data_tables)
    second = ingest_files(paths=[str(seed_copy)], db=str(db))

    assert first.articles_new == 5
    assert (second.articles_new, second.articles_updated, second.articles_unchanged) == (0, 0, 5)
    assert not second.rejects
    assert contents(db, data_tables) == before
    con = read_only(db)
    try:
        assert table_counts(con)["runs"] == 2, "each run is recorded"
    finally:
        con.close()


def test_a_changed_seed_replaces_that_article_only(seed_copy: Path, tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    ingest_files(paths=[str(seed_copy)], db=str(db))
    edited = seed_copy / JIANGSU_SEED
    others = ("documents", "sections", "paragraphs", "indicators", "cleaning_log")

    def other_rows() -> dict[str, list[tuple[Any, ...]]]:
        con = read_only(db)
        try:
            return {
                t: con.execute(
                    f"SELECT t.* FROM {t} t JOIN documents d USING (doc_id) WHERE d.uri <> ? ORDER BY ALL",
                    [str(edited)],
                ).fetchall()
                for t in others
            }
        finally:
            con.close()

    untouched = other_rows()
    old = "江苏是经济大省,也是社会组织大省。"
    new = "江苏是人口大省,也是社会组织大省和慈善大省。"
    text = edited.read_text(encoding="utf-8")
    assert old in text
    edited.write_text(text.replace(old, new), encoding="utf-8")

    summary = ingest_files(paths=[str(seed_copy)], db=str(db))

    assert (summary.articles_new, summary.articles_updated, summary.articles_unchanged) == (0, 1, 4)
    con = read_only(db)
    try:
        texts = [
            row[0]
            for row in con.execute(
                "SELECT p.text FROM paragraphs p JOIN documents d USING (doc_id) WHERE d.uri = ?", [str(edited)]
            ).fetchall()
        ]
        assert table_counts(con)["documents"] == 5
    finally:
        con.close()
    assert any(new in t for t in texts)
    assert not any(old in t for t in texts)
    assert other_rows() == untouched
