"""BatchLoader: parsed batches gathered and loaded in large transactions, nothing lost when a run fails."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest

from flows.pipeline import BatchLoader
from flows.summary import RunSummary
from parsers.records import Article
from warehouse.load import ArticleRows, Reject
from warehouse.queries import table_counts
from warehouse.schema import connect

pytestmark = [
    pytest.mark.usefixtures("prefect_harness"),
    pytest.mark.filterwarnings("ignore:Logger .prefect.task_runs. attempted to send logs"),  # tasks run outside a flow
]


def loaded_documents(db: Path) -> int:
    con = connect(db, wait_seconds=5)  # in this process it joins the loader's open warehouse
    try:
        return table_counts(con)["documents"]
    finally:
        con.close()


def test_batches_load_once_enough_rows_are_gathered_and_the_rest_at_the_end(
    tmp_path: Path, seed_articles: list[Article]
) -> None:
    db = tmp_path / "warehouse.duckdb"
    batches = [ArticleRows.from_articles([a]) for a in seed_articles]
    threshold = batches[0].rows + batches[1].rows  # the first two seeds fill a load
    summary = RunSummary("test", "run-1", datetime.now())

    with BatchLoader(str(db), summary, flush_rows=threshold) as loader:
        loader.add(batches[0], [Reject("bad.txt", "decode", "empty file")])
        assert loaded_documents(db) == 0, "one seed is not enough rows for a load"
        loader.add(batches[1])
        assert loaded_documents(db) == 2
        assert summary.articles_new == 2
        loader.add(batches[2])
        loader.add(batches[3])
        loader.add(batches[4])
    assert loaded_documents(db) == 5, "what is left is loaded when the loader is let go"
    assert summary.articles_new == 5
    assert summary.indicators == sum(len(a.indicators) for a in seed_articles)
    assert summary.removals == sum(len(a.removals) for a in seed_articles)
    assert [r.uri for r in summary.rejects] == ["bad.txt"]
    assert summary.timings["load"] > 0
    con = connect(db, wait_seconds=5)
    try:
        assert con.execute("SELECT uri, reason FROM rejects").fetchall() == [("bad.txt", "empty file")]
    finally:
        con.close()


def test_a_run_that_fails_elsewhere_still_loads_what_it_gathered(tmp_path: Path, seed_articles: list[Article]) -> None:
    db = tmp_path / "warehouse.duckdb"
    summary = RunSummary("test", "run-1", datetime.now())

    with pytest.raises(RuntimeError, match="site went away"), BatchLoader(str(db), summary) as loader:
        loader.add(ArticleRows.from_articles(seed_articles[:3]))
        raise RuntimeError("site went away")

    assert loaded_documents(db) == 3
    assert summary.articles_new == 3


def test_a_document_gathered_twice_is_loaded_as_its_latest_copy(tmp_path: Path, seed_articles: list[Article]) -> None:
    db = tmp_path / "warehouse.duckdb"
    summary = RunSummary("test", "run-1", datetime.now())
    first = seed_articles[0]
    revised = dataclasses.replace(first, title="修订后的标题", content_hash="revised")

    with BatchLoader(str(db), summary) as loader:
        loader.add(ArticleRows.from_articles(seed_articles[:2]))
        loader.add(ArticleRows.from_articles([revised]))

    con = connect(db, wait_seconds=5)
    try:
        assert con.execute("SELECT title FROM documents WHERE doc_id = ?", [first.doc_id]).fetchone() == (
            "修订后的标题",
        )
        assert table_counts(con)["paragraphs"] == sum(len(a.paragraphs) for a in seed_articles[:2])
    finally:
        con.close()
    assert (summary.articles_new, summary.articles_updated) == (2, 1)
