"""Does a statistics-table page cost more to parse than a prose page of the same size? (issue 13)

    .venv/bin/python benchmarks/table_speed.py [--rows 400] [--seconds 5]

Builds one HTML page holding a 社会服务统计月报 table (generated rows in the official layout: section rows
一、 (一) 1. (1) A, 指标名称 | 单位 | 代码 | 数量 | 上期 | 环比) and one page of the same size holding prose
(the seeds' paragraphs, repeated), then times `parse_document` on each (CPU time, best of several rounds).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from parsers.article import parse_document
from parsers.records import RawDocument

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("社会救助", "养老服务", "儿童福利", "婚姻登记", "殡葬服务", "社会组织", "区划地名", "慈善事业")
LEAVES = (
    ("城市低保人数", "人"),
    ("城市低保户数", "户"),
    ("农村低保人数", "人"),
    ("养老机构床位数", "张"),
    ("民政事业费累计支出", "万元"),
    ("结婚登记", "对"),
    ("孤儿数", "人"),
    ("城市低保平均标准", "元/人、月"),
)
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body>
<div class="nav">首页 &gt; 信息公开 &gt; 统计数据</div><h1>{title}</h1><div id="zoom">{body}</div>
<div class="footer">主办单位:民政厅</div></body></html>"""


def table_page(rows: int) -> str:
    lines = [
        "<table>",
        '<tr><td colspan="6">民政统计月报表</td></tr>',
        '<tr><td colspan="3">编制单位:江苏省</td><td colspan="3">2024年度 06月份</td></tr>',
        "<tr><td>指标名称</td><td>单位</td><td>代码</td><td>数量</td><td>上期</td><td>环比</td></tr>",
    ]
    n = 0
    for s, section in enumerate(SECTIONS * (rows // (len(SECTIONS) * len(LEAVES)) + 1)):
        lines.append(
            f"<tr><td>{'一二三四五六七八九十'[s % 10]}、{section}</td><td></td><td></td><td></td><td></td><td></td></tr>"
        )
        for i, (label, unit) in enumerate(LEAVES):
            n += 1
            value = f"{(n * 7919) % 100000:,}.{n % 10}"
            lines.append(
                f"<tr><td>{i + 1}.{label}</td><td>{unit}</td><td>JZH{n:09d}</td><td>{value}</td><td>{value}</td><td>0.00</td></tr>"
            )
            if n >= rows:
                lines.append("</table>")
                return PAGE.format(title="2024年6月社会服务统计月报", body="\n".join(lines))
    raise AssertionError("unreachable")


def prose_page(size: int) -> str:
    paragraphs = [
        line.strip()
        for path in sorted((ROOT / "seeds").glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line.strip()) > 60
    ]
    body, i = [], 0
    while len(PAGE) + sum(len(p) + 7 for p in body) < size:
        body.append(f"<p>{paragraphs[i % len(paragraphs)]}</p>")
        i += 1
    return PAGE.format(title="民政工作综述", body="\n".join(body))


def best_cpu(page: str, seconds: float) -> tuple[float, int]:
    raw = RawDocument("bench.html", page.encode("utf-8"), True)
    figures = len(parse_document(raw).indicators)
    best, rounds, deadline = float("inf"), 0, time.monotonic() + seconds
    while time.monotonic() < deadline or rounds < 3:
        started = time.process_time()
        parse_document(raw)
        best = min(best, time.process_time() - started)
        rounds += 1
    return best, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400, help="data rows in the table page")
    parser.add_argument("--seconds", type=float, default=5.0, help="time budget per page")
    args = parser.parse_args()
    table = table_page(args.rows)
    prose = prose_page(len(table))
    table_s, table_figures = best_cpu(table, args.seconds / 2)
    prose_s, prose_figures = best_cpu(prose, args.seconds / 2)
    print(f"table page: {len(table):,} chars, {table_figures} figures, {table_s * 1000:.1f} ms CPU")
    print(f"prose page: {len(prose):,} chars, {prose_figures} figures, {prose_s * 1000:.1f} ms CPU")
    print(f"table / prose: {table_s / prose_s:.2f}")
    print(
        json.dumps(
            {
                "table_ms": round(table_s * 1000, 1),
                "prose_ms": round(prose_s * 1000, 1),
                "ratio": round(table_s / prose_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
