"""Statistics tables read as data: layouts, units, periods, regions, parents and codes."""

from __future__ import annotations

from datetime import date

from parsers.article import parse_document
from parsers.records import Indicator, RawDocument
from parsers.tables import find_text_tables, read_html_tables, report_period, split_unit


def _parse(text: str, *, is_html: bool, region: str | None = None) -> tuple[Indicator, ...]:
    raw = RawDocument("page.html" if is_html else "page.txt", text.encode("utf-8"), is_html, default_region=region)
    return parse_document(raw).indicators


def test_units_scale_to_the_base_unit_and_rates_stay_rates() -> None:
    assert split_unit("万人") == (1e4, "人")
    assert split_unit("亿元") == (1e8, "元")
    assert split_unit("万元") == (1e4, "元")
    assert split_unit("万张") == (1e4, "张")
    assert split_unit("元/人、月") == (1.0, "元/人·月")
    assert split_unit("元/人·月") == (1.0, "元/人·月")
    assert split_unit("同比") is None


def test_report_periods() -> None:
    quarter = report_period("2021年2季度社会服务统计季报")
    assert quarter and (quarter.start, quarter.end, quarter.kind) == (date(2021, 4, 1), date(2021, 6, 30), "quarter")
    month = report_period("编制单位:福建省 | 2020年度 01月份")
    assert month and (month.start, month.end) == (date(2020, 1, 1), date(2020, 1, 31))
    third = report_period("社会服务统计季报表\n2018年9月")
    assert third and (third.start, third.end) == (date(2018, 7, 1), date(2018, 9, 30))
    assert report_period("发布时间:2023-07-04 09:00") is None  # a publication date is not the report's period


HTML = """<html><head><title>统计月报</title></head><body><div id="zoom">
<p>截至6月底,全市共有养老机构120家,比上年增加5家。</p>
<table>
<tr><td colspan="2">指标名称</td><td>计量单位</td><td>代码</td><td>本期</td><td>上年同期</td></tr>
<tr><td rowspan="3">城市</td><td>最低生活保障人数</td><td>万人</td><td>JZH001</td><td>6.1</td><td>6.5</td></tr>
<tr><td>最低生活保障户数</td><td>户</td><td>JZH002</td><td>40,437</td><td>41,002</td></tr>
<tr><td>最低生活保障平均标准</td><td>元/人、月</td><td>JZH003</td><td>820</td><td>790</td></tr>
<tr><td rowspan="2">农村</td><td>最低生活保障人数</td><td>人</td><td>JZH004</td><td>412,768</td><td></td></tr>
<tr><td>最低生活保障户数</td><td>户</td><td>JZH005</td><td></td><td>223,199</td></tr>
<tr><td colspan="2">民政事业费累计支出</td><td>亿元</td><td>JZH006</td><td>7.62</td><td>6.01</td></tr>
</table>
<p>编制单位:宜昌市　　2024年6月</p>
</div></body></html>"""


def test_an_html_table_with_spans_and_prose_around_it() -> None:
    figures = _parse(
        HTML.replace("<p>编制单位:宜昌市　　2024年6月</p>", "").replace(
            "<table>", "<p>编制单位:宜昌市　　2024年6月</p><table>"
        ),
        is_html=True,
    )
    prose = [f for f in figures if f.origin == "prose"]
    rows = {(f.metric, f.unit): f for f in figures if f.origin == "table"}
    assert [(f.value, f.unit) for f in prose] == [(120, "家"), (5, "家")]  # a mixed page gets both
    urban = rows[("城市 › 最低生活保障人数", "人")]
    assert (urban.value, urban.metric_code, urban.raw_text) == (61000, "urban_dibao_persons", "6.1")
    assert urban.sentence == "最低生活保障人数 | 万人 | 6.1"
    assert (urban.region, urban.period_start, urban.period_end) == ("宜昌市", date(2024, 6, 1), date(2024, 6, 30))
    rural = rows[("农村 › 最低生活保障人数", "人")]
    assert rural.metric_code == "rural_dibao_persons"  # the 城市/农村 parent decides which quantity it is
    assert rows[("城市 › 最低生活保障平均标准", "元/人·月")].value == 820
    assert ("农村 › 最低生活保障户数", "户") not in rows  # empty 本期 cell: no figure (上年同期 is not read)
    spending = rows[("民政事业费累计支出", "元")]
    assert (spending.value, spending.period_start) == (7.62e8, date(2024, 1, 1))  # 累计: from January 1
    assert all("JZH" not in f.raw_text for f in figures)  # the 代码 column is never a value


def test_the_table_is_one_paragraph_per_row_for_the_body() -> None:
    tables, html = read_html_tables(HTML)
    assert len(tables) == 1 and len(tables[0].rows) == 5
    assert "<p>城市 | 最低生活保障人数 | 万人 | JZH001 | 6.1 | 6.5</p>" in html


PIPES = """2020年1月社会服务统计月报
| 民政统计月报表 | ||||
| 编制单位:福建省 | 2020年度 01月份 | |||
| 指标名称 | 单位 | 数量 | 上期 | 环比 |
| 甲 | 丙 | 1 | 2 | 3 |
| 一、综合 | ||||
| (一)行政区划 | ||||
| 乡镇级合计 | 个 | 1,107 | 1,107 | |
| 1.镇 | 个 | 653 | 653 | |
| 4.苏木 | 个 | |||
| 二、社会工作 | ||||
| (二)社会救助 | ||||
| (1)城市低保 | ||||
| A 城市低保人数 | 人 | 62,162 | 60,682 | 2.44 |
"""

ONE_CELL_PER_LINE = """2007年2月份民政事业统计月报
指 标
|
单 位
|
数 量
|
2.社会救济
|
|
|
城市居民最低生活保障人数
|
万人
|
2242.3
|
城市最低生活保障月人均支出水平
|
元/人、月
|
92.6
|
"""

ALIGNED = """2018年社会服务统计10月报表
编制单位:北京市 2018年 10月
指标名称 单位 数量 上年 同比
二、社会工作
(一)社会救助
        1.最低生活保障
                    (1)城市低保
                              A、城市低保人数 69,523 79,437 -12.48
                              B、城市低保户数 41,613 47,607 -12.59
"""


def test_text_tables_with_pipes_one_cell_per_line_and_aligned_columns() -> None:
    (pipes,) = find_text_tables(PIPES)
    assert [(r.path, r.value, r.base_unit) for r in pipes.rows] == [
        (("综合", "行政区划", "乡镇级合计"), 1107, "个"),
        (("综合", "行政区划", "镇"), 653, "个"),
        (("社会工作", "社会救助", "城市低保", "城市低保人数"), 62162, "人"),
    ]
    (cells,) = find_text_tables(ONE_CELL_PER_LINE)
    assert [(r.value, r.base_unit) for r in cells.rows] == [(22423000, "人"), (92.6, "元/人·月")]
    (aligned,) = find_text_tables(ALIGNED)
    assert [(r.path[-1], r.value, r.base_unit, r.unit_implied) for r in aligned.rows] == [
        ("城市低保人数", 69523, "人", True),
        ("城市低保户数", 41613, "户", True),
    ]


def test_text_table_figures_are_not_read_again_as_prose() -> None:
    figures = _parse(PIPES, is_html=False)
    assert {f.origin for f in figures} == {"table"}
    assert {(f.metric_code, f.region) for f in figures} >= {
        ("township_divisions", "福建省"),
        ("urban_dibao_persons", "福建省"),
    }
