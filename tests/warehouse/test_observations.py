"""Comparable figures: statistics-table rows and prose figures about one quantity line up in `observations`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from parsers.article import parse_document
from parsers.metrics import code_topics, default_rules
from parsers.records import Article, RawDocument
from warehouse.load import upsert_batch
from warehouse.queries import stats
from warehouse.schema import connect

TABLE_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>2024年6月社会服务统计月报</title>
<meta name="PubDate" content="2024-07-20"></head><body><div id="zoom">
<p>编制单位:江苏省　　2024年度 06月份</p>
<table>
<tr><td>指标名称</td><td>单位</td><td>代码</td><td>数量</td><td>上期</td><td>环比</td></tr>
<tr><td>甲</td><td>乙</td><td>丙</td><td>1</td><td>2</td><td>3</td></tr>
<tr><td>一、社会救助</td><td></td><td></td><td></td><td></td><td></td></tr>
<tr><td>(一)城市最低生活保障</td><td></td><td></td><td></td><td></td><td></td></tr>
<tr><td>1.最低生活保障人数</td><td>万人</td><td>JZH011221000</td><td>6.2</td><td>6.3</td><td>-1.59</td></tr>
<tr><td>2.最低生活保障户数</td><td>户</td><td>JZH011222000</td><td>40,437</td><td>39,532</td><td>2.29</td></tr>
<tr><td>(二)农村最低生活保障</td><td></td><td></td><td></td><td></td><td></td></tr>
<tr><td>1.最低生活保障人数</td><td>人</td><td>JZH011223000</td><td>412,768</td><td>406,503</td><td>1.54</td></tr>
<tr><td>2.最低生活保障户数</td><td>户</td><td>JZH011224000</td><td></td><td>223,199</td><td></td></tr>
<tr><td>二、民政事业费累计支出</td><td>亿元</td><td>JZH011310000</td><td>76.2</td><td>60.1</td><td>26.79</td></tr>
</table></div></body></html>"""

PROSE = "江苏省民政厅{day}讯 截至2024年6月底,全省城市低保对象{urban},农村低保对象41.3万人,全省共有养老机构2310家。"


def _article(tmp_path: Path, name: str, content: str, *, is_html: bool) -> Article:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return parse_document(RawDocument(str(path), path.read_bytes(), is_html))


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


def _prose(tmp_path: Path, name: str, published: str, urban: str) -> Article:
    text = f"江苏低保工作稳步推进\n发布时间:{published}\n\n" + PROSE.format(day=published[5:], urban=urban)
    return _article(tmp_path, name, text, is_html=False)


def test_a_table_row_and_a_prose_figure_of_one_quantity_are_one_observation(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    table = _article(tmp_path, "report.html", TABLE_PAGE, is_html=True)
    near = _prose(tmp_path, "news-1.txt", "2024-07-10", "6.2万人")  # the same figure, rounded
    far = _prose(tmp_path, "news-2.txt", "2024-07-25", "7.1万人")  # a source that says otherwise
    upsert_batch(warehouse, [table, near, far], now=datetime(2024, 8, 1))

    rows = warehouse.execute(
        "SELECT metric_code, region, period_end, value, preferred_origin, documents, agree, min_value, max_value "
        "FROM observations WHERE metric_code IN ('urban_dibao_persons', 'rural_dibao_persons', "
        "'rural_dibao_households', 'civil_affairs_spending') ORDER BY metric_code"
    ).fetchall()
    by_code = {r[0]: r for r in rows}
    urban = by_code["urban_dibao_persons"]
    # the table (6.2 万人 = 62,000) is preferred; the later prose page's 7.1万 is a visible conflict, not averaged
    assert urban[1:6] == ("江苏省", date(2024, 6, 30), 62000.0, "table", 3)
    assert urban[6] is False and (urban[7], urban[8]) == (62000.0, 71000.0)
    rural = by_code["rural_dibao_persons"]
    # 41.3万 printed stands for 412,500-413,500: the table's 412,768 agrees with it
    assert rural[3:7] == (412768.0, "table", 3, True)
    assert "rural_dibao_households" not in by_code  # an empty 数量 cell is no figure
    spending = by_code["civil_affairs_spending"]
    assert spending[2:4] == (date(2024, 6, 30), 7.62e9)  # 亿元 -> 元; 累计 from January 1
    start = warehouse.execute(
        "SELECT period_start FROM indicators WHERE metric_code = 'civil_affairs_spending'"
    ).fetchone()
    assert start == (date(2024, 1, 1),)


def test_without_a_table_the_later_publication_is_preferred(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    first = _prose(tmp_path, "news-1.txt", "2024-07-10", "6.2万人")
    later = _prose(tmp_path, "news-2.txt", "2024-07-25", "6.3万人")
    upsert_batch(warehouse, [first, later], now=datetime(2024, 8, 1))
    row = warehouse.execute(
        "SELECT value, preferred_origin, documents, agree, preferred_uri FROM observations "
        "WHERE metric_code = 'urban_dibao_persons'"
    ).fetchone()
    assert row is not None
    assert row[:4] == (63000.0, "prose", 2, False)
    assert str(row[4]).endswith("news-2.txt")


def test_figures_know_their_origin_and_stats_show_coverage_by_topic(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    table = _article(tmp_path, "report.html", TABLE_PAGE, is_html=True)
    news = _prose(tmp_path, "news-1.txt", "2024-07-10", "6.2万人")
    upsert_batch(warehouse, [table, news], now=datetime(2024, 8, 1))
    origins = dict(warehouse.execute("SELECT origin, count(*) FROM indicators GROUP BY origin").fetchall())
    assert origins == {"table": 4, "prose": 3}
    sentence = warehouse.execute(
        "SELECT sentence, raw_text FROM indicators WHERE origin = 'table' AND metric_code = 'urban_dibao_households'"
    ).fetchone()
    assert sentence == ("2.最低生活保障户数 | 户 | 40,437", "40,437")
    coverage = {row[0]: row[1:] for row in stats(warehouse, code_topics(default_rules()))["coverage_by_topic"]}
    assert coverage["assistance"] == (5, 5, 1.0)
    assert coverage["elderly"] == (1, 1, 1.0)
    assert coverage["spending"] == (1, 1, 1.0)
