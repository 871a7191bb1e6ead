"""Statistical report tables (社会服务统计月报/季报, 民政统计表) -> rows with their parents, unit, period, region.

Official civil-affairs reports print one indicator per row: `指标名称 | 单位 | [代码] | 数量 | 上期 | 环比 …`,
with section rows (`一、`, `(一)`, `1.`, `(1)`, `A`, `I`) as parents. Pages carry them as HTML `<table>`s;
text copies show them with pipes, one cell per line, aligned columns or glued cells. Each layout is read into
the same grid of cells (one small reader each) and one function turns a grid into rows. Only the 数量 column
(the report's own period) is read: comparison columns (上期, 上年, 环比, 同比) are left out (README).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from parsers.metrics import MetricRule, code_metric, default_rules, rules_by_unit
from parsers.records import Indicator, Paragraph, stable_id
from parsers.regions import NATIONAL, find_places, place_by_code, place_by_name

# --- header words ---------------------------------------------------------------------------------
LABEL_HEADERS = frozenset({"指标名称", "指标", "项目", "指标名", "名称", "指标项目"})
UNIT_HEADERS = frozenset({"单位", "计量单位"})
CODE_HEADERS = frozenset({"代码", "指标代码"})
VALUE_HEADERS = frozenset({"数量", "本期", "本期数", "本月", "本季", "数值", "本年累计", "本月数", "本期数量"})
COMPARISON_WORDS = ("上期", "上年", "上季", "上月", "环比", "同比", "增减", "增长", "同期", "比上年", "去年")
OTHER_LABEL_HEADERS = frozenset({"Item", "Items", "Indicator", "Indicators"})  # a second, English label column
YEAR_HEADER = re.compile(r"^(?:19|20)\d\d$")
YEAR_COMPARISON = re.compile(r"^(?:19|20)\d\d年比")  # 2008年比 / 2007年 / 增减%: a change column
INDEX_CELL = re.compile(r"^(?:[甲乙丙丁戊]|\d{1,2})?$")  # the `甲 乙 丙 1 2 3` row under the header
HEADER_LINE = re.compile(r"^(?:指标名称|指标|项目)")
# a cell holding only 指标名称 / 指标 / 项目: the one test a page must pass before it is parsed for tables
HEADER_CELL_HTML = re.compile(r">(?:\s|&nbsp;|&#160;)*(?:指\s*标(?:\s*名\s*称)?|项\s*目)(?:\s|&nbsp;|&#160;)*<")
CODE_CELL = re.compile(r"^[A-Z]{2,4}\d{6,12}$")
NUMBER = re.compile(r"^[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
META_CELL = re.compile(
    r"^(?:表\s*号|制表机关|批转机关|批准机关|编制单位|填报单位|地区编码|有效期|批准文号|单位负责人|填表人)"
)

# --- row labels -----------------------------------------------------------------------------------
# Section markers, each its own level: 一、 (一) 1. (1) A I; 其中: makes a row a part of the one before.
MARKER = re.compile(
    r"^\s*(?:(?P<cn>[一二三四五六七八九十]+[、.．])"
    r"|(?P<pcn>[(（][一二三四五六七八九十]+[)）])"
    r"|(?P<num>\d{1,2}(?:[.．、](?!\d)|\s+(?=[\u4e00-\u9fff])))"
    r"|(?P<pnum>[(（]\d{1,2}[)）])"
    r"|(?P<roman>(?:IV|VI{0,3}|I{1,3}|IX|X)(?:[、.．]|\s+|(?=[\u4e00-\u9fff])))"
    r"|(?P<alpha>[A-H](?:[、.．]|\s+|(?=[\u4e00-\u9fff]))))\s*"
)
PART_OF = re.compile(r"^\s*(?:其中\s*[:：]?|[#＃])\s*")  # 其中:… and #… (a part of the row above)
FOOTNOTE_MARK = "*＊※"  # 结婚登记*: the note under the table says what the star means
UNIT_IN_LABEL = re.compile(r"[(（](?P<unit>[万亿千]?[^()（）\d]{1,6})[)）]\s*$")
SCOPES = ("城市", "农村", "城镇", "乡村", "城乡")
SCOPE_ALIASES = {"城镇": "城市", "乡村": "农村"}

# --- units ----------------------------------------------------------------------------------------
UNIT_SCALES = {"亿": 1e8, "千万": 1e7, "百万": 1e6, "十万": 1e5, "万": 1e4, "千": 1e3}
RATE_UNIT = re.compile(r"^元\s*/\s*(?:人|户)\s*[、.．·•/,，]?\s*(?:月|年)$")
BASE_UNITS = frozenset(
    "人 户 个 张 件 对 具 元 人次 户次 所 家 名 床 处 座 条 块 套 次 项 例 平方米 % ‰ 岁 天 万".split()
)
# A unit cell left empty: the label often says what is counted.
UNIT_FROM_LABEL = (
    (re.compile(r"(?:人数|人员|儿童|孤儿|老人|老年人|对象|志愿者|工作者|督导员|儿童主任)$"), "人"),
    (re.compile(r"户数$"), "户"),
    (re.compile(r"床位(?:数)?$"), "张"),
    (re.compile(r"(?:区划|镇|乡|街道|苏木|区公所|机构|设施|机构数|组织|社区|委员会)$"), "个"),
)
MONEY_LABEL = re.compile(r"(?:支出|资金|经费|补助|补贴|保障|救助|福利|金|费|销售额|捐款|事务|离退休|其他|安置)$")

# --- period and region ----------------------------------------------------------------------------
MONTH_PERIOD = re.compile(r"((?:19|20)\d\d)\s*年度?\s*(\d{1,2})\s*月份?")
# 2018.09 in a title; not 2023-07-04, a publication date
DOTTED_MONTH = re.compile(r"(?<![\d.\-/])((?:19|20)\d\d)[.\-/](\d{1,2})(?![\d.\-/:])")
QUARTER_PERIOD = re.compile(r"((?:19|20)\d\d)\s*年[^\d\n|]{0,8}?(?:第\s*)?([1-4一二三四])\s*季度")
YEAR_PERIOD = re.compile(r"((?:19|20)\d\d)\s*年(?!\s*\d{1,2}\s*月)")
CN_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4}
ISSUER = re.compile(r"(?:编制单位|填报单位)\s*[:：]\s*([^\s|:：]{2,20})")
AREA_CODE = re.compile(r"地区编码\s*[:：]\s*(\d{6,12})")
MONTHLY, QUARTERLY, ANNUAL = "month", "quarter", "year"
CUMULATIVE = "累计"
PART = "part"  # stack entry for the row a 其中 list is part of

MAX_CONTEXT_CHARS = 600  # text before a table that may name its report, period and issuer
HEAD_CHARS = 300  # the start of a text, where its title is
MAX_LABEL_CHARS = 40  # a longer cell is prose, not a row label


@dataclass(frozen=True, slots=True)
class TableRow:
    """One row of a statistical table that has a value in its 数量 column."""

    path: tuple[str, ...]  # parent section labels, then the row's own label (markers stripped)
    label: str  # the label cell as printed
    unit: str  # the unit cell as printed ('' when the table leaves it empty)
    value_text: str  # the value cell as printed: 1,107
    value: float  # normalized to the base unit: 6.1 万人 -> 61000
    base_unit: str  # 人, 户, 元, 张, 个, 元/人·月 …
    unit_implied: bool  # the unit was not printed in the row; inferred from its label or neighbours
    is_cumulative: bool  # a 累计 row (or under one): runs from January 1 of the report's year
    scope: str | None  # 城市 / 农村 / 城乡 from the row or its parents
    keys: tuple[str, ...] = ()  # the row's whole text, squeezed, as printed and with spanned cells once

    @property
    def sentence(self) -> str:
        """The row as printed: label | unit | value."""
        return " | ".join(c for c in (self.label.strip(), self.unit.strip(), self.value_text) if c)


@dataclass(frozen=True, slots=True)
class StatTable:
    """A statistical table: its rows with a value, and what the report says about itself."""

    rows: tuple[TableRow, ...]
    context: str  # title, period and issuer lines found before and above the header
    covered: frozenset[str]  # normalized texts of the lines the table spans (prose skips them)
    year: int | None = None  # the year column read, when the table has year columns (2007 | 2008)


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    printed: str
    kind: str  # month | quarter | year
    start: date
    end: date


# --- cells and numbers ----------------------------------------------------------------------------
def squeeze(text: str) -> str:
    """Cell text without spaces and pipes: `城 市` -> 城市 (keys for matching lines to rows)."""
    return "".join(text.split()).replace("|", "")


def parse_number(cell: str) -> float | None:
    text = cell.strip().replace("−", "-").replace(" ", "")
    return float(text.replace(",", "")) if NUMBER.match(text) else None


def split_unit(unit: str) -> tuple[float, str] | None:
    """(scale, base unit) of a unit cell: 万人 -> (1e4, 人); 元/人、月 -> (1, 元/人·月); None if not a unit."""
    text = squeeze(unit).strip("()（）")
    if not text:
        return None
    if RATE_UNIT.match(text):
        return 1.0, re.sub(r"[、.．•/,，]", "·", text.replace("元/", "元|")).replace("元|", "元/").replace("··", "·")
    scale = 1.0
    for word, factor in UNIT_SCALES.items():
        if text.startswith(word) and len(text) > len(word):
            scale, text = factor, text[len(word) :]
            break
    return (scale, text) if text in BASE_UNITS else None


def strip_marker(label: str) -> tuple[str | None, bool, str]:
    """(marker kind, is a 其中 part, label without marker and spaces)."""
    text = label.strip()
    part = PART_OF.match(text)
    if part:
        text = text[part.end() :]
    match = MARKER.match(text)
    kind = match.lastgroup if match else None
    if match:
        text = text[match.end() :]
    if PART_OF.match(text):
        part, text = PART_OF.match(text), PART_OF.sub("", text)
    return kind, bool(part), squeeze(text).strip("：:").rstrip(FOOTNOTE_MARK)


def _scope_of(text: str) -> str | None:
    for scope in SCOPES:
        if scope in text:
            return SCOPE_ALIASES.get(scope, scope)
    return None


# --- header ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Columns:
    label: tuple[int, ...]
    unit: int | None
    value: int
    year: int | None = None  # a table with year columns (2007 | 2008) reports the latest year


def find_columns(cells: Sequence[str]) -> Columns | None:
    """Column roles from a header row; None when the row is not a table header."""
    names = [squeeze(c) for c in cells]
    label = tuple(i for i, n in enumerate(names) if n in LABEL_HEADERS)
    if not label:
        return None
    unit = next((i for i, n in enumerate(names) if n in UNIT_HEADERS), None)
    value = next((i for i, n in enumerate(names) if n in VALUE_HEADERS), None)
    years = [(int(n), i) for i, n in enumerate(names) if YEAR_HEADER.match(n)]
    if value is None and years:
        year, column = max(years)
        return Columns(label, unit, column, year)
    if value is None:  # the first column after label, unit and code that is not a comparison
        value = next(
            (
                i
                for i, n in enumerate(names)
                if i > max(label)
                and i != unit
                and n
                and n not in CODE_HEADERS | OTHER_LABEL_HEADERS
                and not n.startswith(COMPARISON_WORDS)
            ),
            None,
        )
    if value is None or (unit is None and value != max(label) + 1 and len(names) < 3):
        return None
    return Columns(label, unit, value)


def _is_index_row(cells: Sequence[str]) -> bool:
    if any(len(c) > 4 for c in cells):
        return False
    filled = [squeeze(c) for c in cells if squeeze(c)]
    return bool(filled) and all(INDEX_CELL.match(c) for c in filled) and any(c in "甲乙丙丁" for c in filled)


# --- period ---------------------------------------------------------------------------------------
def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def report_period(context: str) -> ReportPeriod | None:
    """The report's period from its title and header lines: 2020年度 01月份, 2021年2季度, 2018.09, 2015年."""
    is_quarterly = "季报" in context or "季度" in context
    quarter = QUARTER_PERIOD.search(context)
    if quarter:
        year, q = int(quarter.group(1)), quarter.group(2)
        n = CN_QUARTER.get(q) or int(q)
        return ReportPeriod(f"{year}年第{q}季度", QUARTERLY, date(year, 3 * n - 2, 1), _month_end(year, 3 * n))
    month = next((m for m in MONTH_PERIOD.finditer(context) if 1 <= int(m.group(2)) <= 12), None) or next(
        (m for m in DOTTED_MONTH.finditer(context) if 1 <= int(m.group(2)) <= 12), None
    )
    if month:
        year, m = int(month.group(1)), int(month.group(2))
        printed = month.group(0).strip()
        if is_quarterly and m % 3 == 0:
            return ReportPeriod(printed, QUARTERLY, date(year, m - 2, 1), _month_end(year, m))
        return ReportPeriod(printed, MONTHLY, date(year, m, 1), _month_end(year, m))
    year_match = YEAR_PERIOD.search(context)
    if year_match:
        year = int(year_match.group(1))
        return ReportPeriod(year_match.group(0).strip(), ANNUAL, date(year, 1, 1), date(year, 12, 31))
    return None


def row_period(period: ReportPeriod | None, row: TableRow) -> tuple[date | None, date | None]:
    """A row's dates: the report's period; a 累计 row of a monthly or quarterly report runs from January 1."""
    if period is None:
        return None, None
    if row.is_cumulative and period.kind != ANNUAL:
        return date(period.end.year, 1, 1), period.end
    return period.start, period.end


def issuer_text(context: str) -> tuple[str | None, str | None]:
    """(编制单位 as printed, 地区编码) of a report, when its header prints them."""
    issuer = ISSUER.search(context)
    code = AREA_CODE.search(context)
    return (issuer.group(1) if issuer else None), (code.group(1) if code else None)


# --- grid -> rows ---------------------------------------------------------------------------------
Unit = tuple[float, str]  # (scale, base unit): 万人 -> (1e4, 人)


@dataclass(slots=True)
class _Section:
    kind: str  # marker kind, "plain" for an unnumbered heading, PART for the row a 其中 list belongs to
    name: str
    unit: Unit | None  # 二、优抚安置(万人): the unit of the rows under it


def _label_unit(label: str) -> Unit | None:
    in_label = UNIT_IN_LABEL.search(label)
    return split_unit(in_label.group("unit")) if in_label else None


def _unit_for(
    name: str, label: str, unit_cell: str, inherited: Unit | None, last_money: Unit | None
) -> tuple[float, str, bool] | None:
    """(scale, base unit, implied) of a row: its unit cell or a unit in its label, its section's unit, else a
    unit its label implies (…人数 -> 人; a money line -> the money unit of the rows before it)."""
    parsed = (split_unit(unit_cell) if unit_cell.strip() else None) or _label_unit(label)
    if parsed:
        return parsed[0], parsed[1], False
    if inherited:
        return inherited[0], inherited[1], True
    for pattern, unit in UNIT_FROM_LABEL:
        if pattern.search(name):
            return 1.0, unit, True
    if MONEY_LABEL.search(name) and last_money:
        return last_money[0], last_money[1], True
    return None


def _close(stack: list[_Section], kind: str) -> None:
    """Close the sections at or below the level of a new row of this marker kind."""
    if stack and stack[-1].kind == PART:
        stack.pop()
    kinds = [s.kind for s in stack]
    del stack[kinds.index(kind) if kind in kinds else len(stack) :]


def _is_flow(row_path: Sequence[str], base: str) -> bool:
    """Money spent or raised in a monthly or quarterly report is counted from January 1 (the reports print
    年初至今 totals), unless the row says 当月; so are rows that say 累计."""
    if any(CUMULATIVE in p for p in row_path):
        return True
    return base == "元" and "当月" not in row_path[-1]


def _continues_label(name: str, unit_cell: str, previous: TableRow | None, had_value: bool) -> bool:
    """A label printed over two lines (国家抚恤、补助各类 / 优抚对象) or its unit on the next line ((万人))."""
    return had_value and previous is not None and not unit_cell.strip() and _scope_of(name) is None


def rows_from_grid(grid: Sequence[Sequence[str]]) -> tuple[list[TableRow], int, int | None]:
    """Rows with a value under the header, the header's index (-1: none), and the year of a year column."""
    header_at, columns = next(
        ((i, c) for i, cells in enumerate(grid) if (c := find_columns(cells)) is not None), (-1, None)
    )
    if columns is None:
        return [], -1, None
    rows: list[TableRow] = []
    stack: list[_Section] = []
    last_money: Unit | None = None
    last_valued: str | None = None  # label of the last row with a value: the whole of the 其中 rows after it
    had_value = False  # the row just before had a value
    last_total_unit: Unit | None = None  # the scaled unit of an unnumbered total, for the parts after it
    for cells in grid[header_at + 1 :]:
        if _is_index_row(cells):
            continue
        parts = [cells[i].strip() for i in columns.label if i < len(cells) and cells[i].strip()]
        if not parts or len(parts[-1]) > MAX_LABEL_CHARS or META_CELL.match(squeeze(parts[0])):
            had_value = False
            continue
        label_cell = parts[-1]
        unit_cell = cells[columns.unit] if columns.unit is not None and columns.unit < len(cells) else ""
        value_cell = cells[columns.value].strip() if columns.value < len(cells) else ""
        value = parse_number(value_cell)
        if value is None and not value_cell and parse_number(unit_cell) is not None:
            value, value_cell, unit_cell = parse_number(unit_cell), unit_cell.strip(), ""  # a shifted cell
        kind, is_part, name = strip_marker(label_cell)
        is_part = is_part and kind is None  # 其中:(1)儿童福利 is a numbered row like any other
        group = [squeeze(p) for p in parts[:-1] if squeeze(p) != name]
        if not name:
            continue
        if (
            value is None
            and kind is None
            and not is_part
            and _continues_label(name, unit_cell, rows[-1] if rows else None, had_value)
        ):
            rows[-1] = _continued(rows[-1], label_cell, name)
            had_value = False
            continue
        had_value = value is not None
        if value is None and group:  # beside a group column (城市 | 最低生活保障户数 | 户 | ), an empty row
            continue
        if value is None:  # a section row
            last_total_unit = None
            last_valued = None
            section_unit = _label_unit(label_cell) or (split_unit(unit_cell) if unit_cell.strip() else None)
            if kind is None:
                if stack and stack[-1].kind == PART:
                    stack.pop()
                if stack and stack[-1].kind == "plain":
                    stack.pop()
                stack.append(_Section("plain", UNIT_IN_LABEL.sub("", name), section_unit))
            else:
                _close(stack, kind)
                stack.append(_Section(kind, UNIT_IN_LABEL.sub("", name), section_unit))
            if section_unit and section_unit[1] == "元":
                last_money = section_unit
            continue
        if is_part and last_valued and not (stack and stack[-1].kind == PART):
            stack.append(_Section(PART, last_valued, None))
        elif kind is not None:
            _close(stack, kind)
        own_name = UNIT_IN_LABEL.sub("", name)
        path = tuple(dict.fromkeys([*group, *(s.name for s in stack), own_name]))
        inherited = (last_total_unit if kind is None else None) or next(
            (s.unit for s in reversed(stack) if s.unit), None
        )
        # a row whose unit is still unknown may get it from the line below ((万人)); else it is dropped
        scale, base, implied = _unit_for(own_name, label_cell, unit_cell, inherited, last_money) or (1.0, "", True)
        if base == "元" and not implied:
            last_money = (scale, base)
        scope = _scope_of(own_name) or next((s for p in reversed(path[:-1]) if (s := _scope_of(p))), None)
        rows.append(
            TableRow(
                path=path,
                label=label_cell,
                unit=unit_cell.strip(),
                value_text=value_cell,
                value=round(value * scale, 6),
                base_unit=base,
                unit_implied=implied,
                is_cumulative=_is_flow(path, base),
                scope=scope,
                keys=row_keys(cells),
            )
        )
        own_unit = _label_unit(label_cell)
        scaled_unit = own_unit if own_unit and own_unit[0] != 1 else None
        if kind is not None:
            stack.append(_Section(kind, own_name, scaled_unit))
        elif scaled_unit:  # 社会组织总数(万个) then 社会团体, 民办非企业单位: its parts, in its unit
            last_total_unit = scaled_unit
        last_valued = own_name
    return [r for r in rows if r.base_unit], header_at, columns.year


def row_keys(cells: Sequence[str]) -> tuple[str, ...]:
    """Keys a paragraph holding this row would have: all cells, and each distinct cell once (a spanned cell)."""
    return squeeze("".join(cells)), squeeze("".join(_distinct_cells(cells)))


def _distinct_cells(cells: Sequence[str]) -> list[str]:
    """Filled cells, a cell spanning several columns once."""
    filled = [c.strip() for c in cells if c.strip()]
    return [c for i, c in enumerate(filled) if i == 0 or c != filled[i - 1]]


def _continued(row: TableRow, label_cell: str, name: str) -> TableRow:
    """The row with the rest of its label, or with the unit printed on the line below it."""
    unit = _label_unit(label_cell) if UNIT_IN_LABEL.fullmatch(label_cell.strip()) else None
    if unit is not None and row.unit_implied:
        number = parse_number(row.value_text) or 0.0
        return replace(
            row,
            value=round(number * unit[0], 6),
            base_unit=unit[1],
            unit_implied=False,
            unit=label_cell.strip("()（） "),
        )
    if unit is not None:
        return row
    own = row.path[-1] + name
    return replace(row, path=(*row.path[:-1], own), label=row.label.strip() + name)


# --- readers: text --------------------------------------------------------------------------------
def _stream_cells(text: str) -> list[str]:
    return [c.strip() for c in text.split("|")]


def _chunk_stream(cells: list[str], width: int, *, rows_open_with_pipe: bool) -> list[list[str]]:
    """One-cell-per-line tables: cells in reading order, `width` to a row. Where each row opens with a pipe
    (`| 乡镇级合计 |`), the empty cell that leaves between rows is skipped; elsewhere an empty first cell is the
    label cell of a row continuing the one above."""
    grid, i = [], 0
    while i < len(cells):
        while rows_open_with_pipe and i < len(cells) and not cells[i]:
            i += 1
        if i >= len(cells):
            break
        grid.append(cells[i : i + width])
        i += width
    return grid


def _body_cells(body: list[str]) -> list[str]:
    """Cells after the header, from the first row label: header lines the copy collapsed (2007年 | ||||) dropped."""
    first = next((i for i, c in enumerate(body[:80]) if MARKER.match(c) or squeeze(c) in ("甲", "A")), 0)
    return body[first:]


def _header_span(cells: list[str]) -> tuple[int, int]:
    """(first, end) indices of the header cells at the start of a cell stream; (0, 0) when there is none."""
    first, end, seen = None, 0, 0
    for i, cell in enumerate(cells):
        word = squeeze(cell)
        if not word:
            continue
        if (
            word in LABEL_HEADERS | UNIT_HEADERS | CODE_HEADERS | VALUE_HEADERS | OTHER_LABEL_HEADERS
            or word.startswith(COMPARISON_WORDS)
            or YEAR_HEADER.match(word)
            or YEAR_COMPARISON.match(word)
        ):
            first = i if first is None else first
            end, seen = i + 1, seen + 1
            continue
        break
    return (first or 0, end) if seen >= 2 else (0, 0)


ROW_OPENS_WITH_PIPE = re.compile(r"^\|\s*[^\s|]")
MIN_PIPE_OPENED_ROWS = 3
GLUED_ROW = re.compile(
    r"^(?P<label>.+?)(?P<unit>元/人[·.、]?月|万人次|万元|亿元|万人|万户|万张|人次|户次|元|个|人|户|张|件|对|具|所|家|%)?"
    r"(?P<code>[A-Z]{3}\d{9})(?P<nums>[-\d,.]*)$"
)


def _glued_value(nums: str) -> str | None:
    """First value of cells glued together: 69,436.333,872.0105.00 -> 69,436.3; 187187 -> 187."""
    if not nums:
        return None
    if "." in nums.split(",")[0] or re.match(r"^\d{1,3}(?:,\d{3})+\.", nums):
        match = re.match(r"^-?\d{1,3}(?:,\d{3})*\.\d", nums) or re.match(r"^-?\d+\.\d", nums)
        return match.group(0) if match else None
    match = re.match(r"^\d{1,3}(?:,\d{3})+", nums)
    if match:
        return match.group(0)
    half = len(nums) // 2
    if len(nums) % 2 == 0 and nums[:half] == nums[half:]:
        return nums[:half]
    return nums if nums.isdigit() and len(nums) <= 3 else None


def _glued_grid(lines: Sequence[str]) -> list[list[str]]:
    grid = [["指标名称", "单位", "数量"]]
    for line in lines:
        match = GLUED_ROW.match(line.strip())
        if match:
            value = _glued_value(match.group("nums")) or ""
            grid.append([match.group("label"), match.group("unit") or "", value])
    return grid


def _space_grid(lines: Sequence[str]) -> list[list[str]]:
    """Columns aligned with spaces: label words, then a unit, then numbers (the first is 数量)."""
    grid = [["指标名称", "单位", "数量"]]
    for line in lines:
        tokens = [t for t in line.split() if not CODE_CELL.match(t)]
        if not tokens:
            continue
        at = next((i for i, t in enumerate(tokens) if i and (parse_number(t) is not None or split_unit(t))), None)
        if at is None:
            grid.append([" ".join(tokens), "", ""])
            continue
        unit = tokens[at] if split_unit(tokens[at]) and parse_number(tokens[at]) is None else ""
        numbers = [t for t in tokens[at + (1 if unit else 0) :] if parse_number(t) is not None]
        grid.append([" ".join(tokens[:at]), unit, numbers[0] if numbers else ""])
    return grid


def _pipe_cells(line: str) -> list[str]:
    cells = line.split("|")
    return cells[1:-1] if line.strip().startswith("|") else cells


def _pipe_grid(lines: Sequence[str]) -> list[list[str]]:
    """Rows of a table printed a row a line with pipes.

    A copy that lost the alignment prints a row's label at the end of the line above and its unit and value
    on the next line (`#养老机构 四、社会救助 城市最低生活保障 |` then `个 | 245 |`): the value belongs to the
    first label, and the labels after it are the sections that follow.
    """
    grid: list[list[str]] = []
    pending: str | None = None
    for line in lines:
        cells = _pipe_cells(line)
        filled = [c.strip() for c in cells if c.strip()]
        if pending is not None:
            labels = pending.split()
            if len(filled) >= 2 and split_unit(filled[0]) and parse_number(filled[1]) is not None:
                grid.append([labels[0], filled[0], filled[1]])
                grid.extend([label, "", ""] for label in labels[1:])
                pending = None
                continue
            grid.append([pending, "", ""])
            pending = None
        if len(filled) == 1 and parse_number(filled[0]) is None and len(cells) <= 2:
            pending = filled[0]
            continue
        grid.append(cells)
    if pending is not None:
        grid.append([pending, "", ""])
    return grid


def _text_table_at(lines: Sequence[str], at: int) -> tuple[list[list[str]], int, int] | None:
    """(grid, first line, last line) of the table whose header starts on line `at`."""
    line = lines[at]
    flat = squeeze(line)
    rest = lines[at:]
    if re.match(r"^指标名称单位(?:代码)?数量", flat) and flat == line.strip():
        grid = _glued_grid(rest)
        return (grid, at, len(lines)) if len(grid) > 1 else None
    if line.count("|") >= 3 and len([c for c in line.split("|") if c.strip()]) >= 2:
        end = at
        while end < len(lines) and ("|" in lines[end] or not lines[end].strip()):
            end += 1
        return _pipe_grid(lines[at:end]), at, end
    stream = _stream_cells("\n".join(rest))
    first, end = _header_span(stream)
    if end - first >= 2:
        header = [c for c in stream[first:end] if c]
        opened = sum(1 for line in rest if ROW_OPENS_WITH_PIPE.match(line)) >= MIN_PIPE_OPENED_ROWS
        body = _chunk_stream(_body_cells(stream[end:]), len(header), rows_open_with_pipe=opened)
        return [header, *body], at, len(lines)
    tokens = line.split()
    if len(tokens) >= 3 and {"单位", "数量"} <= {squeeze(t) for t in tokens}:
        end = at + 1
        while end < len(lines) and len(lines[end].strip()) <= MAX_LABEL_CHARS * 2:
            end += 1
        return _space_grid(lines[at + 1 : end]), at, end
    return None


def find_text_tables(text: str) -> list[StatTable]:
    """Statistical tables in plain text (pipes, one cell per line, aligned or glued columns)."""
    if "指" not in text and "项" not in text:
        return []
    lines = text.splitlines()
    tables: list[StatTable] = []
    at = 0
    while at < len(lines):
        if not HEADER_LINE.match(squeeze(lines[at]).lstrip("|")):
            at += 1
            continue
        found = _text_table_at(lines, at)
        if found is None:
            at += 1
            continue
        grid, start, end = found
        rows, _, year = rows_from_grid(grid)
        if rows:
            before = "\n".join(lines[:start])
            context = before[:HEAD_CHARS] + "\n" + before[HEAD_CHARS:][-MAX_CONTEXT_CHARS:]
            covered = frozenset(k for line in lines[start:end] if (k := squeeze(line)))
            tables.append(StatTable(tuple(rows), context, covered, year))
        at = max(end, at + 1)
    return tables


# --- readers: HTML --------------------------------------------------------------------------------
def html_grid(table: object) -> list[list[str]]:
    """Cells of an lxml <table> as a grid, rowspan and colspan filled in (a spanned cell repeats its text)."""
    grid: list[list[str]] = []
    pending: dict[tuple[int, int], str] = {}
    rows = table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")  # type: ignore[attr-defined]
    for r, tr in enumerate(rows):
        row: list[str] = []
        col = 0
        for cell in tr.xpath("./td | ./th"):
            while (r, col) in pending:
                row.append(pending.pop((r, col)))
                col += 1
            text = " ".join(cell.text_content().split())
            colspan = _span(cell.get("colspan"))
            rowspan = _span(cell.get("rowspan"))
            for c in range(colspan):
                row.append(text if c == 0 or not NUMBER.match(text.replace(" ", "")) else "")
                for down in range(1, rowspan):
                    pending[(r + down, col + c)] = text
            col += colspan
        while (r, col) in pending:
            row.append(pending.pop((r, col)))
            col += 1
        grid.append(row)
    return grid


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 50))
    except ValueError:
        return 1


def _text_before(element: object, limit: int = MAX_CONTEXT_CHARS) -> str:
    """Text printed before an element (its preceding siblings, then its ancestors'), nearest last."""
    pieces: list[str] = []
    size = 0
    node = element
    while node is not None and size < limit:
        for sibling in node.itersiblings(preceding=True):  # type: ignore[attr-defined]
            if not isinstance(sibling.tag, str) or sibling.tag in ("script", "style"):
                continue
            text = sibling.text_content().strip()
            if text:
                pieces.append(text[-limit:])
                size += len(text)
            if size >= limit:
                break
        node = node.getparent()  # type: ignore[attr-defined]
    return "\n".join(reversed(pieces))[-limit:]


def read_html_tables(html: str) -> tuple[list[StatTable], str]:
    """Statistical tables in an HTML page (innermost <table>s with a 指标/项目 header row), and the page with
    each of them written as one paragraph per row (cells joined by ` | `), for body extraction: a row is one
    line of text, not one line per cell, and its paragraph is the row's provenance."""
    if "<table" not in html.lower() or not HEADER_CELL_HTML.search(html):
        return [], html
    import lxml.html  # here, not at the top: text input never needs it

    try:
        root = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):  # type: ignore[attr-defined]
        return [], html
    meta = " ".join(f"{m.get('name') or ''}:{m.get('content') or ''}" for m in root.iter("meta") if m.get("content"))
    title = " ".join(t.text_content() for t in root.iter("title"))
    tables = []
    for element in list(root.iter("table")):
        if element.find(".//table") is not None:
            continue
        grid = html_grid(element)
        rows, header_at, year = rows_from_grid(grid)
        if not rows:
            continue
        inside = "\n".join(" ".join(cells) for cells in grid[:header_at])
        context = "\n".join((title, meta, _text_before(element), inside))
        covered = frozenset(k for cells in grid for k in row_keys(cells) if k)
        tables.append(StatTable(tuple(rows), context, covered, year))
        _write_as_rows(element, grid)
    if not tables:
        return [], html
    return tables, lxml.html.tostring(root, encoding="unicode")


def _write_as_rows(table: Any, grid: Sequence[Sequence[str]]) -> None:
    """Replace a <table> by a <div> of one <p> per non-empty row (cells joined by ` | `), in place."""
    import lxml.html

    block = lxml.html.Element("div", {"class": "stat-table"})
    for cells in grid:
        filled = _distinct_cells(cells)
        if filled:
            paragraph = lxml.html.Element("p")
            paragraph.text = " | ".join(filled)
            block.append(paragraph)
    block.tail = table.tail
    table.getparent().replace(table, block)


def find_html_tables(html: str) -> list[StatTable]:
    """Statistical tables in an HTML page."""
    return read_html_tables(html)[0]


def find_tables(text: str, *, is_html: bool) -> list[StatTable]:
    """Statistical tables of a decoded page or text file."""
    return find_html_tables(text) if is_html else find_text_tables(text)


def covered_keys(tables: Sequence[StatTable]) -> frozenset[str]:
    """Normalized texts of every line or row the tables span."""
    return frozenset().union(*(t.covered for t in tables)) if tables else frozenset()


def iter_rows(tables: Sequence[StatTable]) -> Iterator[tuple[StatTable, TableRow]]:
    for table in tables:
        for row in table.rows:
            yield table, row


# --- rows -> indicators ---------------------------------------------------------------------------
NATIONAL_ISSUER = re.compile(r"民政部|全国|国家统计局")
LEADING_PERIOD_WORDS = re.compile(r"^(?:\d{1,2}\s*[-—~至]\s*\d{1,2}月份?|当月|本月|本年|本期)")


def metric_candidates(row: TableRow) -> list[str]:
    """Phrases to look a row up in the vocabulary: its label with the 城市/农村 of its parents, then with a parent.

    A bare 最低生活保障人数 under 城市最低生活保障 is 城市最低生活保障人数; a generic 机构数 under
    提供住宿的社会服务 is 提供住宿的社会服务机构数.
    """
    name = LEADING_PERIOD_WORDS.sub("", row.path[-1]) or row.path[-1]
    own_scope = _scope_of(name)
    scoped = name if own_scope or row.scope is None else row.scope + name
    found = [scoped, name] if scoped != name else [name]
    for parent in reversed(row.path[:-1]):
        found.append(parent + name)
        if row.scope and not own_scope and not _scope_of(parent):
            found.append(row.scope + parent + name)
    return found


def table_region(table: StatTable, fallback: str | None) -> tuple[str | None, str | None]:
    """(region, province) of a report: its 编制单位, its 地区编码, a place in its title lines, else the fallback."""
    issuer, code = issuer_text(table.context)
    for text in (issuer, None, table.context):
        if text is None:
            place = place_by_code(code) if code else None
        else:
            mentions = find_places(text)
            place = mentions[0].place if mentions else None
        if place is not None:
            return place.name, place.province
    if NATIONAL_ISSUER.search(table.context):
        return NATIONAL, None
    fallback_place = place_by_name(fallback) if fallback else None
    return fallback, (fallback_place.province if fallback_place else None)


def _row_paragraph(row: TableRow, by_text: dict[str, Paragraph], paragraphs: Sequence[Paragraph]) -> Paragraph | None:
    for key in (*row.keys, squeeze(row.sentence)):
        if key in by_text:
            return by_text[key]
    label = squeeze(row.label)
    if label in by_text:
        return by_text[label]
    return next((p for p in paragraphs if squeeze(p.text).startswith(label)), None)


def table_indicators(
    doc_id: str,
    tables: Sequence[StatTable],
    paragraphs: Sequence[Paragraph],
    *,
    region: str | None,
    rules: Sequence[MetricRule] | None = None,
    first_ordinal: int = 0,
) -> tuple[Indicator, ...]:
    """One Indicator per table row with a value: metric path, code, normalized value, report period and region.

    `paragraphs` are the texts the page was read into (a heading has paragraph_id ''): a row points to the
    paragraph (or heading) printing it, when there is one.
    """
    vocabulary = rules_by_unit(default_rules() if rules is None else rules)
    by_text = {squeeze(p.text): p for p in reversed(paragraphs)}
    found: list[Indicator] = []
    for table in tables:
        period = report_period(table.context)
        if table.year is not None:
            period = ReportPeriod(f"{table.year}年", ANNUAL, date(table.year, 1, 1), date(table.year, 12, 31))
        region_name, province = table_region(table, region)
        for row in table.rows:
            start, end = row_period(period, row)
            code = next(
                (c for phrase in metric_candidates(row) if (c := code_metric(phrase, row.base_unit, vocabulary))), None
            )
            paragraph = _row_paragraph(row, by_text, paragraphs)
            ordinal = first_ordinal + len(found)
            found.append(
                Indicator(
                    indicator_id=stable_id(doc_id, "i", ordinal),
                    paragraph_id=paragraph.paragraph_id if paragraph else "",
                    section_id=paragraph.section_id if paragraph else None,
                    ordinal=ordinal,
                    metric=" › ".join(row.path),
                    metric_code=code,
                    value=row.value,
                    unit=row.base_unit,
                    unit_implied=row.unit_implied,
                    qualifier="exact",
                    raw_text=row.value_text,
                    sentence=row.sentence,
                    region=region_name,
                    region_province=province,
                    period=period.printed if period else None,
                    period_start=start,
                    period_end=end,
                    origin="table",
                )
            )
    return tuple(found)
