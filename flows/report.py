"""`civic-ingest report`: the warehouse as one self-contained HTML page that analysts look at.

For each metric code with data: the latest value per region (bar chart), the series over time per region
(line chart, conflicting figures marked), the sources behind each point and the conflicts between sources;
what the last run added; coverage (figures with and without a code). Charts are Vega-Lite specs built with
altair and drawn in the browser by Vega's own scripts, inlined in the page (no CDN: it opens offline).
SQL lives in warehouse.queries; this module shapes rows into charts and HTML.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import altair as alt
import duckdb

from flows import settings
from flows.vocabulary import metric_rules
from warehouse import queries

# Regions drawn per chart: more bars stay readable, more lines do not (their colours run out).
MAX_BAR_REGIONS = 40
MAX_LINE_REGIONS = 8
MAX_SOURCE_ROWS = 200  # rows of one metric's source table; the rest is a query away
MAX_RUN_DOCUMENTS = 200
SENTENCE_CHARS = 90  # of a sentence in a tooltip
FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
# Chinese magnitudes for axes: 7.7万 reads better than 77k, and 3.1亿 than 310M.
MAGNITUDES = ((1e8, "亿"), (1e4, "万"))


@dataclass(frozen=True, slots=True)
class Series:
    """One metric code in one unit: the unit of the report's per-metric sections."""

    code: str
    unit: str
    label: str
    figures: int
    regions: int
    documents: int

    @property
    def anchor(self) -> str:
        return f"m-{self.code}-{self.unit.encode().hex()}"


@dataclass(frozen=True, slots=True)
class ReportData:
    warehouse: str
    generated_at: datetime
    run_id: str | None
    series: tuple[Series, ...]
    latest: dict[tuple[str, str], list[dict[str, Any]]]
    points: dict[tuple[str, str], list[dict[str, Any]]]
    conflicts: dict[tuple[str, str], list[dict[str, Any]]]
    coverage: dict[str, Any]
    last_run: dict[str, Any] | None
    last_change: dict[str, Any] | None
    run_documents: list[dict[str, Any]]


def by_series(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[(row["metric_code"], row["unit"])].append(row)
    return dict(grouped)


def gather_report(con: duckdb.DuckDBPyConnection, warehouse: str, run_id: str | None = None) -> ReportData:
    """Everything the page shows, read from the warehouse."""
    labels = {rule.code: rule.label for rule in reversed(metric_rules())}
    series = tuple(
        Series(r["metric_code"], r["unit"], labels.get(r["metric_code"], r["metric_code"]), *_counts(r))
        for r in queries.metric_series(con)
    )
    last_run, last_change = queries.last_runs(con)
    documents = queries.run_documents(con, last_change["started_at"], last_change["finished_at"]) if last_change else []
    return ReportData(
        warehouse=warehouse,
        generated_at=datetime.now(),
        run_id=run_id,
        series=series,
        latest=by_series(queries.latest_by_region(con)),
        points=by_series(queries.series_points(con, MAX_LINE_REGIONS)),
        conflicts=by_series(queries.conflicts(con)),
        coverage=queries.coverage(con),
        last_run=last_run,
        last_change=last_change,
        run_documents=documents,
    )


def _counts(row: dict[str, Any]) -> tuple[int, int, int]:
    return int(row["figures"]), int(row["regions"]), int(row["documents"])


def write_report(con: duckdb.DuckDBPyConnection, out: str | Path, *, warehouse: str, run_id: str | None = None) -> Path:
    """Write the report page of the warehouse open on `con`; returns its path."""
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    html = build_report(gather_report(con, warehouse, run_id), vega_script())
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)  # a browser reloading the page never sees half of it
    return target


# --- Vega's scripts, inlined --------------------------------------------------------------------


def vega_script() -> str:
    """vega + vega-lite + vega-embed as one script (from vl-convert, cached: building it takes ~4 s)."""
    import vl_convert

    versions = f"{vl_convert.get_vega_version()}-{vl_convert.get_vega_embed_version()}-{alt.SCHEMA_VERSION}"
    cache_dir = settings.CACHE_DIR
    cached = cache_dir / f"vega-embed-{versions}.js"
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    wanted = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]  # the Vega-Lite of altair's specs: v6.4.1 -> 6.4
    script = vl_convert.javascript_bundle(
        None, vl_version=wanted if wanted in vl_convert.get_vegalite_versions() else None
    )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        tmp.write_text(script, encoding="utf-8")
        tmp.replace(cached)
    except OSError:
        pass  # a read-only home: build it again next time
    return script


# --- values for charts and tables ---------------------------------------------------------------


def plain(value: Any) -> Any:
    """A JSON-friendly value: dates as ISO text, decimals as floats."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def magnitude(values: Iterable[float]) -> tuple[float, str]:
    """(divisor, prefix) that keeps an axis readable: (1e4, '万') when the largest value is in the ten thousands."""
    largest = max((abs(v) for v in values), default=0.0)
    for divisor, prefix in MAGNITUDES:
        if largest >= divisor * 10:
            return divisor, prefix
    return 1.0, ""


def link_for(uri: str) -> str:
    """A URL a browser opens: web pages as they are, local files as file:// URLs."""
    if uri.startswith(("http://", "https://", "file://")):
        return uri
    return Path(uri).resolve().as_uri()


def shorten(text: str | None, limit: int = SENTENCE_CHARS) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chart_rows(rows: Sequence[dict[str, Any]], divisor: float, flagged: set[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Rows as chart data: the scaled value, its source for the tooltip and a link to open on click."""
    return [
        {
            "region": row["region"],
            "as_of": plain(row["as_of"]),
            "value": float(row["value"]) / divisor,
            "printed": row["raw_text"],
            "source": " ".join(filter(None, (row["source"], plain(row["published_date"])))),
            "title": shorten(row["title"], 40),
            "sentence": shorten(row["sentence"]),
            "link": link_for(row["uri"]),
            "conflict": (row["region"], plain(row["as_of"])) in flagged,
        }
        for row in rows
    ]


# A chart and the rows of its named datasets.
Drawn = tuple[alt.TopLevelMixin, dict[str, list[dict[str, Any]]]]

TOOLTIP = [
    alt.Tooltip("region:N", title="地区"),
    alt.Tooltip("printed:N", title="原文"),
    alt.Tooltip("as_of:T", title="截至", format="%Y-%m-%d"),
    alt.Tooltip("source:N", title="来源"),
    alt.Tooltip("title:N", title="文章"),
    alt.Tooltip("sentence:N", title="句子"),
]


def bar_chart(rows: list[dict[str, Any]], axis_title: str) -> Drawn:
    """Latest value per region, largest first; a click opens the article."""
    chart = (
        alt.Chart(alt.Data(name="bars"))
        .mark_bar(color="#4c78a8")
        .encode(
            y=alt.Y("region:N", sort="-x", title=None),
            x=alt.X("value:Q", title=axis_title),
            tooltip=TOOLTIP,
            href="link:N",
        )
        .properties(width=360, height=alt.Step(18), title="latest value per region")
    )
    return chart, {"bars": rows}


def line_chart(rows: list[dict[str, Any]], axis_title: str) -> Drawn:
    """The series over time per region: a point per figure, a line through each date's median, conflicts ringed."""
    datasets = {"points": rows}
    base = alt.Chart(alt.Data(name="points")).encode(
        x=alt.X("as_of:T", title="截至 (period end)"),
        color=alt.Color("region:N", title="地区", legend=alt.Legend(orient="bottom", columns=4)),
    )
    # Several figures of one region and date (two sources, or parts of a whole) are points; the line takes their median.
    lines = base.mark_line(strokeWidth=1.5, opacity=0.7).encode(y=alt.Y("median(value):Q", title=axis_title))
    points = base.mark_point(filled=True, size=45).encode(y="value:Q", tooltip=TOOLTIP, href="link:N")
    layers: list[alt.Chart] = [lines, points]
    if any(row["conflict"] for row in rows):
        datasets["conflicts"] = [r for r in rows if r["conflict"]]
        rings = alt.Chart(alt.Data(name="conflicts")).mark_point(
            shape="diamond", size=220, color="#d62728", strokeWidth=2, filled=False
        )
        layers.append(rings.encode(x="as_of:T", y="value:Q", tooltip=TOOLTIP))
    return alt.layer(*layers).properties(width=460, height=260, title="over time per region"), datasets


def coverage_chart(by_province: list[dict[str, Any]]) -> Drawn:
    """Figures with and without a metric code, per province (stacked bars)."""
    rows = [
        {"province": r["province"], "kind": kind, "figures": int(r[column])}
        for r in by_province
        for kind, column in (("with a code", "coded"), ("without a code", "uncoded"))
    ]
    chart = (
        alt.Chart(alt.Data(name="figures"))
        .mark_bar()
        .encode(
            y=alt.Y("province:N", sort=alt.EncodingSortField("figures", op="sum", order="descending"), title=None),
            x=alt.X("sum(figures):Q", title="figures"),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=["with a code", "without a code"], range=["#4c78a8", "#bab0ac"]),
            ),
            tooltip=["province:N", "kind:N", "figures:Q"],
        )
        .properties(width=420, height=alt.Step(18), title="figures by province")
    )
    return chart, {"figures": rows}


def chart_spec(drawn: Drawn) -> dict[str, Any]:
    """The Vega-Lite spec with its data, in fonts that have Chinese glyphs.

    The rows go in as named datasets after altair has made the spec: altair walks every value it is given
    (6 s for the charts of 1,000 pages), and the rows are plain JSON already.
    """
    chart, datasets = drawn
    spec = dict(chart.configure(font=FONT).configure_view(stroke=None).to_dict(validate=False))
    spec["datasets"] = datasets
    return spec


# --- HTML -------------------------------------------------------------------------------------------


class Page:
    """The HTML body being built, and the charts to draw in it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.charts: list[tuple[str, dict[str, Any]]] = []

    def add(self, html: str) -> None:
        self.parts.append(html)

    def chart(self, drawn: Drawn, kind: str, marks: int) -> None:
        """A chart's place in the page; `marks` is how many bars or points it draws (tests count them)."""
        chart_id = f"chart-{len(self.charts)}"
        self.charts.append((chart_id, chart_spec(drawn)))
        self.add(f'<div class="chart" id="{chart_id}" data-kind="{kind}" data-marks="{marks}"></div>')


def table(columns: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """An HTML table; cells are HTML already."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def source_link(row: dict[str, Any]) -> str:
    title = escape(row.get("title") or row["uri"])
    return f'<a href="{escape(link_for(row["uri"]))}">{title}</a>'


def marked_sentence(row: dict[str, Any]) -> str:
    """The sentence with the printed figure highlighted."""
    sentence, printed = row.get("sentence") or "", row.get("raw_text") or ""
    if printed and printed in sentence:
        before, after = sentence.split(printed, 1)
        return f"{escape(before)}<mark>{escape(printed)}</mark>{escape(after)}"
    return escape(sentence)


def fmt_number(value: Any) -> str:
    number = float(value)
    return f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"


def source_rows(rows: Iterable[dict[str, Any]], flagged: set[tuple[Any, ...]]) -> list[list[str]]:
    return [
        [
            escape(row["region"]),
            escape(str(plain(row["as_of"]) or "")),
            f"{fmt_number(row['value'])}"
            + (' <span class="flag">conflict</span>' if (row["region"], plain(row["as_of"])) in flagged else ""),
            escape(row["raw_text"] or ""),
            marked_sentence(row),
            f"{source_link(row)}<br><small>{escape(row['source'] or '')} {escape(str(plain(row['published_date']) or ''))}</small>",
        ]
        for row in rows
    ]


def metric_section(page: Page, series: Series, data: ReportData) -> None:
    key = (series.code, series.unit)
    latest = data.latest.get(key, [])
    points = data.points.get(key, [])
    conflicting = data.conflicts.get(key, [])
    flagged = {(r["region"], plain(r["period_end"])) for r in conflicting}
    divisor, prefix = magnitude(float(r["value"]) for r in latest + points)
    axis_title = f"{series.label}（{prefix}{series.unit}）"
    page.add(
        f'<section id="{series.anchor}"><h2>{escape(series.label)} <code>{escape(series.code)}</code> · {escape(series.unit)}</h2>'
    )
    page.add(
        f'<p class="meta">{series.figures} figures from {series.documents} documents about {series.regions} regions'
        + (
            f' · <a class="flag" href="#{series.anchor}-conflicts">{plural(len(flagged), "conflict")}</a>'
            if flagged
            else ""
        )
        + '</p><div class="charts">'
    )
    bars = latest[:MAX_BAR_REGIONS]
    if bars:
        page.chart(bar_chart(chart_rows(bars, divisor, set()), axis_title), "bar", len(bars))
    dated = [p for p in points if p["as_of"] is not None]
    if dated:
        page.chart(line_chart(chart_rows(dated, divisor, flagged), axis_title), "line", len(dated))
    page.add("</div>")
    notes = []
    if len(latest) > MAX_BAR_REGIONS:
        notes.append(f"the bar chart shows the {MAX_BAR_REGIONS} largest of {len(latest)} regions")
    if series.regions > MAX_LINE_REGIONS:
        notes.append(f"the line chart shows the {MAX_LINE_REGIONS} regions with the most dates of {series.regions}")
    if notes:
        page.add(
            f"<p class=\"note\">{'; '.join(notes)} — every figure: <code>SELECT * FROM indicator_facts WHERE metric_code = '{escape(series.code)}'</code></p>"
        )
    if conflicting:
        is_open = " open" if len(flagged) <= 5 else ""
        page.add(
            f'<details id="{series.anchor}-conflicts"{is_open}><summary class="flag">{plural(len(flagged), "conflict")} between '
            f"sources: {len(conflicting)} figures of one region and period end that differ beyond rounding</summary>"
        )
        page.add(
            table(
                ["region", "period end", "value", "printed", "sentence", "source"],
                source_rows(({**r, "as_of": r["period_end"]} for r in conflicting[:MAX_SOURCE_ROWS]), flagged),
                "conflicts",
            )
        )
        page.add("</details>")
    shown = latest[:MAX_BAR_REGIONS] + dated
    shown = sorted(
        {(r["region"], str(r["as_of"]), r["uri"], r["raw_text"]): r for r in shown}.values(), key=_newest_first
    )
    page.add(
        f"<details><summary>Sources behind the points ({min(len(shown), MAX_SOURCE_ROWS)} of {len(shown)})</summary>"
    )
    page.add(
        table(
            ["region", "as of", "value", "printed", "sentence", "source"],
            source_rows(shown[:MAX_SOURCE_ROWS], flagged),
            "sources",
        )
    )
    page.add("</details></section>")


def _newest_first(row: dict[str, Any]) -> tuple[str, str]:
    return (str(plain(row["as_of"]) or ""), row["region"])


def run_section(page: Page, data: ReportData) -> None:
    page.add('<section id="last-run"><h2>What the last run added</h2>')
    run, changed = data.last_run, data.last_change
    if run is None:
        page.add("<p>No run recorded yet.</p></section>")
        return
    if changed is None or changed["run_id"] != run["run_id"]:
        page.add(
            f"<p>The newest run, <b>{escape(run['flow'])}</b> finished {escape(_when(run['finished_at']))}, changed no article "
            f"({run['articles_unchanged']} unchanged, {run['rejects']} rejected)."
            + (" The newest run that did:" if changed else "")
            + "</p>"
        )
    if changed is not None:
        page.add(
            table(
                ["flow", "started", "finished", "new", "updated", "unchanged", "indicators", "rejects"],
                [
                    [
                        escape(_when(changed[c]))
                        for c in (
                            "flow",
                            "started_at",
                            "finished_at",
                            "articles_new",
                            "articles_updated",
                            "articles_unchanged",
                            "indicators",
                            "rejects",
                        )
                    ]
                ],
                "run",
            )
        )
        docs = data.run_documents
        rows = [
            [
                source_link(d),
                escape(str(plain(d["published_date"]) or "")),
                escape(d["source"] or ""),
                escape(" ".join(filter(None, (d["region_province"], d["region_city"])))),
                "new" if d["is_new"] else "updated",
                f"{d['figures']} ({d['coded']} coded)" + (" · repost" if d["is_repost"] else ""),
            ]
            for d in docs[:MAX_RUN_DOCUMENTS]
        ]
        page.add(
            f"<details open><summary>{len(docs)} articles added or changed"
            + (f" (first {MAX_RUN_DOCUMENTS})" if len(docs) > MAX_RUN_DOCUMENTS else "")
            + "</summary>"
        )
        page.add(table(["article", "published", "outlet", "region", "", "figures"], rows, "documents"))
        page.add("</details>")
    page.add("</section>")


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _when(value: Any) -> str:
    """A run's cell: times to the second."""
    return f"{value:%Y-%m-%d %H:%M:%S}" if isinstance(value, datetime) else str(plain(value))


def coverage_section(page: Page, data: ReportData) -> None:
    cov = data.coverage
    figures, coded = cov["figures"], cov["coded"]
    share = f"{coded / figures:.0%}" if figures else "–"
    page.add('<section id="coverage"><h2>Coverage</h2>')
    page.add(
        f"<p><b>{figures}</b> figures: <b>{coded}</b> with a metric code ({share}), <b>{figures - coded}</b> without. "
        "A figure without a code is still in <code>indicator_facts</code>; the commonest wordings without one are below "
        '(candidates for the vocabulary, <code>CIVIC_METRICS</code>).</p><div class="charts">'
    )
    if cov["by_province"]:
        page.chart(coverage_chart(cov["by_province"]), "coverage", 2 * len(cov["by_province"]))
    page.add("</div>")
    rows = [
        [escape(r["metric"]), escape(r["unit"]), str(r["figures"]), str(r["documents"])] for r in cov["uncoded_metrics"]
    ]
    page.add(table(["metric as printed (no code)", "unit", "figures", "documents"], rows, "uncoded") + "</section>")


def contents(data: ReportData) -> str:
    conflict_counts = {key: len({(r["region"], r["period_end"]) for r in rows}) for key, rows in data.conflicts.items()}
    items = "".join(
        f'<li><a href="#{s.anchor}">{escape(s.label)}</a> <small>{escape(s.unit)} · {s.figures}</small>'
        + (
            f' <span class="flag">{plural(conflict_counts[(s.code, s.unit)], "conflict")}</span>'
            if (s.code, s.unit) in conflict_counts
            else ""
        )
        + "</li>"
        for s in data.series
    )
    return f'<nav><a href="#last-run">last run</a> · <a href="#coverage">coverage</a><ol>{items}</ol></nav>'


STYLE = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; margin: 0 auto; max-width: 1180px; padding: 0 16px 48px;
       color: #222; }
h1 { margin-bottom: 0; } h2 { border-top: 1px solid #ddd; padding-top: 18px; margin-top: 32px; }
.meta, .note { color: #555; } .note { font-size: 90%; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
nav ol { columns: 3; font-size: 92%; }
table { border-collapse: collapse; font-size: 88%; margin: 8px 0; }
th, td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: left; vertical-align: top; }
td:nth-child(5) { max-width: 460px; }
mark { background: #ffe28a; } .flag { color: #d62728; font-weight: 600; }
details summary { cursor: pointer; color: #335; margin: 8px 0; }
"""


def build_report(data: ReportData, script: str) -> str:
    """The whole page: HTML, the charts' specs, and Vega's scripts inline."""
    page = Page()
    run_note = f" after run <code>{escape(data.run_id)}</code>" if data.run_id else ""
    page.add(
        f'<header><h1>civic-ingest report</h1><p class="meta">warehouse <code>{escape(data.warehouse)}</code>{run_note}, '
        f"written {data.generated_at:%Y-%m-%d %H:%M} · {len(data.series)} metric series · click a bar or point to open its article</p></header>"
    )
    page.add(contents(data))
    run_section(page, data)
    coverage_section(page, data)
    if not data.series:
        page.add("<p>No figure has a metric code yet: ingest some articles first.</p>")
    for series in data.series:
        metric_section(page, series, data)
    specs = json.dumps(page.charts, ensure_ascii=False, default=plain).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>civic-ingest report</title>
<style>{STYLE}</style>
<script>{script}</script>
</head><body>
{"".join(page.parts)}
<script>
const charts = {specs};
Promise.all(charts.map(([id, spec]) => vegaEmbed("#" + id, spec, {{renderer: "svg", actions: false}})))
  .then(() => document.body.setAttribute("data-rendered", charts.length))
  .catch((error) => {{ console.error(error); document.body.setAttribute("data-render-error", String(error)); }});
</script>
</body></html>
"""
