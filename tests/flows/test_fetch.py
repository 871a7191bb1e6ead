"""The `fetch-articles` flow against the fixture sites: three runs, checked the way a user would check them.

Run 1 crawls both sites into an empty warehouse, run 2 follows with nothing new, then an article is
published on the province site and run 3 picks it up. The servers' request logs show what was asked.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flows.sources.web import canonical_url
from tests.fixtures.site import Sites
from tests.fixtures.site.build import (
    ANNUAL_CHECK,
    BEYOND_LIMIT,
    CITY_SECTION,
    CITY_STORY,
    COMMUNITY_CARE,
    ELDERLY_CARE,
    MARRIAGE,
    MINIMUM_LIVING,
    MINORS,
    NEW_STORY,
    PLACE_NAMES,
    RELIEF_REFORM,
    REPOST,
    SUBSIDY_TABLE,
    TRS_SECTION,
    add_new_story,
)
from tests.fixtures.site.server import Request
from tests.flows.warehouse_rows import read_rows

pytestmark = pytest.mark.usefixtures("prefect_harness")

PROVINCE_ARTICLES = [
    ELDERLY_CARE.hanweb_path(),
    MINIMUM_LIVING.hanweb_path(),
    COMMUNITY_CARE.hanweb_path(),
    MARRIAGE.hanweb_path(),
    PLACE_NAMES.trs_path(TRS_SECTION),
    MINORS.trs_path(TRS_SECTION),
    RELIEF_REFORM.trs_path(TRS_SECTION),
]
CITY_ARTICLES = [REPOST.trs_path(CITY_SECTION), CITY_STORY.trs_path(CITY_SECTION)]
FAILING = ANNUAL_CHECK.hanweb_path()
FURNITURE = (
    "当前位置",
    "您当前的位置",
    "打印本页",
    "关闭窗口",
    "网站标识码",
    "ICP备",
    "主办单位",
    "字体",
    "分享到",
    "扫一扫",
)


@dataclass
class Run:
    summary: Any
    province: list[Request]
    city: list[Request]


@dataclass
class Crawl:
    sites: Sites
    db: Path
    runs: list[Run]

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return read_rows(self.db, sql, params)

    def url(self, path: str, site: str = "province") -> str:
        return canonical_url(getattr(self.sites, site).url(path))


@pytest.fixture(scope="module")
def crawl(module_sites: Sites, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    from flows.fetch_articles import fetch_articles

    db = tmp_path_factory.mktemp("fetch") / "warehouse.duckdb"
    runs: list[Run] = []

    def run() -> None:
        marks = module_sites.province.mark(), module_sites.city.mark()
        summary = fetch_articles(sources_file=str(module_sites.sources_file), db=str(db))
        runs.append(
            Run(summary, module_sites.province.requests_since(marks[0]), module_sites.city.requests_since(marks[1]))
        )

    run()
    run()
    add_new_story(module_sites.province, offsite_url=module_sites.offsite_url)
    run()
    yield Crawl(module_sites, db, runs)


def paths(requests: list[Request]) -> list[str]:
    return [r.path for r in requests]


def is_article(path: str) -> bool:
    return "/art/" in path or "/t20" in path


# --- run 1 -----------------------------------------------------------------------------------------


def test_each_article_is_loaded_once_under_its_canonical_url(crawl: Crawl) -> None:
    expected = {crawl.url(p) for p in PROVINCE_ARTICLES} | {crawl.url(p, "city") for p in CITY_ARTICLES}
    expected.add(crawl.url(NEW_STORY.hanweb_path()))
    uris = [uri for (uri,) in crawl.query("SELECT uri FROM documents")]
    assert sorted(uris) == sorted(expected)
    assert not any("utm_" in uri or "#" in uri for uri in uris)
    first = crawl.runs[0].summary
    assert (first.articles_new, first.articles_updated) == (len(PROVINCE_ARTICLES) + len(CITY_ARTICLES), 0)


def test_the_tracking_duplicate_is_requested_once(crawl: Crawl) -> None:
    requested = [p for p in paths(crawl.runs[0].province) if p.split("?")[0] == ELDERLY_CARE.hanweb_path()]
    assert requested == [ELDERLY_CARE.hanweb_path()]


def test_nothing_disallowed_offsite_or_beyond_the_page_limit_is_requested(crawl: Crawl) -> None:
    province = [p for run in crawl.runs for p in paths(run.province)]
    city = [p for run in crawl.runs for p in paths(run.city)]
    assert not [p for p in province if p.startswith(("/private/", "/module/"))]
    assert "/art/2024/3/1/art_1_999.html" not in city  # the province's off-site link
    assert "/picture/0/P020240305551.pdf" not in province  # a PDF that is not an article link
    assert BEYOND_LIMIT.hanweb_path() not in province
    assert "/col/col55087/index_3.html" not in province  # max_list_pages = 3
    for run in crawl.runs:  # robots.txt first, once per host and run
        assert paths(run.province)[0] == "/robots.txt" and paths(run.province).count("/robots.txt") == 1
        assert paths(run.city)[0] == "/robots.txt" and paths(run.city).count("/robots.txt") == 1
    # The /private/ article, and the Hanweb column's dataproxy.jsp POST (robots.txt disallows /module/).
    assert crawl.runs[0].summary.fetch_counts["province"]["robots_blocked"] == 2


def gaps(requests: list[Request]) -> list[float]:
    times = [r.at for r in requests]
    return [b - a for a, b in itertools.pairwise(times)]


def test_requests_per_host_stay_within_the_limit(crawl: Crawl) -> None:
    # The province asks for 20/s but its robots.txt says Crawl-delay: 0.1; the city is limited to 5/s.
    # Arrival times carry connection jitter, hence the margin on single gaps; the mean must hold exactly.
    for run in crawl.runs:
        for requests, interval in ((run.province, 0.1), (run.city, 0.2)):
            if len(requests) < 2:
                continue
            assert min(gaps(requests)) >= 0.6 * interval, gaps(requests)
            span = requests[-1].at - requests[0].at
            assert span >= (len(requests) - 1) * interval * 0.9
    first = crawl.runs[0]
    assert len(first.city) >= 5  # enough requests for the 5/s measurement to mean something
    # Hosts are crawled in parallel: the city's requests start before the province's are done.
    assert first.city[0].at < first.province[-1].at


def test_pages_are_decoded_parsed_and_cleaned(crawl: Crawl) -> None:
    rows = crawl.query(
        "SELECT d.title, d.published_date::VARCHAR, d.source, d.region_province,"
        " string_agg(p.text, '\n' ORDER BY p.ordinal) FROM documents d JOIN paragraphs p USING (doc_id)"
        " WHERE d.uri = ? GROUP BY ALL",
        [crawl.url(ELDERLY_CARE.hanweb_path())],
    )
    title, published, outlet, province, body = rows[0]
    assert (title, published, outlet, province) == (ELDERLY_CARE.title, "2024-03-05", ELDERLY_CARE.outlet, "江苏省")
    assert "省民政厅副厅长陈喆出席会议并讲话" in body  # 喆: GBK, not GB2312, on a page labelled gb2312
    assert "全省共有养老机构2468家" in body
    assert not [word for word in FURNITURE if word in body]
    headings = crawl.query(
        "SELECT heading FROM sections JOIN documents USING (doc_id) WHERE uri = ? ORDER BY ordinal",
        [crawl.url(ELDERLY_CARE.hanweb_path())],
    )
    headings = [h for (h,) in headings]
    assert headings == ["一、居家社区养老服务网络持续完善", "二、养老服务人才队伍不断壮大"]
    (body,) = crawl.query(
        "SELECT string_agg(text, '\n') FROM paragraphs JOIN documents USING (doc_id) WHERE uri = ?",
        [crawl.url(MINIMUM_LIVING.hanweb_path())],
    )[0]
    assert "宿迁市民政局局长王镕介绍" in body
    trs = crawl.query(
        "SELECT title, published_date::VARCHAR FROM documents WHERE uri = ?", [crawl.url(MINORS.trs_path(TRS_SECTION))]
    )
    assert trs == [(MINORS.title, "2024-03-07")]
    facts = crawl.query("SELECT value FROM indicator_facts WHERE uri = ?", [crawl.url(ELDERLY_CARE.hanweb_path())])
    values = {v for (v,) in facts}
    assert {2468.0, 436000.0, 68.5} <= values


def test_the_500_and_429_pages_are_retried_within_the_run(crawl: Crawl) -> None:
    first = crawl.runs[0].province
    place = [r for r in first if r.path == PLACE_NAMES.trs_path(TRS_SECTION)]
    assert [r.status for r in place] == [500, 200]
    minors = [r for r in first if r.path == MINORS.trs_path(TRS_SECTION)]
    assert [r.status for r in minors] == [429, 200]
    assert minors[1].at - minors[0].at >= 0.95  # Retry-After: 1
    counts = crawl.runs[0].summary.fetch_counts["province"]
    assert counts["retries"] == 1 + 1 + 2  # 500 once, 429 once, the broken page twice (max_retries = 2)


def test_a_page_that_keeps_failing_is_recorded_and_tried_again(crawl: Crawl) -> None:
    for run in crawl.runs:
        assert [r.status for r in run.province if r.path == FAILING] == [503, 503, 503]
        assert any(r.uri == crawl.url(FAILING) and "503" in r.reason for r in run.summary.rejects)
    rows = crawl.query(
        "SELECT kind, status, error, attempts, doc_id FROM fetch_log WHERE url = ?", [crawl.url(FAILING)]
    )
    assert len(rows) == 1
    kind, status, error, attempts, doc_id = rows[0]
    assert (kind, status, attempts, doc_id) == ("article", 503, 3, None)
    assert "HTTP 503" in error


def test_the_pdf_behind_an_article_link_is_skipped_and_logged(crawl: Crawl) -> None:
    assert crawl.runs[0].summary.fetch_counts["province"]["skipped_non_html"] == 1
    sql = "SELECT kind, status, error FROM fetch_log WHERE url = ?"
    rows = crawl.query(sql, [crawl.url(SUBSIDY_TABLE.hanweb_path())])
    assert rows == [("attachment", 200, None)]
    later = [p for run in crawl.runs[1:] for p in paths(run.province)]
    assert SUBSIDY_TABLE.hanweb_path() not in later


def test_list_pages_are_recorded_with_their_validators(crawl: Crawl) -> None:
    rows = crawl.query("SELECT url, etag, last_modified FROM fetch_log WHERE kind = 'list' ORDER BY url")
    urls = [url for url, _, _ in rows]
    assert crawl.url("/col/col55087/index.html") in urls
    assert crawl.url("/sitemap.xml", "city") in urls
    assert all(etag and modified for _, etag, modified in rows)


def test_reposts_are_linked_and_their_figures_counted_once(crawl: Crawl) -> None:
    rows = crawl.query(
        "SELECT doc_id, duplicate_of FROM documents WHERE uri IN (?, ?)",
        [crawl.url(MINIMUM_LIVING.hanweb_path()), crawl.url(REPOST.trs_path(CITY_SECTION), "city")],
    )
    assert len(rows) == 2
    ids = {doc_id for doc_id, _ in rows}
    links = [dup for _, dup in rows if dup]
    assert len(links) == 1 and links[0] in ids
    (facts,) = crawl.query(
        "SELECT count(*) FROM indicator_facts WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))", [sorted(ids)]
    )[0]
    (one_copy,) = crawl.query("SELECT count(*) FROM indicators WHERE doc_id = ?", [links[0]])[0]
    assert facts == one_copy > 0


# --- runs 2 and 3 ----------------------------------------------------------------------------------


def test_a_second_run_loads_nothing_and_downloads_no_known_article(crawl: Crawl) -> None:
    second = crawl.runs[1]
    assert (second.summary.articles_new, second.summary.articles_updated) == (0, 0)
    articles = [r.path for r in second.province + second.city if is_article(r.path)]
    assert set(articles) == {FAILING}  # only the page that failed before
    lists = [r for r in second.province + second.city if r.path != "/robots.txt" and not is_article(r.path)]
    assert lists and all(r.status == 304 for r in lists)
    starts = {"/col/col55087/", TRS_SECTION + "index.html", CITY_SECTION + "index.html", "/sitemap.xml"}
    assert {r.path for r in lists} == starts
    assert second.summary.fetch_counts["province"]["304"] == 2


def test_a_third_run_loads_exactly_the_new_article(crawl: Crawl) -> None:
    third = crawl.runs[2]
    assert (third.summary.articles_new, third.summary.articles_updated) == (1, 0)
    articles = {r.path for r in third.province + third.city if is_article(r.path)}
    assert articles == {NEW_STORY.hanweb_path(), FAILING}
    sql = "SELECT title, published_date::VARCHAR FROM documents WHERE uri = ?"
    rows = crawl.query(sql, [crawl.url(NEW_STORY.hanweb_path())])
    assert rows == [(NEW_STORY.title, "2024-03-08")]


def test_every_run_is_recorded_with_its_fetch_counts(crawl: Crawl) -> None:
    rows = crawl.query("SELECT articles_new, summary_json FROM runs WHERE flow = 'fetch-articles' ORDER BY started_at")
    assert [new for new, _ in rows] == [9, 0, 1]
    counts = json.loads(rows[0][1])["fetch_counts"]
    assert counts["province"]["200"] >= len(PROVINCE_ARTICLES) and counts["province"]["5xx"] == 1
    assert counts["city"]["200"] == 2 + len(CITY_ARTICLES)  # list page, sitemap, two articles
    assert "fetched    province:" in crawl.runs[0].summary.to_text()


# --- the command -----------------------------------------------------------------------------------


def test_the_fetch_command_exits_non_zero_when_pages_failed(
    crawl: Crawl, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import EXIT_ERROR, EXIT_OK, EXIT_REJECTS, main

    sources = str(crawl.sites.sources_file)
    db = str(tmp_path / "cli.duckdb")
    assert main(["fetch", "--sources", sources, "--source", "city", "--db", db, "--max-pages", "1"]) == EXIT_OK
    assert "2 new" in capsys.readouterr().out
    before = crawl.sites.city.mark()
    assert main(["fetch", "--sources", sources, "--source", "city", "--db", db, "--refetch"]) == EXIT_OK
    assert "0 new, 0 updated, 2 unchanged" in capsys.readouterr().out
    refetched = [r for r in crawl.sites.city.requests_since(before) if is_article(r.path)]
    assert sorted(r.path for r in refetched) == sorted(CITY_ARTICLES)  # lists read in full, articles again
    before = crawl.sites.province.mark()
    code = main(["fetch", "--sources", sources, "--source", "province", "--db", db, "--max-pages", "2"])
    assert code == EXIT_REJECTS
    out = capsys.readouterr().out
    assert "REJECTED" in out and ANNUAL_CHECK.hanweb_path() in out
    assert "/col/col55087/index_2.html" not in paths(crawl.sites.province.requests_since(before))
    assert main(["fetch", "--sources", sources, "--source", "nowhere", "--db", db]) == EXIT_ERROR
    assert "unknown source(s) nowhere" in capsys.readouterr().err


# --- planning (pure) -------------------------------------------------------------------------------


def test_plan_skips_known_pages_retries_failures_and_places_given_urls() -> None:
    from flows.fetch_articles import CrawlState, plan_jobs
    from flows.sources.config import parse_sources
    from flows.sources.discovery import Discovery
    from flows.sources.web import make_link

    config = parse_sources(
        {
            "source": [
                {"name": "a", "start_urls": ["http://a.example/"], "article_url_pattern": "/p/"},
                {"name": "b", "start_urls": ["http://b.example/"], "article_url_pattern": "/p/"},
            ]
        }
    )
    links = [make_link(f"http://a.example/p/{n}.html", "http://a.example/") for n in (1, 2, 3)]
    found = [
        Discovery("a", [link for link in links if link]),
        Discovery("b", [link for link in [make_link("/p/9.html", "http://b.example/")] if link]),
    ]
    state = CrawlState(known=frozenset({"http://a.example/p/1.html"}), failed={"a": ("http://a.example/p/7.html",)})
    given = ["http://b.example/p/10.html?utm_source=x", "http://elsewhere.example/p/1.html"]
    jobs, rejects = plan_jobs(config.sources, found, state, urls=given)
    planned = [(job.source.name, job.link.canonical) for job in jobs]
    assert planned == [  # hosts alternate, so each batch keeps both hosts' threads busy
        ("a", "http://a.example/p/2.html"),
        ("b", "http://b.example/p/9.html"),
        ("a", "http://a.example/p/3.html"),
        ("b", "http://b.example/p/10.html"),
        ("a", "http://a.example/p/7.html"),
    ]
    assert [r.uri for r in rejects] == ["http://elsewhere.example/p/1.html"]
    again, _ = plan_jobs(config.sources, found, state, refetch=True)
    assert ("a", "http://a.example/p/1.html") in [(j.source.name, j.link.canonical) for j in again]
