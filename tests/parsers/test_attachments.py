"""parsers/attachments.py: workbooks built here with openpyxl (and xlwt for legacy .xls) -> rows -> HTML tables."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from parsers.attachments import attachment_document, cell_text, read_spreadsheet, spreadsheet_kind, tables_html
from parsers.records import ParseError

HEADER = ("指标", "单位", "2023年", "2022年")
ROWS = [
    HEADER,
    ("社会组织", "个", 8968, 8812),
    ("基金会", "个", 149.0, 142.0),
    ("城市低保平均标准", "元/人·月", 1015.5, 978.25),
]


def xlsx_bytes() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "年报"
    sheet.append(["2023年民政事业统计"])  # a title row above the header, as offices publish them
    sheet.append([])
    for row in ROWS:
        sheet.append(row)
    sheet.append(["统计时间", "", dt.datetime(2024, 1, 31)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xls_bytes() -> bytes:
    xlwt = pytest.importorskip("xlwt")  # only to build a legacy workbook for the test
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("季报")
    for r, row in enumerate(ROWS):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_workbook_becomes_rows_as_printed() -> None:
    (sheet,) = read_spreadsheet(xlsx_bytes(), uri="http://h/a.xlsx")
    assert sheet.name == "年报"
    assert sheet.rows == (
        ("2023年民政事业统计",),
        ("指标", "单位", "2023年", "2022年"),
        ("社会组织", "个", "8968", "8812"),
        ("基金会", "个", "149", "142"),
        ("城市低保平均标准", "元/人·月", "1015.5", "978.25"),
        ("统计时间", "", "2024-01-31"),
    )


def test_a_legacy_xls_workbook_is_read_with_xlrd() -> None:
    content = xls_bytes()
    assert spreadsheet_kind(content) == "xls"
    (sheet,) = read_spreadsheet(content, uri="http://h/a.xls")
    assert (
        sheet.name == "季报"
        and sheet.rows[0] == HEADER
        and sheet.rows[3] == ("城市低保平均标准", "元/人·月", "1015.5", "978.25")
    )


def test_the_rows_are_written_as_an_html_table_page() -> None:
    raw = attachment_document(
        xlsx_bytes(),
        uri="http://h/tjsj/P0201.xlsx",
        title="2023年民政事业统计数据.xlsx",
        source_name="mca-statistics",
        published="2024-02-01",
        page_url="http://h/tjsj/t20240201_1.html",
    )
    html = raw.content.decode("utf-8")
    assert raw.uri == "http://h/tjsj/P0201.xlsx" and raw.is_html and raw.source_name == "mca-statistics"
    assert '<meta name="PubDate" content="2024-02-01">' in html and "<title>2023年民政事业统计数据.xlsx</title>" in html
    assert "<caption>年报</caption>" in html and "<td>社会组织</td><td>个</td><td>8968</td><td>8812</td>" in html
    assert "<td>统计时间</td><td></td><td>2024-01-31</td><td></td>" in html  # short rows padded to the width
    assert 'href="http://h/tjsj/t20240201_1.html"' in html


def test_special_characters_are_escaped() -> None:
    from parsers.attachments import Sheet

    html = tables_html([Sheet("a<b", (("x&y", "<script>"),))], title="t")
    assert "<th>x&amp;y</th><th>&lt;script&gt;</th>" in html and "<caption>a&lt;b</caption>" in html


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<!DOCTYPE html><html><body>404</body></html>", "attachment is an HTML page"),
        (b"%PDF-1.4\n", "not a spreadsheet"),
        (b"PK\x03\x04broken zip", "unreadable .xlsx workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "unreadable .xls workbook"),
    ],
)
def test_what_is_not_a_readable_workbook_is_said_plainly(content: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as caught:
        read_spreadsheet(content, uri="http://h/x.xlsx")
    assert caught.value.stage == "read"


def test_cells_are_printed_as_a_person_reads_them() -> None:
    assert [cell_text(v) for v in (None, 3.0, 0.125, 1e20, "  a \n b ", dt.date(2024, 3, 5), True)] == [
        "",
        "3",
        "0.125",
        "1e+20",
        "a b",
        "2024-03-05",
        "是",
    ]
