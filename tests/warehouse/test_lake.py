"""The DuckLake backend on a real PostgreSQL catalog: same schema as a file, loads that survive other writers."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from parsers.records import Article
from tests.conftest import LakeTarget
from warehouse.backends import DuckDBFile, DuckLake, LakeError, open_warehouse
from warehouse.backends.ducklake import is_conflict, retry_conflicts
from warehouse.load import ArticleRows, Reject, document_table
from warehouse.queries import PUBLIC_TABLES, table_counts
from warehouse.schema import for_lake, migrations

# Columns that differ between any two loads (the clock), left out when two warehouses are compared.
CLOCK_COLUMNS = {"ingested_at", "updated_at", "first_seen", "last_seen", "applied_at"}


def open_lake(lake: LakeTarget) -> DuckLake:
    warehouse = open_warehouse(lake.url, lake_data=str(lake.data))
    assert isinstance(warehouse, DuckLake)
    return warehouse


def content(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[Any, ...]]:
    columns = [c for (c,) in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()]
    kept = ", ".join(c for c in columns if c not in CLOCK_COLUMNS)
    return con.execute(f"SELECT {kept} FROM {table} ORDER BY ALL").fetchall()


# --- the migration rule (pure) -------------------------------------------------------------------------


def test_for_lake_turns_keys_into_not_null_and_skips_indexes() -> None:
    sql = """
    -- a table with keys; its comment says PRIMARY KEY too
    CREATE TABLE things (
        thing_id VARCHAR PRIMARY KEY,   -- the id
        code     VARCHAR UNIQUE,
        label    VARCHAR NOT NULL DEFAULT 'x;y'
    );
    CREATE TABLE pairs (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b));
    CREATE UNIQUE INDEX things_code ON things (code);
    CREATE INDEX pairs_b ON pairs (b);
    DROP INDEX IF EXISTS old_index;
    """
    adapted = for_lake(sql)
    con = duckdb.connect()
    con.execute(adapted)
    assert "INDEX" not in adapted.upper() and "PRIMARY" not in adapted.upper() and "UNIQUE" not in adapted.upper()
    columns = con.execute("SELECT table_name, column_name, is_nullable FROM information_schema.columns ORDER BY ALL")
    assert columns.fetchall() == [
        ("pairs", "a", "NO"),
        ("pairs", "b", "NO"),
        ("things", "code", "YES"),
        ("things", "label", "NO"),
        ("things", "thing_id", "NO"),
    ]
    assert con.execute("SELECT count(*) FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')")
    assert con.execute("INSERT INTO things VALUES ('a', 'c', DEFAULT) RETURNING label").fetchall() == [("x;y",)]


def test_a_migration_of_views_and_new_columns_runs_on_a_lake_as_written() -> None:
    # What other issues add (e.g. a view plus ALTER TABLE … ADD COLUMN) needs no lake variant.
    sql = """
    ALTER TABLE documents ADD COLUMN language VARCHAR;
    CREATE OR REPLACE VIEW documents_by_language AS SELECT language, count(*) AS n FROM documents GROUP BY ALL;
    UPDATE documents SET language = 'zh' WHERE language IS NULL;
    """
    assert [s.split()[0] for s in for_lake(sql).split(";\n") if s] == ["ALTER", "CREATE", "UPDATE"]


def test_a_ducklake_variant_file_stands_in_for_its_migration_on_a_lake(tmp_path: Path) -> None:
    (tmp_path / "001_tags.sql").write_text(
        "CREATE TABLE tags (tag VARCHAR PRIMARY KEY);\nCREATE INDEX t ON tags (tag);"
    )
    (tmp_path / "002_upsert.sql").write_text("INSERT INTO tags VALUES ('a') ON CONFLICT DO NOTHING;")
    (tmp_path / "002_upsert.ducklake.sql").write_text(
        "INSERT INTO tags SELECT 'a' WHERE NOT EXISTS (SELECT 1 FROM tags WHERE tag = 'a');"
    )
    on_file = migrations(folder=tmp_path)
    on_lake = migrations("ducklake", folder=tmp_path)
    assert (
        [(m.version, m.name) for m in on_lake] == [(m.version, m.name) for m in on_file] == [(1, "tags"), (2, "upsert")]
    )
    assert "ON CONFLICT" in on_file[1].sql and "NOT EXISTS" in on_lake[1].sql
    assert on_lake[0].sql.strip() == "CREATE TABLE tags (tag VARCHAR NOT NULL);"


def test_every_shipped_migration_has_a_lake_version() -> None:
    file_versions = [(m.version, m.name) for m in migrations()]
    lake = migrations("ducklake")
    assert [(m.version, m.name) for m in lake] == file_versions
    assert all("PRIMARY KEY" not in m.sql and "CREATE INDEX" not in m.sql for m in lake)


# --- a lake on PostgreSQL ------------------------------------------------------------------------------


def test_a_lake_has_the_tables_views_and_columns_of_a_file(lake: LakeTarget, tmp_path: Path) -> None:
    def shape(con: duckdb.DuckDBPyConnection, database: str) -> list[tuple[Any, ...]]:
        return con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = ? ORDER BY table_name, ordinal_position",
            [database],
        ).fetchall()

    with DuckDBFile(str(tmp_path / "w.duckdb")) as file, open_lake(lake) as lakehouse:
        assert shape(lakehouse.connection, "lake") == shape(file.connection, "w")
        versions = "SELECT version, name FROM schema_migrations ORDER BY 1"
        assert lakehouse.connection.execute(versions).fetchall() == file.connection.execute(versions).fetchall()


def test_a_lake_loads_what_a_file_loads_and_a_second_load_changes_nothing(
    lake: LakeTarget, tmp_path: Path, seed_articles: list[Article]
) -> None:
    rejects = [Reject("empty.txt", "decode", "empty file")]
    with DuckDBFile(str(tmp_path / "w.duckdb")) as file, open_lake(lake) as lakehouse:
        for warehouse in (file, lakehouse):
            first = warehouse.load(seed_articles, rejects=rejects, now=datetime(2026, 1, 1))
            assert (first.new, first.unchanged) == (5, 0)
        again = lakehouse.load(seed_articles, now=datetime(2026, 1, 2))
        assert (again.new, again.updated, again.unchanged) == (0, 0, 5)
        for table in PUBLIC_TABLES:
            assert content(lakehouse.connection, table) == content(file.connection, table), table
        assert table_counts(lakehouse.connection)["documents"] == 5


def test_a_changed_article_replaces_its_rows_on_a_lake(lake: LakeTarget, seed_articles: list[Article]) -> None:
    first = seed_articles[0]
    revised = dataclasses.replace(first, title="修订后的标题", content_hash="revised", paragraphs=first.paragraphs[:2])
    with open_lake(lake) as lakehouse:
        lakehouse.load(seed_articles, now=datetime(2026, 1, 1))
        result = lakehouse.load([revised], now=datetime(2026, 1, 2))
        con = lakehouse.connection
        assert (result.new, result.updated) == (0, 1)
        assert con.execute("SELECT title FROM documents WHERE doc_id = ?", [first.doc_id]).fetchall() == [
            ("修订后的标题",)
        ]
        assert con.execute("SELECT count(*) FROM paragraphs WHERE doc_id = ?", [first.doc_id]).fetchone() == (2,)
        assert con.execute("SELECT count(*) FROM documents").fetchone() == (5,)


def test_a_commit_that_loses_a_conflict_is_run_again(lake: LakeTarget, seed_articles: list[Article]) -> None:
    with open_lake(lake) as a, open_lake(lake) as b:
        a.load(seed_articles[:2])
        attempts = []

        def replace_first_document() -> None:
            # Begins, deletes (a lake then conflicts with any other writer of the table), and — the first time —
            # lets writer `a` commit new documents before committing itself.
            con = b.connection
            attempts.append(1)
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM cleaning_log WHERE doc_id = ?", [seed_articles[0].doc_id])
            if len(attempts) == 1:
                a.load(seed_articles[2:4])
            con.execute("COMMIT")

        retry_conflicts(replace_first_document, first_delay=0.01)
        assert len(attempts) == 2, "the first commit conflicted with a's load and was run again"
        assert b.connection.execute("SELECT count(*) FROM documents").fetchone() == (4,)


def test_conflicts_are_recognised_and_other_errors_are_not(lake: LakeTarget, seed_articles: list[Article]) -> None:
    with open_lake(lake) as a, open_lake(lake) as b:
        a.load(seed_articles[:1])
        con = b.connection
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM paragraphs WHERE doc_id = ?", [seed_articles[0].doc_id])
        a.load(seed_articles[1:2])
        with pytest.raises(duckdb.Error) as raised:
            con.execute("COMMIT")
        assert is_conflict(raised.value)
        with pytest.raises(duckdb.Error) as other:
            con.execute("SELECT * FROM no_such_table")
        assert not is_conflict(other.value)


def test_a_document_two_writers_inserted_at_once_is_left_once(lake: LakeTarget, seed_articles: list[Article]) -> None:
    batch = ArticleRows.from_articles(seed_articles[:2])
    with open_lake(lake) as lakehouse:
        lakehouse.load(batch, now=datetime(2026, 1, 1))
        con = lakehouse.connection
        expected = {t: content(con, t) for t in ("documents", "sections", "paragraphs", "indicators", "cleaning_log")}
        # What a second writer's commit leaves when it inserted the same new documents at the same moment:
        con.register("doc_rows", document_table(batch.documents, {}, datetime(2026, 1, 1)))
        con.execute("INSERT INTO documents BY NAME SELECT * FROM doc_rows")
        for name, table in batch.children().items():
            con.register("child_rows", table)
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM child_rows")
        assert con.execute("SELECT count(*) FROM documents").fetchone() == (4,)

        lakehouse.load(batch, now=datetime(2026, 1, 2))  # the later writer's check after its commit

        for table, rows in expected.items():
            assert content(con, table) == rows, table


@pytest.mark.parametrize("first_writer", [0, 1])
def test_copies_loaded_by_two_writers_on_one_day_link_as_one_writer_would(
    first_writer: int, lake: LakeTarget, tmp_path: Path, seeds_dir: Path, parse_file: Any
) -> None:
    import shutil

    seed = seeds_dir / "004_5f680b67287a5d73.txt"
    copies = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        copies.append(parse_file(Path(shutil.copy(seed, tmp_path / folder / "article.txt"))))
    with open_lake(lake) as a, open_lake(lake) as b:
        writers = [a, b]
        writers[first_writer].load([copies[first_writer]], now=datetime(2026, 1, 1, 9))
        writers[1 - first_writer].load([copies[1 - first_writer]], now=datetime(2026, 1, 1, 17))
        links = dict(a.connection.execute("SELECT doc_id, duplicate_of FROM documents").fetchall())
    first, second = sorted(c.doc_id for c in copies)
    assert links == {first: None, second: first}, "same publish date, same day: the lower id is the original"


def test_readers_see_the_lake_directly_and_cannot_write(lake: LakeTarget, seed_articles: list[Article]) -> None:
    with open_lake(lake) as writer:
        writer.load(seed_articles[:3])
        reader = writer.reader()
        try:
            assert reader.execute("SELECT count(*) FROM documents").fetchone() == (3,)
            writer.load(seed_articles[3:])
            assert reader.execute("SELECT count(*) FROM documents").fetchone() == (5,), (
                "a new statement, a new snapshot"
            )
            with pytest.raises(duckdb.Error, match="read-only"):
                reader.execute("DELETE FROM documents")
        finally:
            reader.close()


def test_a_new_lake_needs_its_data_folder_and_keeps_it(lake: LakeTarget, tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="CIVIC_LAKE_DATA"):
        open_warehouse(lake.url).open()
    with pytest.raises(LakeError, match="run `civic-ingest ingest` first"):
        open_warehouse(lake.url).reader()
    open_lake(lake).open().close()
    with open_warehouse(lake.url) as again:  # once created, the catalog knows the folder
        assert again.connection.execute("SELECT count(*) FROM documents").fetchone() == (0,)
    with pytest.raises(LakeError, match="keeps its files elsewhere"):
        open_warehouse(lake.url, lake_data=str(tmp_path / "elsewhere")).open()


def test_maintenance_merges_small_files_and_expires_old_snapshots(
    lake: LakeTarget, seed_articles: list[Article]
) -> None:
    with open_lake(lake) as lakehouse:
        for article in seed_articles:  # five commits: five small files per table
            lakehouse.load([article])
        before = {t: content(lakehouse.connection, t) for t in PUBLIC_TABLES}
        done = lakehouse.maintain(keep_hours=0)
        assert done["data_files_after"] < done["data_files_before"]
        assert done["snapshots_expired"] > 0 and done["snapshots"] < done["snapshots_expired"]
        assert {t: content(lakehouse.connection, t) for t in PUBLIC_TABLES} == before
        again = lakehouse.maintain(keep_hours=0)
        assert again["data_files_after"] == done["data_files_after"]


def test_export_reads_the_lake(lake: LakeTarget, tmp_path: Path, seed_articles: list[Article]) -> None:
    from warehouse.queries import export_parquet

    with open_lake(lake) as writer:
        writer.load(seed_articles)
        reader = writer.reader()
        try:
            written = export_parquet(reader, tmp_path / "out")
        finally:
            reader.close()
        counts = table_counts(writer.connection)
    exported = {p.stem: duckdb.sql(f"SELECT count(*) FROM '{p}'").fetchone()[0] for p in written}  # type: ignore[index]
    assert exported == counts and exported["indicators"] > 0
