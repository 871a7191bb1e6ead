"""Opening a warehouse: migrations recorded and applied once, old files upgraded, the file lock, the snapshot."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from warehouse.load import upsert_batch
from warehouse.queries import PUBLIC_TABLES, table_counts
from warehouse.schema import (
    WarehouseLocked,
    connect,
    migrate,
    migrations,
    open_for_reading,
    publish_snapshot,
    snapshot_path,
)

ANALYST_VIEWS = {"indicator_facts", "latest_indicators"}


def relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def recorded(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    return con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()


def test_fresh_warehouse_records_every_migration(tmp_path: Path) -> None:
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        assert recorded(con) == [(m.version, m.name) for m in migrations()]
        versions = [m.version for m in migrations()]
        assert versions == list(range(1, len(versions) + 1)), "versions are 1..n, no gaps"
        assert set(PUBLIC_TABLES) | ANALYST_VIEWS <= relations(con)
    finally:
        con.close()


def test_warehouse_from_migration_1_is_upgraded_when_opened(tmp_path: Path, seed_articles: list) -> None:
    path = tmp_path / "warehouse.duckdb"
    old = duckdb.connect(str(path))
    assert migrate(old, up_to=1) == [1]
    assert "runs" not in relations(old) and "indicator_facts" not in relations(old)
    # an analyst's existing data must survive the upgrade (today's loader writes paragraphs.kind, added by 006:
    # the article's paragraphs are left out here; test_paragraphs_before_006_are_read_as_paragraphs has them)
    upsert_batch(old, [replace(seed_articles[0], paragraphs=())])
    old.close()

    con = connect(path)
    try:
        assert recorded(con) == [(m.version, m.name) for m in migrations()]
        assert set(PUBLIC_TABLES) | ANALYST_VIEWS <= relations(con)
        assert table_counts(con)["documents"] == 1
        facts = con.execute("SELECT count(*) FROM indicator_facts").fetchone()
        assert facts == (len(seed_articles[0].indicators),)
        keys = con.execute(
            "SELECT table_name FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')"
        ).fetchall()
        assert {"sections", "paragraphs", "indicators", "cleaning_log"}.isdisjoint(t for (t,) in keys)
        assert con.execute("SELECT count(*) FROM duckdb_indexes()").fetchone() == (0,), "no ART index to upkeep"
        upsert_batch(con, seed_articles)  # and the upgraded file takes new loads
        assert table_counts(con)["documents"] == len(seed_articles)
    finally:
        con.close()


def test_paragraphs_before_006_are_read_as_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    old = duckdb.connect(str(path))
    migrate(old, up_to=5)
    old.execute(
        "INSERT INTO paragraphs (paragraph_id, doc_id, section_id, ordinal, text) VALUES ('p', 'd', NULL, 0, '正文')"
    )
    old.close()
    con = connect(path)
    try:
        assert con.execute("SELECT kind, text FROM paragraphs").fetchall() == [("paragraph", "正文")]
    finally:
        con.close()


def test_opening_twice_applies_nothing_new(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    first = connect(path)
    before = first.execute("SELECT * FROM schema_migrations ORDER BY version").fetchall()
    first.close()

    again = connect(path)
    try:
        assert again.execute("SELECT * FROM schema_migrations ORDER BY version").fetchall() == before
        assert migrate(again) == []
    finally:
        again.close()


def test_locked_warehouse_raises_naming_the_holder(tmp_path: Path, hold_warehouse) -> None:
    path = tmp_path / "warehouse.duckdb"
    connect(path).close()
    holder = hold_warehouse(path)

    started = time.monotonic()
    with pytest.raises(WarehouseLocked) as raised:
        connect(path, wait_seconds=1)
    waited = time.monotonic() - started

    assert f"process {holder.pid}" in str(raised.value)
    assert str(path) in str(raised.value)
    assert 1 <= waited < 10, "the wait is bounded by wait_seconds, not by the holder"


def test_read_only_holder_blocks_a_writer_too(tmp_path: Path, hold_warehouse) -> None:
    path = tmp_path / "warehouse.duckdb"
    connect(path).close()
    holder = hold_warehouse(path, read_only=True)
    with pytest.raises(WarehouseLocked, match=f"process {holder.pid}"):
        connect(path, wait_seconds=0.5)


def test_writer_waits_for_the_lock_to_be_released(tmp_path: Path, hold_warehouse) -> None:
    path = tmp_path / "warehouse.duckdb"
    connect(path).close()
    hold_warehouse(path, seconds=1.5)
    con = connect(path, wait_seconds=30)  # a run started while a short SQL session is open still completes
    con.close()


def test_snapshot_serves_readers_and_is_replaced_while_open(tmp_path: Path, seed_articles: list, hold_warehouse):
    path = tmp_path / "warehouse.duckdb"
    con = connect(path)
    upsert_batch(con, seed_articles[:2])
    assert publish_snapshot(con, path) == snapshot_path(path) == tmp_path / "warehouse.snapshot.duckdb"

    hold_warehouse(snapshot_path(path), read_only=True)  # an analyst keeps the old snapshot open
    upsert_batch(con, seed_articles[2:])
    publish_snapshot(con, path)
    con.close()

    reader = open_for_reading(path)
    try:
        assert table_counts(reader)["documents"] == 5
        assert relations(reader) >= ANALYST_VIEWS
    finally:
        reader.close()


def test_open_for_reading_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="civic-ingest ingest"):
        open_for_reading(tmp_path / "missing.duckdb")
    assert not (tmp_path / "missing.duckdb").exists(), "reading must not create an empty warehouse"
