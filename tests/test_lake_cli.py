"""`civic-ingest lake maintain` and the reading commands on a lake, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from flows.cli import EXIT_ERROR, EXIT_OK, main
from tests.conftest import LakeTarget
from warehouse.backends import open_warehouse


def test_maintain_refuses_a_duckdb_file_with_one_line(tmp_path: Path, capsys) -> None:
    db = tmp_path / "warehouse.duckdb"
    assert main(["lake", "maintain", "--db", str(db)]) == EXIT_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {db} is a DuckDB file: maintenance is for a DuckLake warehouse"]
    assert not db.exists(), "nothing was created"


def test_reading_a_lake_that_does_not_exist_yet_says_so(lake: LakeTarget, capsys) -> None:
    assert main(["stats", "--db", lake.url]) == EXIT_ERROR
    assert "there is no lake at" in capsys.readouterr().err


def test_stats_query_and_maintain_on_a_lake(lake: LakeTarget, seed_articles, monkeypatch, capsys) -> None:
    with open_warehouse(lake.url, lake_data=str(lake.data)) as writer:
        for article in seed_articles:
            writer.load([article])
    assert main(["query", "SELECT count(*) AS n FROM documents", "--db", lake.url, "--format", "csv"]) == EXIT_OK
    assert capsys.readouterr().out.split() == ["n", "5"]
    assert main(["stats", "--db", lake.url]) == EXIT_OK
    assert "documents 5" in capsys.readouterr().out
    assert main(["lake", "maintain", "--db", lake.url, "--keep-hours", "0"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["data_files_after"] < report["data_files_before"] and report["backend"] == "ducklake"
