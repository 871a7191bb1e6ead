"""`civic-ingest report` as an analyst sees it: the page in headless Chromium, its charts, sources and conflicts.

The warehouse holds the seeds (first run) and then three short articles written here in our own words
(second run): two agree on Zhejiang's social organizations at the end of 2023 within rounding (7.7万家 and
77312家), the third says 7.9万家 — a conflict — and gives Jiangsu's figure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PROJECT_ROOT
from warehouse import queries
from warehouse.schema import snapshot_path

ARTICLES = {
    "zj-report.txt": """浙江省社会组织发展情况通报

发布时间：2024-03-05 来源：浙江日报

截至2023年底，全省登记社会组织7.7万家，其中社会团体2.9万家。全省持证社会工作者12.3万人。
""",
    "zj-statistics.txt": """浙江省民政厅发布2023年度社会组织统计数据

发布时间：2024-04-10 来源：浙江省民政厅

截至2023年底，全省共有社会组织77312家，较上年增长3.1%。全省持证社会工作者123456人。
""",
    "zj-community.txt": """浙江加快培育发展社区社会组织

发布时间：2024-05-20 来源：中国社会报

近年来，浙江省坚持党建引领，推动社区社会组织规范发展，在基层治理中发挥了积极作用。截至2023年底，全省社会组织7.9万家，社区社会组织数量持续增长。
与此同时，江苏省不断优化登记服务，截至2023年底，江苏省社会组织9.6万家，发展环境持续改善。
""",
}
TITLES = [text.splitlines()[0] for text in ARTICLES.values()]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("CIVIC_TEST_ARTIFACTS", PROJECT_ROOT / "test-artifacts"))


def write_articles(folder: Path, names: tuple[str, ...] = tuple(ARTICLES)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(ARTICLES[name], encoding="utf-8")
    return folder


@dataclass
class Reported:
    db: Path
    html: Path
    articles: Path


@pytest.fixture(scope="module")
def reported(
    prefect_harness: None,
    seeds_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> Reported:
    """Seeds in a first run, the three articles in a second, then `civic-ingest report` as a user runs it."""
    from flows.ingest_files import ingest_files

    root = tmp_path_factory.mktemp("report")
    db = root / "warehouse.duckdb"
    ingest_files(paths=[str(seeds_dir)], db=str(db))
    articles = write_articles(root / "articles")
    summary = ingest_files(paths=[str(articles)], db=str(db))
    assert summary.articles_new == 3
    assert summary.report and Path(summary.report).exists(), "the run writes the report beside the warehouse"
    html = root / "out" / "report.html"
    done = run_cli("report", "--db", str(db), "--out", str(html), cwd=root)
    assert done.returncode == 0, done.stderr
    assert str(html) in done.stdout
    return Reported(db, html, articles)


def facts(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(snapshot_path(db)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# --- conflicts, decided in SQL ----------------------------------------------------------------------------


def test_figures_that_differ_beyond_rounding_are_a_conflict(reported: Reported) -> None:
    con = duckdb.connect(str(snapshot_path(reported.db)), read_only=True)
    try:
        rows = queries.conflicts(con)
    finally:
        con.close()
    zhejiang = [r for r in rows if r["metric_code"] == "social_orgs_total" and r["region"] == "浙江省"]
    assert sorted(r["raw_text"] for r in zhejiang) == sorted(["77312家", "7.7万家", "7.9万家"])
    assert {str(r["period_end"]) for r in zhejiang} == {"2023-12-31"}
    assert {Path(r["uri"]).name for r in zhejiang} == set(ARTICLES)
    assert not [r for r in rows if r["region"] == "江苏省" and r["metric_code"] == "social_orgs_total"], (
        "one document for Jiangsu at that date: nothing to disagree with"
    )


def test_figures_that_agree_within_rounding_are_no_conflict(
    prefect_harness: None, tmp_path: Path, seeds_dir: Path
) -> None:
    from flows.ingest_files import ingest_files

    articles = write_articles(tmp_path / "articles", ("zj-report.txt", "zj-statistics.txt"))
    db = tmp_path / "warehouse.duckdb"
    ingest_files(paths=[str(articles)], db=str(db))
    con = duckdb.connect(str(db), read_only=True)
    try:
        values = con.execute(
            "SELECT value FROM indicator_facts WHERE metric_code = 'social_orgs_total' ORDER BY value"
        ).fetchall()
        assert [float(v) for (v,) in values] == [77000.0, 77312.0]  # 7.7万 is 77,000 to the nearest 1,000
        assert queries.conflicts(con) == []
    finally:
        con.close()


def test_a_warehouse_with_an_observations_view_decides_conflicts_itself(reported: Reported, tmp_path: Path) -> None:
    """The `observations` view (migration 004: one row per metric, region, period end: documents, agree) decides."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(snapshot_path(reported.db), copy)
    con = duckdb.connect(str(copy))
    try:
        assert queries.conflicts(con), "the observations view sees the Zhejiang conflict"
        con.execute(
            "CREATE OR REPLACE VIEW observations AS SELECT metric_code, region, as_of AS period_end, "
            "count(DISTINCT doc_id) AS documents, true AS agree FROM indicator_facts GROUP BY ALL"
        )
        assert queries.conflicts(con) == [], "the view says every quantity agrees"
    finally:
        con.close()


# --- the page, opened in Chromium -------------------------------------------------------------------------


@dataclass
class Rendered:
    charts: list[dict]
    console_errors: list[str]
    text: str
    links: list[str]
    requests: list[str]
    screenshot: Path


@pytest.fixture(scope="module")
def rendered(reported: Reported) -> Iterator[Rendered]:
    """The report opened from its file URL in headless Chromium, once it has drawn its charts."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    playwright = pytest.importorskip("playwright.sync_api")
    user_data = reported.html.parent / "chromium-profile"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(user_data),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 1400},
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(reported.html.resolve().as_uri())
            page.wait_for_selector("body[data-rendered], body[data-render-error]", timeout=60_000)
            charts = page.eval_on_selector_all(
                "div.chart",
                """els => els.map(el => ({
                    id: el.id, kind: el.dataset.kind, marks: Number(el.dataset.marks),
                    bars: el.querySelectorAll('g.mark-rect.role-mark > path').length,
                    points: el.querySelectorAll('g.mark-symbol.role-mark.layer_1_marks > path').length,
                    rings: el.querySelectorAll('g.mark-symbol.role-mark.layer_2_marks > path').length,
                    lines: el.querySelectorAll('g.mark-line.role-mark').length,
                    labels: Array.from(el.querySelectorAll('svg text')).map(t => t.textContent),
                    section: el.closest('section') ? el.closest('section').id : '',
                }))""",
            )
            text = page.inner_text("body")
            links = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "report.png"
            page.screenshot(path=str(shot))  # the top: contents, last run, coverage
            section = page.locator("section", has=page.locator("code", has_text="social_orgs_total")).first
            section.screenshot(path=str(ARTIFACTS / "report-social_orgs_total.png"))
            print(f"\nreport screenshots: {shot}, {ARTIFACTS / 'report-social_orgs_total.png'}")
        finally:
            browser.close()
    shutil.rmtree(user_data, ignore_errors=True)
    yield Rendered(charts, errors, text, links, requests, shot)


def chart(rendered: Rendered, kind: str, code: str = "social_orgs_total") -> dict:
    section = next(c["section"] for c in rendered.charts if c["kind"] == kind and code in c["section"])
    return next(c for c in rendered.charts if c["kind"] == kind and c["section"] == section)


def test_every_chart_draws_without_script_errors(rendered: Rendered, reported: Reported) -> None:
    assert rendered.console_errors == []
    series = facts(
        reported.db,
        "SELECT count(*) FROM (SELECT DISTINCT metric_code, unit FROM indicator_facts "
        "WHERE metric_code IS NOT NULL AND region IS NOT NULL)",
    )[0][0]
    assert len([c for c in rendered.charts if c["kind"] == "bar"]) == series
    for c in rendered.charts:
        drawn = c["bars"] if c["kind"] in ("bar", "coverage") else c["points"]
        assert drawn == c["marks"] > 0, c["id"]
    assert rendered.screenshot.stat().st_size > 50_000


def test_the_bar_chart_has_one_bar_per_region_with_the_latest_value(rendered: Rendered, reported: Reported) -> None:
    regions = facts(
        reported.db,
        "SELECT region FROM latest_indicators WHERE metric_code = 'social_orgs_total' AND unit = '家' "
        "AND region IS NOT NULL",
    )
    bars = chart(rendered, "bar")
    assert bars["bars"] == len(regions) >= 3
    assert {"浙江省", "江苏省"} <= set(bars["labels"]), "regions are labelled in Chinese"
    assert any("社会组织总数" in label for label in bars["labels"]), "the axis names the metric"


def test_the_line_chart_has_a_point_per_figure_and_rings_the_conflicts(rendered: Rendered, reported: Reported) -> None:
    (dated,) = facts(
        reported.db,
        "SELECT count(*) FROM (SELECT DISTINCT region, as_of, doc_id, value FROM indicator_facts "
        "WHERE metric_code = 'social_orgs_total' AND unit = '家' AND region IS NOT NULL AND as_of IS NOT NULL)",
    )[0]
    (regions,) = facts(
        reported.db,
        "SELECT count(DISTINCT region) FROM indicator_facts WHERE metric_code = 'social_orgs_total' AND unit = '家' "
        "AND region IS NOT NULL AND as_of IS NOT NULL",
    )[0]
    line = chart(rendered, "line")
    assert line["points"] == dated
    assert line["lines"] == regions
    assert line["rings"] == 3, "the three Zhejiang figures of 2023-12-31 are marked as a conflict"


def test_the_page_shows_sources_conflicts_the_last_run_and_coverage(rendered: Rendered, reported: Reported) -> None:
    text = rendered.text
    assert "1 conflict between sources" in text
    for printed in ("7.7万家", "77312家", "7.9万家"):
        assert printed in text
    article_urls = {(reported.articles / name).resolve().as_uri() for name in ARTICLES}
    assert article_urls <= set(rendered.links), "every source links to its article"

    last_run = text.split("What the last run added", 1)[1].split("Coverage", 1)[0]
    assert "3 articles added or changed" in last_run
    assert all(title in last_run for title in TITLES)
    assert "淄博" not in last_run, "the seeds came with the run before"

    figures, coded = facts(reported.db, "SELECT count(*), count(metric_code) FROM indicator_facts")[0]
    assert f"{figures} figures: {coded} with a metric code" in text


def test_the_page_needs_nothing_but_its_file(rendered: Rendered, reported: Reported) -> None:
    assert rendered.requests == [reported.html.resolve().as_uri()], "scripts and styles are inline: it opens offline"


def test_the_report_command_needs_no_prefect(reported: Reported, tmp_path: Path) -> None:
    import sys

    from tests.conftest import CLI

    out = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(CLI), "report", "--db", str(reported.db), "--out", str(out)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "altair" in modules and "prefect" not in modules
    assert out.stat().st_size > 100_000


def test_the_report_command_fails_with_one_line_without_a_warehouse(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    done = run_cli("report", "--db", str(tmp_path / "none.duckdb"))
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: no warehouse at")
