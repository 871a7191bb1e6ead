"""flows/sources/web.py and config.py: URLs, discovery, robots, pacing and failures, against real loopback servers.

No Prefect here: the client and discovery are plain functions, tested one behaviour at a time.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from flows.sources.config import FetchSettings, Source, SourceConfigError, load_sources, parse_sources
from flows.sources.discovery import discover_articles
from flows.sources.families import family_of
from flows.sources.families.base import ListPage, ListRequest
from flows.sources.web import (
    Link,
    WebClient,
    canonical_url,
    fetch_one,
    page_kind,
    parse_robots,
    retry_after_seconds,
    url_date,
)
from tests.fixtures.site import FixtureSite, Page, Sites, serve
from tests.fixtures.site.build import (
    ANNUAL_CHECK,
    ELDERLY_CARE,
    HANWEB_COLUMN,
    MINIMUM_LIVING,
    PLACE_NAMES,
    TRS_COLUMN,
    TRS_SECTION,
    hanweb_column,
    trs_list,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FAST = FetchSettings(timeout=2, max_retries=2, backoff_seconds=0.1, max_retry_after=3)
HTML = b"<html><body><p>" + "民政".encode() * 40 + b"</p></body></html>"


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    """An empty site on 127.0.0.1 with a permissive robots.txt; tests add their pages."""
    with serve(FixtureSite("127.0.0.1")) as served:
        served.pages["/robots.txt"] = Page(b"User-agent: *\nDisallow:\n", "text/plain")
        yield served


def source_for(*urls: str, pattern: str = r"/a/\d+\.html", **extra: object) -> Source:
    entry = {"name": "test", "start_urls": list(urls), "article_url_pattern": pattern, **extra}
    return parse_sources({"source": [entry]}).sources[0]


def client_for(rate: float = 50.0, settings: FetchSettings = FAST) -> WebClient:
    return WebClient(settings, default_rate=rate)


# --- canonical URLs and dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("http://Example.GOV.cn:80/col/col1/index.html", "http://example.gov.cn/col/col1/"),
        ("http://example.gov.cn/col/col1/", "http://example.gov.cn/col/col1/"),
        (
            "https://mzt.example.gov.cn/art/2024/3/5/art_1_2.html?utm_source=wechat&utm_medium=share#top",
            "https://mzt.example.gov.cn/art/2024/3/5/art_1_2.html",
        ),
        ("https://example.gov.cn/a/./b/../c/content.html?spm=1.2&id=3", "https://example.gov.cn/a/c/content.html?id=3"),
        ("http://example.gov.cn/list/index_2.html?b=2&a=1", "http://example.gov.cn/list/index_2.html?a=1&b=2"),
    ],
)
def test_canonical_urls(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_dates_from_cms_urls() -> None:
    assert url_date("http://mzt.jiangsu.gov.cn/art/2024/3/5/art_55087_1.html") == date(2024, 3, 5)
    assert url_date("http://mzt.jl.gov.cn/xwzx/202403/t20240308_2001.html") == date(2024, 3, 8)
    assert url_date("http://www.people.com.cn/n1/2024/0305/c1001-1.html") == date(2024, 3, 5)
    assert url_date("https://www.mca.gov.cn/n152/n166/c1662004999979995221/content.html") is None


# --- discovery from list pages, feeds and sitemaps -------------------------------------------------


def extract_links(content: bytes, *, base_url: str, http_charset: str | None = None) -> list[Link]:
    """What the recognized family of a page lists: its article links, then its further list pages."""
    page = ListPage(ListRequest.get(base_url), content, charset=http_charset)
    family = family_of(page)
    pages = [Link(r.url, r.canonical, is_list=True) for r in family.list_requests(page) if r.form is None]
    return family.article_links(page) + pages


def test_links_of_a_hanweb_column_come_from_its_datastore_with_their_dates() -> None:
    page = hanweb_column(HANWEB_COLUMN[:2], 0, 3, '<a href="/col/col1/index.html">其他</a>')
    links = extract_links(page, base_url="http://h/col/col55087/index.html", http_charset="gb2312")
    by_url = {link.url: link for link in links}
    first = by_url[f"http://h{ELDERLY_CARE.hanweb_path()}"]
    assert first.date == ELDERLY_CARE.published
    assert list(by_url) == [f"http://h{s.hanweb_path()}" for s in HANWEB_COLUMN[:2]]  # records only: no sidebar


def test_a_trs_script_pager_yields_its_pages() -> None:
    page = trs_list(TRS_COLUMN[0], TRS_SECTION, 0, 3, "省民政厅")
    links = extract_links(page, base_url=f"http://h{TRS_SECTION}index.html")
    pages = [link.url for link in links if link.is_list]
    assert pages == [f"http://h{TRS_SECTION}index_1.html", f"http://h{TRS_SECTION}index_2.html"]
    assert f"http://h{PLACE_NAMES.trs_path(TRS_SECTION)}" in [link.url for link in links]


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>民政要闻</title>
<item><title>一</title><link>http://h/a/1.html</link><pubDate>Tue, 05 Mar 2024 09:00:00 +0800</pubDate></item>
<item><title>二</title><link>http://h/a/2.html?utm_source=rss</link><pubDate>Thu, 01 Feb 2024 09:00:00 +0800</pubDate></item>
</channel></rss>"""
ATOM = """<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><link rel="self" href="http://h/atom.xml"/>
<entry><title>一</title><link href="/a/3.html"/><updated>2024-03-06T08:00:00Z</updated></entry></feed>"""
SITEMAP_INDEX = """<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>http://h/sitemap-2024.xml</loc></sitemap></sitemapindex>"""


def test_feeds_and_sitemaps_are_recognised_by_their_content() -> None:
    assert [page_kind(x.encode()) for x in (RSS, ATOM, SITEMAP_INDEX)] == ["rss", "atom", "sitemapindex"]
    rss = extract_links(RSS.encode(), base_url="http://h/feed")
    assert [(link.canonical, link.date) for link in rss] == [
        ("http://h/a/1.html", date(2024, 3, 5)),
        ("http://h/a/2.html", date(2024, 2, 1)),
    ]
    atom = extract_links(ATOM.encode(), base_url="http://h/atom.xml")
    assert [(link.url, link.date) for link in atom] == [("http://h/a/3.html", date(2024, 3, 6))]
    (child,) = extract_links(SITEMAP_INDEX.encode(), base_url="http://h/sitemap.xml")
    assert child.is_list and child.url == "http://h/sitemap-2024.xml"


def test_a_feed_served_as_html_is_read_as_a_feed_and_dates_bound_a_backfill(site: FixtureSite) -> None:
    feed = RSS.replace("http://h", site.url("").rstrip("/"))
    site.pages["/feed"] = Page(feed.encode(), "text/html")  # wrong type: the content decides
    found = discover_articles(client_for(), source_for(site.url("/feed")), since=date(2024, 3, 1))
    assert [link.url for link in found.articles] == [site.url("/a/1.html")]


def test_backfill_pagination_stops_at_a_page_older_than_the_range(sites: Sites) -> None:
    source = load_sources(sites.sources_file).select(["province"])[0]
    found = discover_articles(WebClient.for_sources(FAST, [source]), source, max_pages=10, since=date(2024, 3, 2))
    requested = [r.path for r in sites.province.log]
    assert "/col/col55087/index_1.html" in requested  # its entries are older than the range …
    assert "/col/col55087/index_2.html" not in requested  # … so the next page is not asked for
    # Robots rules are applied when a page is fetched, so the disallowed link is still listed here.
    hanweb = [link.url for link in found.articles if "/art/" in link.url and "/private/" not in link.url]
    assert hanweb == [sites.province.url(p) for p in (ELDERLY_CARE.hanweb_path(), ANNUAL_CHECK.hanweb_path())]


# --- robots.txt ------------------------------------------------------------------------------------


def test_robots_rules_with_a_fractional_crawl_delay() -> None:
    rules = parse_robots("User-agent: *\nCrawl-delay: 0.5\nDisallow: /private/\n", "civic-ingest/0.1 (x)")
    assert rules.crawl_delay == 0.5
    assert not rules.allows("http://h/private/a.html", "civic-ingest/0.1 (x)")
    assert rules.allows("http://h/public/a.html", "civic-ingest/0.1 (x)")
    ours = parse_robots("User-agent: civic-ingest\nDisallow: /\n\nUser-agent: *\nDisallow:\n", "civic-ingest/0.1")
    assert not ours.allows("http://h/a.html", "civic-ingest/0.1")


def test_an_unreachable_robots_txt_blocks_the_host(site: FixtureSite) -> None:
    site.break_forever("/robots.txt", 500)
    site.pages["/a/1.html"] = Page(HTML)
    client = client_for()
    result = client.fetch(site.url("/a/1.html"), allowed=lambda _: True)
    assert (result.outcome, result.status) == ("5xx", 500)  # a failure, reported and retried next run
    assert "robots.txt unreachable: HTTP 500" in (result.error or "")
    client.fetch(site.url("/a/2.html"), allowed=lambda _: True)
    assert [r.path for r in site.log] == ["/robots.txt"] * 3  # asked once per run (with its retries), no page


# --- politeness and failures -----------------------------------------------------------------------


def test_a_rate_limit_of_5_per_second_is_honoured(site: FixtureSite) -> None:
    for n in range(8):
        site.pages[f"/a/{n}.html"] = Page(HTML)
    client = client_for()
    client.set_rate(site.url("/"), 5.0)
    started = time.monotonic()
    results = [client.fetch(site.url(f"/a/{n}.html"), allowed=lambda _: True) for n in range(8)]
    assert all(r.is_ok for r in results)
    times = [r.at for r in site.log]  # robots.txt + 8 pages, all through the same bucket
    assert len(times) == 9
    assert times[-1] - times[0] >= 8 * 0.2 * 0.95
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.2 * 0.7
    assert time.monotonic() - started < 8 * 0.2 + 1.5  # and not much slower than asked


def test_retry_after_is_honoured_and_a_broken_page_gives_up(site: FixtureSite) -> None:
    site.pages["/a/1.html"] = Page(HTML)
    site.fail_first("/a/1.html", 429, headers={"Retry-After": "1"})
    site.break_forever("/a/2.html", 502)
    client = client_for()
    ok = client.fetch(site.url("/a/1.html"), allowed=lambda _: True)
    assert (ok.outcome, ok.retries) == ("200", 1)
    asked = [r.at for r in site.log if r.path == "/a/1.html"]
    assert asked[1] - asked[0] >= 0.95
    broken = client.fetch(site.url("/a/2.html"), allowed=lambda _: True)
    assert (broken.outcome, broken.status, broken.retries) == ("5xx", 502, 2)
    assert "HTTP 502" in (broken.error or "")
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("120") == 120.0


def test_a_retry_after_beyond_the_limit_ends_the_attempts_at_once(site: FixtureSite) -> None:
    site.fail_first("/a/1.html", 503, headers={"Retry-After": "3600"})
    result = client_for().fetch(site.url("/a/1.html"), allowed=lambda _: True)
    assert (result.outcome, result.retries) == ("5xx", 0)


def test_a_timeout_is_retried_then_reported(site: FixtureSite) -> None:
    site.pages["/slow.html"] = Page(HTML, delay=1.0)
    settings = FetchSettings(timeout=0.3, max_retries=1, backoff_seconds=0.1)
    result = client_for(settings=settings).fetch(site.url("/slow.html"), allowed=lambda _: True)
    assert (result.outcome, result.status, result.retries) == ("network_error", None, 1)
    assert "timeout" in (result.error or "")


def test_redirects_stay_inside_the_sources_domains(sites: Sites) -> None:
    province, city = sites.province, sites.city
    province.pages["/a/old.html"] = Page(b"", status=301, headers=(("Location", "/a/new.html"),))
    province.pages["/a/new.html"] = Page(HTML)
    province.pages["/a/away.html"] = Page(b"", status=302, headers=(("Location", city.url("/a/1.html")),))
    source = source_for(province.url("/"))
    client = client_for()
    moved = client.fetch(province.url("/a/old.html"), allowed=source.allows)
    assert moved.is_ok and moved.final_url == province.url("/a/new.html")
    away = client.fetch(province.url("/a/away.html"), allowed=source.allows)
    assert (away.outcome, away.status) == ("3xx", 302)
    assert "outside the source's domains" in (away.error or "")
    assert city.log == []


def test_too_large_and_non_html_responses_are_not_read(site: FixtureSite) -> None:
    site.pages["/big.html"] = Page(HTML * 2000)
    site.pages["/scan.html"] = Page(b"%PDF-1.4\n" + b"0" * 500_000, "application/pdf")
    site.pages["/file.pdf"] = Page(b"%PDF-1.4\n", "application/pdf")
    client = client_for(settings=FetchSettings(max_bytes=100_000, max_retries=0))
    big = client.fetch(site.url("/big.html"), allowed=lambda _: True)
    assert big.outcome == "too_large" and big.content == b""
    pdf = client.fetch(site.url("/scan.html"), allowed=lambda _: True)
    assert (pdf.outcome, pdf.status, pdf.requested) == ("skipped_non_html", 200, True)
    by_name = client.fetch(site.url("/file.pdf"), allowed=lambda _: True)
    assert (by_name.outcome, by_name.requested) == ("skipped_non_html", False)
    assert "/file.pdf" not in [r.path for r in site.log]


def test_conditional_get_answers_304(site: FixtureSite) -> None:
    site.pages["/list/index.html"] = Page(HTML, validators=True)
    client = client_for()
    first = client.fetch(site.url("/list/index.html"), allowed=lambda _: True)
    assert first.is_ok and first.etag and first.last_modified
    again = client.fetch(site.url("/list/index.html"), allowed=lambda _: True, etag=first.etag)
    since = client.fetch(site.url("/list/index.html"), allowed=lambda _: True, last_modified=first.last_modified)
    assert (again.outcome, since.outcome) == ("304", "304")


PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def test_the_environments_proxy_carries_requests_and_no_proxy_bypasses_it(
    site: FixtureSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crawling from behind an office proxy: HTTP_PROXY is honoured, NO_PROXY hosts go direct (the fixture site
    plays the proxy: a proxied request names the whole URL)."""
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", site.url())
    site.pages["/a/1.html"] = Page(HTML, "text/html")
    proxied = client_for().fetch("http://mzt.proxied.invalid/a/1.html", allowed=lambda _: True)
    assert proxied.outcome == "200"
    assert [r.path for r in site.requests_since(0)] == [
        "http://mzt.proxied.invalid/robots.txt",
        "http://mzt.proxied.invalid/a/1.html",
    ]

    monkeypatch.setenv("NO_PROXY", "direct.invalid")
    mark = site.mark()
    direct = client_for().fetch("http://mzt.direct.invalid/a/1.html", allowed=lambda _: True)
    assert direct.outcome == "network_error" and "DNS" in (direct.error or "")
    assert site.requests_since(mark) == []


# --- one page for a person: fetch_one and `civic-ingest inspect URL` -------------------------------


def test_inspect_a_url(sites: Sites, capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import EXIT_ERROR, EXIT_OK, main

    url = sites.province.url(MINIMUM_LIVING.hanweb_path() + "?utm_source=wechat")
    raw = fetch_one(url)
    assert raw.uri == canonical_url(sites.province.url(MINIMUM_LIVING.hanweb_path()))
    assert raw.http_charset == "gb2312" and raw.is_html
    assert main(["inspect", url]) == EXIT_OK
    out = capsys.readouterr().out
    assert MINIMUM_LIVING.title in out and "2024-03-01" in out and "王镕" in out
    assert main(["inspect", sites.province.url("/art/2024/1/1/art_1_404.html")]) == EXIT_ERROR
    assert "HTTP 404" in capsys.readouterr().err


# --- sources.toml ----------------------------------------------------------------------------------


def test_the_shipped_sources_file_is_valid() -> None:
    from flows.sources.families.links import is_article_url

    config = load_sources(PROJECT_ROOT / "sources.toml")
    names = {s.name for s in config.sources}
    assert {"mca-news", "mca-notices", "mca-stats", "chinanpo", "jiangsu-mzt", "guangdong-mzt", "shenzhen-mzj"} <= names
    bodies = {s.name for s in config.sources if s.region and not s.name.endswith("-stats")}
    assert len(bodies) == 31 + 5 and all(f"{name}-stats" in names for name in bodies)  # news and statistics each
    assert not any(s.verified for s in config.sources)
    mca = config.select(["mca-news"])[0]
    assert mca.content_selector == "#zoom" and mca.allows("https://www.mca.gov.cn/n152/n166/c1/content.html")
    assert mca.article_url_pattern is None  # the family's article links: ccontent pages have a known shape
    assert is_article_url("https://www.mca.gov.cn/n152/n166/c1662004999980001/content.html")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"start_urls": ["http://h/"], "article_url_pattern": "x"}, "name must be"),
        ({"name": "a", "start_urls": [], "article_url_pattern": "x"}, "start_urls must list"),
        ({"name": "a", "start_urls": ["ftp://h/"], "article_url_pattern": "x"}, "not an http(s) URL"),
        ({"name": "a", "start_urls": ["http://h/"], "article_url_pattern": "(unclosed"}, "not a valid regular"),
        (
            {"name": "a", "start_urls": ["http://h/"], "article_url_pattern": "x", "rate_limt": 1},
            "unknown key(s) rate_limt",
        ),
        ({"name": "a", "start_urls": ["http://h/"], "article_url_pattern": "x", "rate_limit": 0}, "rate_limit must be"),
        ({"name": "a", "start_urls": ["http://h/"], "article_url_pattern": "x", "max_list_pages": 0}, "max_list_pages"),
    ],
)
def test_bad_source_entries_are_named_with_their_problem(entry: dict[str, object], message: str) -> None:
    with pytest.raises(SourceConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_sources({"source": [entry]})


def test_a_sources_file_that_is_not_toml_or_names_a_source_twice(tmp_path: Path) -> None:
    bad = tmp_path / "sources.toml"
    bad.write_text("[[source]\nname = ", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="not valid TOML"):
        load_sources(bad)
    entry = {"name": "a", "start_urls": ["http://h/"], "article_url_pattern": "x"}
    with pytest.raises(SourceConfigError, match="unique: a"):
        parse_sources({"source": [entry, entry]})
    with pytest.raises(SourceConfigError, match="cannot read"):
        load_sources(tmp_path / "missing.toml")
    with pytest.raises(SourceConfigError, match="unknown source"):
        parse_sources({"source": [entry]}).select(["b"])
