"""Spreadsheet attachments (.xlsx, .xls) -> rows -> an HTML page with one <table> per sheet.

Report pages publish their statistics as linked workbooks. Read into rows and written out as a plain HTML
table page, a workbook becomes a document like any other, so the parser of HTML statistics tables reads it
the same way as a table printed in a page. Pure: bytes in, rows and HTML out.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from parsers.records import ParseError, RawDocument

XLSX_MAGIC = b"PK\x03\x04"  # a zip container (Office Open XML)
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE2 compound file (BIFF8 .xls, also .doc/.et)
MAX_ROWS = 5000  # per sheet: statistics tables are tens to hundreds of rows; the rest of a huge sheet is cut
MAX_COLUMNS = 100
MAX_SHEETS = 20


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet as text cells, empty rows and trailing empty cells dropped."""

    name: str
    rows: tuple[tuple[str, ...], ...]


def spreadsheet_kind(content: bytes) -> str | None:
    """xlsx | xls by the file's magic bytes (servers label these application/octet-stream or worse), else None."""
    if content.startswith(XLSX_MAGIC):
        return "xlsx"
    if content.startswith(XLS_MAGIC):
        return "xls"
    return None


def read_spreadsheet(content: bytes, *, uri: str) -> list[Sheet]:
    """The sheets of an .xlsx or .xls workbook; raises ParseError (stage `read`) with a reason a person understands."""
    kind = spreadsheet_kind(content)
    if kind == "xlsx":
        return read_xlsx(content, uri=uri)
    if kind == "xls":
        return read_xls(content, uri=uri)
    start = content[:200].lstrip().lower()
    what = "an HTML page" if start.startswith((b"<!doctype", b"<html")) else "not a spreadsheet"
    raise ParseError(uri, "read", f"attachment is {what} (neither .xlsx nor .xls content)")


def read_xlsx(content: bytes, *, uri: str) -> list[Sheet]:
    import openpyxl  # imported here: only runs that meet a workbook pay for it

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ParseError(uri, "read", f"unreadable .xlsx workbook: {exc}") from exc
    try:
        return [
            Sheet(ws.title, tidy_rows(ws.iter_rows(max_row=MAX_ROWS, max_col=MAX_COLUMNS, values_only=True)))
            for ws in book.worksheets[:MAX_SHEETS]
        ]
    finally:
        book.close()


def read_xls(content: bytes, *, uri: str) -> list[Sheet]:
    try:
        import xlrd
    except ImportError:
        raise ParseError(uri, "read", "xls not supported: install xlrd to read legacy .xls workbooks") from None
    try:
        # xlrd writes its warnings to stdout unless given a log of its own.
        book = xlrd.open_workbook(file_contents=content, on_demand=True, logfile=io.StringIO())
    except (xlrd.XLRDError, xlrd.compdoc.CompDocError) as exc:
        raise ParseError(uri, "read", f"unreadable .xls workbook: {exc}") from exc
    except (ValueError, IndexError, AssertionError) as exc:  # xlrd's own errors on damaged files
        raise ParseError(uri, "read", f"unreadable .xls workbook: {type(exc).__name__}") from exc
    sheets = []
    for index in range(min(book.nsheets, MAX_SHEETS)):
        ws = book.sheet_by_index(index)
        rows = (
            [_xls_cell(ws.cell(r, c), book.datemode) for c in range(min(ws.ncols, MAX_COLUMNS))]
            for r in range(min(ws.nrows, MAX_ROWS))
        )
        sheets.append(Sheet(ws.name, tidy_rows(rows)))
    book.release_resources()
    return sheets


def _xls_cell(cell: object, datemode: int) -> object:
    import xlrd

    kind, value = getattr(cell, "ctype", 0), getattr(cell, "value", None)
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(value, datemode)
        except (ValueError, OverflowError):
            return value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    return value


def tidy_rows(rows: Iterable[Sequence[object]]) -> tuple[tuple[str, ...], ...]:
    """Cells as text; empty rows and trailing empty cells dropped."""
    out = []
    for row in rows:
        cells = [cell_text(v) for v in row]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            out.append(tuple(cells))
    return tuple(out)


def cell_text(value: object) -> str:
    """A cell as printed: 1234 not 1234.0, dates as YYYY-MM-DD, text stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


def tables_html(sheets: Sequence[Sheet], *, title: str, published: str | None = None, page_url: str = "") -> str:
    """An HTML page with one <table> per non-empty sheet (first row as the header), titled after the attachment."""
    meta = [f'<meta name="ArticleTitle" content="{escape(title)}">']
    if published:
        meta.append(f'<meta name="PubDate" content="{escape(published)}">')
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        *meta,
        f"<title>{escape(title)}</title></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    if page_url:
        parts.append(f'<p class="source-page">附件来源页面：<a href="{escape(page_url)}">{escape(page_url)}</a></p>')
    for sheet in sheets:
        if not sheet.rows:
            continue
        header, *body = sheet.rows
        width = max(len(row) for row in sheet.rows)
        parts.append(f"<table>\n<caption>{escape(sheet.name)}</caption>")
        parts.append("<thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in _pad(header, width)) + "</tr></thead>")
        parts.append("<tbody>")
        parts += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in _pad(row, width)) + "</tr>" for row in body]
        parts.append("</tbody>\n</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _pad(row: Sequence[str], width: int) -> list[str]:
    return [*row, *([""] * (width - len(row)))]


def attachment_document(
    content: bytes,
    *,
    uri: str,
    title: str,
    source_name: str,
    published: str | None = None,
    page_url: str = "",
    default_region: str | None = None,
) -> RawDocument:
    """The RawDocument of a workbook: its sheets as an HTML table page under the attachment's own URL."""
    sheets = read_spreadsheet(content, uri=uri)
    if not any(sheet.rows for sheet in sheets):
        raise ParseError(uri, "read", "the workbook has no cells with values")
    html = tables_html(sheets, title=title, published=published, page_url=page_url)
    return RawDocument(
        uri=uri,
        content=html.encode("utf-8"),
        is_html=True,
        http_charset="utf-8",
        source_name=source_name,
        default_region=default_region,
    )
