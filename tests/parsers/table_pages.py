"""HTML statistics-report pages of our own, filled with the rows (facts) of a gold table.

Two templates a civil-affairs site uses: `report` (one label column, section rows numbered 一、 (一) 1. (1) A,
a title row and an 编制单位 row inside the table, comparison columns) and `grouped` (the top section as a
rowspan column beside the label, 指标名称 spanning both, a 代码 column, the report header above the table).
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

MARKERS = (
    lambda n: "一二三四五六七八九十"[n % 10] + "、",
    lambda n: "(" + "一二三四五六七八九十"[n % 10] + ")",
    lambda n: f"{n + 1}.",
    lambda n: f"({n + 1})",
    lambda n: "ABCDEFGH"[n % 8] + " ",
    lambda n: ("I", "II", "III", "IV", "V", "VI")[n % 6] + " ",
)
SCALE_WORDS = ((1e8, "亿"), (1e4, "万"))


def _period_words(gold: dict[str, Any]) -> tuple[str, str]:
    """(period as a report prints it, report kind) from the gold period."""
    if not gold.get("period_end"):
        return "", "统计表"
    start, end = date.fromisoformat(gold["period_start"]), date.fromisoformat(gold["period_end"])
    if start.month == end.month:
        return f"{end.year}年{end.month}月", "月报"
    if start.month == 1 and end.month == 12:
        return f"{end.year}年", "年报"
    return f"{end.year}年第{'一二三四'[end.month // 3 - 1]}季度", "季报"


def _unit_printed(row: dict[str, Any]) -> str:
    printed = float(row["value_printed"].replace(",", ""))
    ratio = row["value"] / printed if printed else 1
    for scale, word in SCALE_WORDS:
        if abs(ratio - scale) / scale < 1e-6:
            return word + row["unit"]
    return row["unit"].replace("·", "、")


def _numbered(rows: list[dict[str, Any]]) -> list[tuple[int, str, dict[str, Any] | None]]:
    """(depth, label with its marker, row or None for a section) in reading order."""
    out: list[tuple[int, str, dict[str, Any] | None]] = []
    counters = [0] * len(MARKERS)
    open_path: list[str] = []
    for row in rows:
        path = row["path"][: len(MARKERS)]
        common = next((i for i, (a, b) in enumerate(zip(open_path, path[:-1], strict=False)) if a != b), None)
        keep = common if common is not None else min(len(open_path), len(path) - 1)
        for depth in range(keep, len(counters)):
            if depth > keep:
                counters[depth] = 0
        for depth in range(keep, len(path) - 1):
            out.append((depth, MARKERS[depth](counters[depth]) + path[depth], None))
            counters[depth] += 1
            counters[depth + 1 :] = [0] * (len(counters) - depth - 1)
        depth = len(path) - 1
        out.append((depth, MARKERS[depth](counters[depth]) + path[-1], row))
        counters[depth] += 1
        counters[depth + 1 :] = [0] * (len(counters) - depth - 1)
        open_path = list(path)
    return out


def _issuer(gold: dict[str, Any]) -> str:
    region = gold.get("region") or ""
    return "民政部" if region == "全国" else region


def _report_table(gold: dict[str, Any]) -> str:
    period, kind = _period_words(gold)
    lines = [
        '<table class="MsoNormalTable" border="1" cellspacing="0">',
        f'<tr><td colspan="5" align="center"><b>社会服务统计{kind}</b></td></tr>',
        f'<tr><td colspan="3">编制单位:{html.escape(_issuer(gold))}</td><td colspan="2">{period}</td></tr>',
        "<tr><th>指标名称</th><th>单位</th><th>数量</th><th>上期</th><th>同比</th></tr>",
        "<tr><td>甲</td><td>乙</td><td>1</td><td>2</td><td>3</td></tr>",
    ]
    for depth, label, row in _numbered(gold["rows"]):
        pad = "&nbsp;" * (2 * depth)
        if row is None:
            lines.append(f"<tr><td>{pad}{html.escape(label)}</td><td></td><td></td><td></td><td></td></tr>")
            continue
        lines.append(
            f"<tr><td>{pad}{html.escape(label)}</td><td>{html.escape(_unit_printed(row))}</td>"
            f"<td>{row['value_printed']}</td><td>{row['value_printed']}</td><td>0.00</td></tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)


def _grouped_table(gold: dict[str, Any]) -> str:
    numbered = _numbered(gold["rows"])
    groups: list[list[tuple[int, str, dict[str, Any] | None]]] = []
    for item in numbered:
        if item[0] == 0 or not groups:
            groups.append([])
        groups[-1].append(item)
    lines = [
        "<table>",
        '<thead><tr><th colspan="2">指标名称</th><th>计量单位</th><th>代码</th><th>本期</th><th>上年同期</th></tr></thead>',
        "<tbody>",
    ]
    code = 0
    for group in groups:
        head = group[0]
        rest = group[1:] if head[2] is None else group
        first = True
        for _depth, label, row in rest or [head]:
            code += 1
            cells = (
                f"<td>{html.escape(label)}</td><td>{html.escape(_unit_printed(row)) if row else ''}</td>"
                f"<td>JZH{code:09d}</td><td>{row['value_printed'] if row else ''}</td><td></td>"
            )
            if first:
                lines.append(f'<tr><td rowspan="{len(rest) or 1}">{html.escape(head[1])}</td>{cells}</tr>')
                first = False
            else:
                lines.append(f"<tr>{cells}</tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def render_page(gold: dict[str, Any], template: str) -> str:
    """A whole page: head with meta tags, site furniture, the report's title and header, the table."""
    period, kind = _period_words(gold)
    title = f"{_issuer(gold)}{period}社会服务统计{kind}"
    table = PAGE_TEMPLATES[template](gold)
    header = "" if template == "report" else f"<p>编制单位:{html.escape(_issuer(gold))}　　{period}</p>"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="ArticleTitle" content="{html.escape(title)}"><meta name="ContentSource" content="规划财务处"></head>
<body>
<div class="nav">首页 &gt; 信息公开 &gt; 统计数据</div>
<div class="article"><h1>{html.escape(title)}</h1>
<p class="info">来源:规划财务处　　浏览次数:</p>
<div id="zoom">
{header}
{table}
</div></div>
<div class="footer">主办单位:民政局　网站标识码:1234567890</div>
</body></html>
"""


PAGE_TEMPLATES = {"report": _report_table, "grouped": _grouped_table}
