"""Loading batches: upserts that re-run cleanly, replace changed articles, roll back whole, and link reposts."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from parsers.records import Article, Paragraph, stable_id
from warehouse.load import ROW_IDS, ArticleRows, Reject, sweep_host_boilerplate, upsert_batch
from warehouse.queries import PUBLIC_TABLES, table_counts
from warehouse.schema import connect

EDITED_SEED = "000_64fbd062cf5ae21c.txt"  # Jiangsu: opens with 全省共注册登记社会组织7.7万家


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


def contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every public table, in a stable order."""
    return {table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in PUBLIC_TABLES}


def doc_rows(con: duckdb.DuckDBPyConnection, doc_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row that belongs to one document."""
    tables = ("documents", "sections", "paragraphs", "indicators", "cleaning_log")
    return {t: con.execute(f"SELECT * FROM {t} WHERE doc_id = ? ORDER BY ALL", [doc_id]).fetchall() for t in tables}


def assert_row_ids_unique(con: duckdb.DuckDBPyConnection) -> None:
    """The child tables carry no key constraint (migration 003): the loader keeps their ids unique."""
    for table, key in ROW_IDS.items():
        total, distinct = con.execute(f"SELECT count(*), count(DISTINCT {key}) FROM {table}").fetchone()
        assert total == distinct, f"{table}.{key} repeats"
    total, distinct = con.execute("SELECT count(*), count(DISTINCT (doc_id, ordinal)) FROM cleaning_log").fetchone()
    assert total == distinct, "cleaning_log (doc_id, ordinal) repeats"


def test_loading_the_same_articles_again_changes_nothing(warehouse, seed_articles: list[Article]) -> None:
    first = upsert_batch(warehouse, seed_articles, now=datetime(2026, 1, 1))
    before = contents(warehouse)
    second = upsert_batch(warehouse, seed_articles, now=datetime(2026, 1, 2))

    assert (first.new, first.updated, first.unchanged) == (5, 0, 0)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 5)
    assert contents(warehouse) == before, "an unchanged article is not rewritten (not even updated_at)"
    counts = table_counts(warehouse)
    assert counts["documents"] == 5
    assert counts["paragraphs"] == sum(len(a.paragraphs) for a in seed_articles)
    assert counts["indicators"] == sum(len(a.indicators) for a in seed_articles)


def test_the_same_article_twice_in_one_batch_loads_once(warehouse, seed_articles: list[Article]) -> None:
    article = seed_articles[0]
    result = upsert_batch(warehouse, [article, article])
    assert (result.new, result.updated) == (1, 0)
    assert table_counts(warehouse)["paragraphs"] == len(article.paragraphs)


def test_rows_built_apart_load_like_articles_and_a_document_twice_is_refused(
    warehouse, tmp_path: Path, seed_articles: list[Article]
) -> None:
    """Parser processes hand the loader Arrow rows built per chunk of documents; the chunks load as one batch."""
    chunks = [ArticleRows.from_articles(seed_articles[:2]), ArticleRows.from_articles(seed_articles[2:])]
    result = upsert_batch(warehouse, ArticleRows.concat(chunks), now=datetime(2026, 1, 1))
    assert (result.new, result.rows) == (5, ArticleRows.from_articles(seed_articles).rows)
    loaded = contents(warehouse)
    direct = connect(tmp_path / "direct.duckdb")
    try:
        upsert_batch(direct, seed_articles, now=datetime(2026, 1, 1))
        assert contents(direct) == loaded
    finally:
        direct.close()

    with pytest.raises(ValueError, match=r"documents.doc_id '\w+' occurs twice"):
        upsert_batch(warehouse, ArticleRows.concat([chunks[0], ArticleRows.from_articles(seed_articles[:1])]))
    assert contents(warehouse) == loaded


def test_changed_file_replaces_its_rows_and_keeps_the_others(
    warehouse, seed_copy: Path, parse_file: Callable[[Path], Article]
) -> None:
    files = sorted(seed_copy.glob("*.txt"))
    upsert_batch(warehouse, [parse_file(f) for f in files], now=datetime(2026, 1, 1))
    edited = seed_copy / EDITED_SEED
    others = {a.doc_id: doc_rows(warehouse, a.doc_id) for a in map(parse_file, files) if a.uri != str(edited)}
    old = parse_file(edited)
    assert warehouse.execute(
        "SELECT count(*) FROM indicators WHERE doc_id = ? AND raw_text = '7.7万家'", [old.doc_id]
    ).fetchone() == (1,)

    # The outlet corrects a figure and drops the closing paragraph.
    lines = edited.read_text(encoding="utf-8").splitlines()
    closing = next(line for line in lines if line.startswith("新起点承载新使命"))
    text = "\n".join(line for line in lines if line != closing).replace("社会组织7.7万家", "社会组织7.9万家")
    edited.write_text(text, encoding="utf-8")
    new = parse_file(edited)
    result = upsert_batch(warehouse, [parse_file(f) for f in files], now=datetime(2026, 2, 1))

    assert (result.new, result.updated, result.unchanged) == (0, 1, 4)
    assert new.doc_id == old.doc_id, "a document's id follows its path, not its content"
    paragraphs = [
        r[0] for r in warehouse.execute("SELECT text FROM paragraphs WHERE doc_id = ?", [new.doc_id]).fetchall()
    ]
    assert any("社会组织7.9万家" in p for p in paragraphs)
    assert not any("7.7万家" in p for p in paragraphs)
    assert not any(p.startswith("新起点承载新使命") for p in paragraphs), "rows of a dropped paragraph are deleted"
    assert len(paragraphs) == len(new.paragraphs) == len(old.paragraphs) - 1
    figures = warehouse.execute("SELECT raw_text FROM indicators WHERE doc_id = ?", [new.doc_id]).fetchall()
    assert ("7.9万家",) in figures and ("7.7万家",) not in figures
    ingested, updated = warehouse.execute(
        "SELECT ingested_at, updated_at FROM documents WHERE doc_id = ?", [new.doc_id]
    ).fetchone()
    assert (ingested, updated) == (datetime(2026, 1, 1), datetime(2026, 2, 1))
    assert {doc_id: doc_rows(warehouse, doc_id) for doc_id in others} == others, "other articles untouched"
    assert_row_ids_unique(warehouse)


def _null_metric(article: Article) -> Article:
    broken = dataclasses.replace(article.indicators[-1], metric=None)  # violates indicators.metric NOT NULL
    return dataclasses.replace(article, indicators=(*article.indicators[:-1], broken))


def _repeated_paragraph_id(article: Article) -> Article:
    first, second, *rest = article.paragraphs
    clash = dataclasses.replace(second, paragraph_id=first.paragraph_id)  # a row id twice
    return dataclasses.replace(article, paragraphs=(first, clash, *rest))


@pytest.mark.parametrize(
    ("break_article", "error"),
    [(_null_metric, duckdb.ConstraintException), (_repeated_paragraph_id, ValueError)],
)
def test_failed_batch_leaves_the_warehouse_exactly_as_before(
    warehouse, seed_articles: list[Article], break_article: Callable[[Article], Article], error: type[Exception]
) -> None:
    upsert_batch(warehouse, seed_articles[:3], rejects=[Reject("inbox/old.txt", "decode", "empty file")])
    before = contents(warehouse)
    # An update of a loaded article (its old rows are deleted first), a new one, a broken one and a reject.
    revised = dataclasses.replace(seed_articles[0], content_hash="revised", paragraphs=seed_articles[0].paragraphs[:2])
    batch = [revised, seed_articles[3], break_article(seed_articles[4])]

    with pytest.raises(error):
        upsert_batch(warehouse, batch, rejects=[Reject("inbox/new.txt", "decode", "empty file")])

    assert contents(warehouse) == before
    # The connection is usable and a re-run of the repaired batch completes.
    result = upsert_batch(warehouse, [revised, seed_articles[3], seed_articles[4]])
    assert (result.new, result.updated) == (2, 1)
    assert table_counts(warehouse)["documents"] == 5


def test_a_repost_under_another_uri_points_to_the_first_and_counts_once(
    warehouse, tmp_path: Path, seeds_dir: Path, parse_file: Callable[[Path], Article]
) -> None:
    seed = seeds_dir / "004_5f680b67287a5d73.txt"
    (tmp_path / "site-a").mkdir()
    (tmp_path / "site-b").mkdir()
    original = parse_file(Path(shutil.copy(seed, tmp_path / "site-a" / "article.txt")))
    repost = parse_file(Path(shutil.copy(seed, tmp_path / "site-b" / "reprint.txt")))
    assert original.doc_id != repost.doc_id and original.indicators

    upsert_batch(warehouse, [original], now=datetime(2026, 1, 1))
    upsert_batch(warehouse, [repost], now=datetime(2026, 1, 2))

    links = dict(warehouse.execute("SELECT doc_id, duplicate_of FROM documents").fetchall())
    assert links == {original.doc_id: None, repost.doc_id: original.doc_id}
    assert table_counts(warehouse)["indicators"] == 2 * len(original.indicators), "both copies keep their rows"
    facts = warehouse.execute("SELECT doc_id, count(*) FROM indicator_facts GROUP BY doc_id").fetchall()
    assert facts == [(original.doc_id, len(original.indicators))]

    # Loading the repost again keeps the link; once the original's text changes the copy stands alone.
    upsert_batch(warehouse, [repost], now=datetime(2026, 1, 3))
    assert warehouse.execute("SELECT duplicate_of FROM documents WHERE doc_id = ?", [repost.doc_id]).fetchone() == (
        original.doc_id,
    )
    rewritten = tmp_path / "site-a" / "article.txt"
    rewritten.write_text(
        seed.read_text(encoding="utf-8") + "\n本文已于次日更新,补充了全省社会组织参与乡村振兴的最新进展。\n"
    )
    upsert_batch(warehouse, [parse_file(rewritten)], now=datetime(2026, 1, 4))
    assert warehouse.execute("SELECT count(*) FROM documents WHERE duplicate_of IS NOT NULL").fetchone() == (0,)


def test_loaded_input_clears_its_reject_and_repeated_rejects_count_attempts(
    warehouse, seed_articles: list[Article]
) -> None:
    article = seed_articles[0]
    upsert_batch(warehouse, [], rejects=[Reject(article.uri, "decode", "empty file"), Reject("b.txt", "clean", "x")])
    upsert_batch(warehouse, [], rejects=[Reject("b.txt", "clean", "no article body")])
    upsert_batch(warehouse, [article])

    rows = warehouse.execute("SELECT uri, stage, reason, attempts FROM rejects").fetchall()
    assert rows == [("b.txt", "clean", "no article body", 2)]


def _page(uri: str, paragraphs: list[str]) -> Article:
    doc_id = stable_id("doc", uri)
    return Article(
        doc_id=doc_id,
        uri=uri,
        source_name="site",
        title=uri,
        published_date=None,
        source=None,
        author=None,
        region_province=None,
        region_city=None,
        content_hash=stable_id(uri, *paragraphs),
        text_hash=stable_id(*paragraphs),
        paragraphs=tuple(Paragraph(stable_id(doc_id, "p", n), n, None, t) for n, t in enumerate(paragraphs)),
        char_count=sum(map(len, paragraphs)),
    )


def test_table_rows_and_figures_repeated_across_pages_are_data_not_boilerplate(tmp_path: Path) -> None:
    """A report page, its spreadsheet and a reading of it print the same rows: data, never swept."""
    from parsers.article import parse_document
    from parsers.records import RawDocument

    table = "<table><tr><th>指标</th><th>单位</th><th>数量</th></tr><tr><td>城市低保人数</td><td>人</td><td>23810</td></tr></table>"
    footer = "<p>本网站所载文章仅供参考，转载请注明出处，如有侵权请与本站联系删除。</p>"
    pages = [
        parse_document(
            RawDocument(
                f"http://mz.example.gov.cn/tjsj/{n}.html",
                f"<html><head><title>2024年1季度民政统计数据{n}</title></head><body><div class='TRS_Editor'>"
                f"<p>第{n}份统计材料的说明文字，数据如下表所示，供社会各界参考使用。</p>{table}{footer}</div></body></html>".encode(),
                True,
                source_name="site",
            )
        )
        for n in range(3)
    ]
    con = connect(tmp_path / "w.duckdb")
    try:
        upsert_batch(con, pages)
        assert sweep_host_boilerplate(con) == 3  # the footer, once on each page
        swept = con.execute("SELECT DISTINCT text FROM cleaning_log WHERE reason = 'host_boilerplate'").fetchall()
        assert [t for (t,) in swept] == ["本网站所载文章仅供参考，转载请注明出处，如有侵权请与本站联系删除。"]
        figures = con.execute("SELECT count(*) FROM indicators WHERE metric_code = 'urban_dibao_persons'").fetchone()
        assert figures == (3,)
    finally:
        con.close()


def test_paragraphs_repeated_across_pages_of_one_host_are_swept_as_boilerplate(tmp_path: Path) -> None:
    notice = "本网站所载文章仅供参考，转载请注明出处，如有侵权请与本站联系删除。"
    pages = [
        _page(f"http://mz.example.gov.cn/art/{n}.html", [f"第{n}篇文章的正文内容，全市社会组织达到{n}00家。", notice])
        for n in range(3)
    ]
    other_host = _page("http://news.example.com/a.html", ["另一个网站的正文。", notice])
    con = connect(tmp_path / "w.duckdb")
    try:
        upsert_batch(con, [*pages, other_host])
        assert sweep_host_boilerplate(con) == 3
        assert sweep_host_boilerplate(con) == 0  # idempotent
        kept = [t for (t,) in con.execute("SELECT text FROM paragraphs ORDER BY doc_id, ordinal").fetchall()]
        assert kept.count(notice) == 1  # only on the other host, where it appears once
        logged = con.execute("SELECT count(*) FROM cleaning_log WHERE reason = 'host_boilerplate'").fetchone()
        assert logged == (3,)
    finally:
        con.close()


def test_the_sweep_counts_pages_per_host_and_leaves_local_files_alone(tmp_path: Path) -> None:
    notice = "欢迎转载，转载请注明来源：本站。联系电话：0371-12345678。"
    pages = [
        _page("http://a.example.gov.cn/1.html", ["甲网站第一篇正文。", notice]),
        _page("http://a.example.gov.cn/2.html", ["甲网站第二篇正文。", notice]),
        _page("https://b.example.gov.cn/1.html", ["乙网站正文。", notice]),
        *(_page(f"seeds/{n}.txt", [f"本地文件{n}的正文。", notice]) for n in range(3)),
    ]
    con = connect(tmp_path / "w.duckdb")
    try:
        upsert_batch(con, pages)
        assert sweep_host_boilerplate(con) == 0  # 2 pages on one host, 1 on another; local files never count
        upsert_batch(con, [_page("http://a.example.gov.cn/3.html", ["甲网站第三篇正文。", notice])])
        assert sweep_host_boilerplate(con) == 3  # the third page of host a makes it boilerplate on all three
        left = con.execute("SELECT d.uri FROM paragraphs p JOIN documents d USING (doc_id) WHERE p.text = ?", [notice])
        assert sorted(uri for (uri,) in left.fetchall()) == ["https://b.example.gov.cn/1.html"] + [
            f"seeds/{n}.txt" for n in range(3)
        ]
        ordinals = con.execute("SELECT doc_id, ordinal FROM cleaning_log WHERE reason = 'host_boilerplate'").fetchall()
        assert len(set(ordinals)) == 3
    finally:
        con.close()
