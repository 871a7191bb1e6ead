"""`fetch-articles` over one host per CMS family: two runs, checked in the warehouse and the servers' logs.

Run 1 crawls every family host from start URLs alone (no article patterns); run 2 follows with nothing
changed and must download no article again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flows.sources.web import canonical_url
from tests.fixtures.site.families import (
    CHALLENGE_ITEMS,
    CHALLENGES,
    GKMLPT_ITEMS,
    HANWEB_ITEMS,
    STATS_LIST_XLSX,
    STATS_NOTE,
    STATS_REPORT,
    STATS_ROWS,
    STATS_XLSX,
    TRS_ITEMS,
    WALL_ITEMS,
    FamilySites,
    family_sites,
)
from tests.fixtures.site.server import Request
from tests.flows.warehouse_rows import read_rows

pytestmark = pytest.mark.usefixtures("prefect_harness")


@dataclass
class Run:
    summary: Any
    requests: dict[str, list[Request]]


@dataclass
class Crawl:
    hosts: FamilySites
    db: Path
    runs: list[Run]

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return read_rows(self.db, sql, params)

    def url(self, host: str, path: str) -> str:
        return canonical_url(self.hosts[host].url(path))


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    from flows.fetch_articles import fetch_articles

    tmp = tmp_path_factory.mktemp("families-fetch")
    db = tmp / "warehouse.duckdb"
    with family_sites(tmp) as hosts:
        runs: list[Run] = []
        for _ in range(2):
            marks = {name: site.mark() for name, site in hosts.sites.items()}
            summary = fetch_articles(sources_file=str(hosts.sources_file), db=str(db))
            runs.append(Run(summary, {n: s.requests_since(marks[n]) for n, s in hosts.sites.items()}))
        yield Crawl(hosts, db, runs)


def loaded(crawl: Crawl, host: str) -> set[str]:
    prefix = canonical_url(crawl.hosts[host].url("/"))
    return {uri for (uri,) in crawl.query("SELECT uri FROM documents WHERE starts_with(uri, ?)", [prefix])}


def test_every_familys_articles_are_loaded_down_to_the_deepest_page(crawl: Crawl) -> None:
    assert loaded(crawl, "hanweb") == {crawl.url("hanweb", i.path) for i in HANWEB_ITEMS}  # 35th included
    assert loaded(crawl, "trs") == {crawl.url("trs", i.path) for i in TRS_ITEMS}
    assert loaded(crawl, "gkmlpt") == {crawl.url("gkmlpt", i.path) for i in GKMLPT_ITEMS}
    assert loaded(crawl, "wall") == {crawl.url("wall", i.path) for i in WALL_ITEMS}  # behind the cookie wall
    item = HANWEB_ITEMS[34]
    rows = crawl.query("SELECT title, published_date FROM documents WHERE uri = ?", [crawl.url("hanweb", item.path)])
    assert rows == [(item.title, item.published)]


def test_list_pages_are_logged_with_the_family_that_read_them(crawl: Crawl) -> None:
    rows = crawl.query("SELECT source_name, family, count(*) FROM fetch_log WHERE kind = 'list' GROUP BY ALL")
    families = {source: family for source, family, _ in rows}
    assert families == {
        "fixture-hanweb": "hanweb",
        "fixture-trs": "trs",
        "fixture-gkmlpt": "gkmlpt",
        "fixture-wall": "links",
        "fixture-challenge": "links",
        "fixture-stats": "links",
    }
    pages = {source: n for source, _, n in rows}
    assert (pages["fixture-hanweb"], pages["fixture-trs"], pages["fixture-gkmlpt"]) == (3, 4, 4)


def test_challenge_pages_are_logged_as_blocked_and_never_loaded(crawl: Crawl) -> None:
    blocked = [CHALLENGE_ITEMS[n] for n in sorted(CHALLENGES)]
    for item, (status, _) in zip(blocked, (CHALLENGES[n] for n in sorted(CHALLENGES)), strict=True):
        rows = crawl.query(
            "SELECT status, error, doc_id FROM fetch_log WHERE url = ?", [crawl.url("challenge", item.path)]
        )
        assert rows == [(status, f"blocked by an anti-bot challenge (HTTP {status})", None)]
    ordinary = {crawl.url("challenge", i.path) for i in CHALLENGE_ITEMS[len(CHALLENGES) :]}
    assert loaded(crawl, "challenge") == ordinary  # the run went on past the challenges
    first = crawl.runs[0].summary
    assert first.fetch_counts["fixture-challenge"]["blocked"] == len(CHALLENGES)
    assert f"blocked    fixture-challenge {len(CHALLENGES)} page(s)" in first.to_text()
    assert "anti-bot challenge (HTTP 521)" in " ".join(r.reason for r in first.rejects)


def test_a_linked_spreadsheet_is_fetched_and_kept_with_its_page(crawl: Crawl) -> None:
    from flows.fetch_articles import Job, page_document
    from flows.sources.config import load_sources
    from flows.sources.web import WebClient, make_link

    report, workbook = crawl.url("stats", STATS_REPORT.path), crawl.url("stats", STATS_XLSX)
    rows = crawl.query("SELECT kind, parent_url, error, content_hash FROM fetch_log WHERE url = ?", [workbook])
    assert len(rows) == 1
    kind, parent, error, hashed = rows[0]
    assert kind == "attachment" and error is None and hashed
    assert parent in (report, crawl.url("stats", STATS_NOTE.path))  # two pages link it; it is fetched once
    assert loaded(crawl, "stats") >= {report, crawl.url("stats", STATS_NOTE.path)}
    stats_log = [r.path for r in crawl.runs[0].requests["stats"]]
    assert stats_log.count(STATS_XLSX) == 1
    # A workbook the column lists itself is fetched once too, linked to the list page.
    listed = crawl.query("SELECT kind, parent_url FROM fetch_log WHERE url = ?", [crawl.url("stats", STATS_LIST_XLSX)])
    assert listed == [("attachment", crawl.url("stats", "/mzsj/tjjb/index.html"))]
    assert stats_log.count(STATS_LIST_XLSX) == 1
    assert not [p for p in stats_log if p.endswith(".pdf")]  # PDFs are not fetched
    # The document made of the fetched workbook: its sheet as an HTML table, titled by the link text.
    source = load_sources(crawl.hosts.sources_file).select(["fixture-stats"])[0]
    client = WebClient.for_sources(load_sources(crawl.hosts.sources_file).fetch, [source])
    page = client.fetch(crawl.hosts["stats"].url(STATS_REPORT.path), allowed=source.allows)
    sheet = client.fetch_attachment(crawl.hosts["stats"].url(STATS_XLSX), allowed=source.allows)
    link = make_link(STATS_XLSX, page.url)
    assert link is not None
    document = page_document(Job(source, link, parent=page), sheet)
    html = getattr(document, "content", b"").decode()
    assert document.uri == workbook and "<table>" in html
    assert "<th>指标</th><th>单位</th>" in html and "<td>基金会</td><td>个</td><td>149</td><td>142</td>" in html
    assert "2024年1季度民政统计数据.xlsx</title>" in html and 'content="2024-04-25"' in html
    assert html.count("<tr>") == len(STATS_ROWS) + 1 and "<caption>说明</caption>" in html  # both sheets
    # Loaded as a document of its own whose rows are figures of the statistics table, one per data row.
    figures = crawl.query(
        "SELECT i.metric_code, i.value, i.unit, i.origin FROM indicators i JOIN documents d USING (doc_id)"
        " WHERE d.uri = ? ORDER BY i.ordinal",
        [workbook],
    )
    assert {origin for *_, origin in figures} == {"table"}
    assert [(value, unit) for _, value, unit, _ in figures] == [(float(r[2]), r[1]) for r in STATS_ROWS[1:]]
    codes = {value: code for code, value, _, _ in figures}
    assert codes[23810.0] == "urban_dibao_persons" and codes[8968.0] == "social_orgs_total"


def test_a_second_run_downloads_no_article_that_did_not_change(crawl: Crawl) -> None:
    second = crawl.runs[1]
    assert (second.summary.articles_new, second.summary.articles_updated) == (0, 0)
    for name, requests in second.requests.items():
        asked = [r for r in requests if r.path != "/robots.txt"]
        if name == "gkmlpt":  # its index is a script shell that never changes: it and the API are read again
            assert [r.path.split("?")[0] for r in asked][:2] == ["/gkmlpt/index", "/gkmlpt/api/all/2745"]
            assert not [r for r in asked if "/content/" in r.path]
            continue
        lists = [r for r in asked if r.status == 304]
        assert lists, name  # each start page asked for with its validators, and unchanged
        others = {r.path for r in asked if r.status != 304}
        if name == "challenge":  # blocked pages failed: they are tried again (a later run may pass)
            assert others == {CHALLENGE_ITEMS[n].path for n in CHALLENGES}
        else:
            assert others == set(), (name, others)  # no article, no POST, no attachment
