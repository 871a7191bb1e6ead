"""Discovery by CMS family, cookie walls, challenge pages and robots.txt, against the family fixture hosts.

No Prefect here: the client and discovery are plain functions. The hosts are built like the real sites
(tests/fixtures/site/families.py); each test asks what a crawler operator would ask.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from flows.sources.challenge import is_challenge
from flows.sources.config import FetchSettings, Source, load_sources
from flows.sources.discovery import Discovery, discover_articles
from flows.sources.families import family_of
from flows.sources.families.base import ListPage, ListRequest
from flows.sources.web import WebClient, parse_robots
from tests.fixtures.site import FixtureSite, Page, serve
from tests.fixtures.site.families import (
    CHALLENGE_ITEMS,
    CHALLENGES,
    COOKIE_RELOAD,
    GKMLPT_ITEMS,
    GKMLPT_PAGES,
    HANWEB_ITEMS,
    JIASULE,
    RUISHU,
    TRS_ITEMS,
    TRS_PAGES,
    TRS_SECTION,
    WALL_COOKIE,
    WALL_ITEMS,
    WZWS,
    FamilySites,
    family_sites,
)

FAST = FetchSettings(timeout=3, max_retries=1, backoff_seconds=0.1, max_retry_after=2)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FamilySites]:
    with family_sites(tmp_path_factory.mktemp("families")) as served:
        yield served


def source(hosts: FamilySites, name: str) -> Source:
    return load_sources(hosts.sources_file).select([f"fixture-{name}"])[0]


def discover(hosts: FamilySites, name: str, **options: object) -> tuple[Discovery, list[str]]:
    """A discovery of one fixture source with a fresh client, and the paths it requested."""
    site = hosts[name]
    mark = site.mark()
    chosen = source(hosts, name)
    found = discover_articles(WebClient.for_sources(FAST, [chosen]), chosen, **options)  # type: ignore[arg-type]
    return found, [r.path for r in site.requests_since(mark)]


def test_a_hanweb_column_is_paged_through_dataproxy_posts_to_its_last_record(hosts: FamilySites) -> None:
    found, _ = discover(hosts, "hanweb")
    urls = [link.url for link in found.articles]
    assert urls == [hosts["hanweb"].url(item.path) for item in HANWEB_ITEMS]  # all 40, newest first
    assert hosts["hanweb"].url(HANWEB_ITEMS[34].path) in urls  # the 35th: beyond the datastore's 15
    assert found.articles[34].date == HANWEB_ITEMS[34].published
    posts = [r for r in hosts["hanweb"].log if r.method == "POST"]
    windows = [parse_qs(urlsplit(r.path).query) for r in posts]
    assert [(w["startrecord"], w["endrecord"], w["perpage"]) for w in windows][-2:] == [
        (["16"], ["30"], ["5"]),
        (["31"], ["40"], ["5"]),
    ]
    form = parse_qs(posts[-1].body.decode())
    assert (form["columnid"], form["unitid"], form["webid"]) == (["1229"], ["5831"], ["73"])
    assert set(found.families.values()) == {"hanweb"}


def test_max_list_pages_bounds_the_dataproxy_posts(hosts: FamilySites) -> None:
    found, requested = discover(hosts, "hanweb", max_pages=2)
    assert len(found.articles) == 30  # the datastore's 15 and one POST window of 15
    assert sum(1 for p in requested if "dataproxy" in p) == 1


def test_a_trs_column_is_read_to_its_last_script_pager_page(hosts: FamilySites) -> None:
    found, requested = discover(hosts, "trs")
    assert f"{TRS_SECTION}index_{TRS_PAGES - 1}.html" in requested
    assert [link.url for link in found.articles] == [hosts["trs"].url(item.path) for item in TRS_ITEMS]
    assert set(found.families.values()) == {"trs"}


def test_gkmlpt_articles_come_from_every_page_of_its_json_api(hosts: FamilySites) -> None:
    found, requested = discover(hosts, "gkmlpt")
    api = [p for p in requested if p.startswith("/gkmlpt/api/")]
    assert api == [f"/gkmlpt/api/all/2745?page={n}&sid=755013" for n in range(1, GKMLPT_PAGES + 1)]
    assert [link.url for link in found.articles] == [hosts["gkmlpt"].url(item.path) for item in GKMLPT_ITEMS]
    assert found.articles[0].date == GKMLPT_ITEMS[0].published  # from first_publish_time, in China's time zone
    assert set(found.families.values()) == {"gkmlpt"}


def test_without_a_category_in_the_start_url_gkmlpt_reads_the_top_categories(hosts: FamilySites) -> None:
    site = hosts["gkmlpt"]
    page = ListPage(ListRequest.get(site.url("/gkmlpt/index")), site.pages["/gkmlpt/index"].body)
    family = family_of(page)
    assert family.NAME == "gkmlpt" and family.article_links(page) == []  # the index lists nothing itself
    asked = [urlsplit(r.url).path for r in family.list_requests(page)]
    assert asked == ["/gkmlpt/api/all/2745", "/gkmlpt/api/all/2750"]


def test_a_cookie_wall_is_passed_with_the_hosts_cookie_jar(hosts: FamilySites) -> None:
    found, _ = discover(hosts, "wall")
    assert [link.url for link in found.articles] == [hosts["wall"].url(item.path) for item in WALL_ITEMS]
    site = hosts["wall"]
    client = WebClient(FAST, default_rate=100)
    mark = site.mark()
    result = client.fetch(site.url(WALL_ITEMS[0].path), allowed=lambda _: True)
    assert result.is_ok and WALL_ITEMS[0].title.encode() in result.content
    log = site.requests_since(mark)
    assert [(r.path, r.status) for r in log] == [
        ("/robots.txt", 302),
        ("/robots.txt", 200),
        (WALL_ITEMS[0].path, 200),  # the cookie set on robots.txt opens every page of the host
    ]
    assert WALL_COOKIE in log[-1].headers.get("cookie", "")


@pytest.mark.parametrize("index", sorted(CHALLENGES))
def test_challenge_pages_are_blocked_with_a_readable_error(hosts: FamilySites, index: int) -> None:
    site = hosts["challenge"]
    status, _ = CHALLENGES[index]
    result = WebClient(FAST, default_rate=100).fetch(site.url(CHALLENGE_ITEMS[index].path), allowed=lambda _: True)
    assert (result.outcome, result.status, result.content) == ("blocked", status, b"")
    assert result.error == f"blocked by an anti-bot challenge (HTTP {status})"
    assert result.retries == 0  # a challenge is not solved by asking again within the run


def test_an_ordinary_page_is_not_a_challenge(hosts: FamilySites) -> None:
    site = hosts["challenge"]
    ordinary = CHALLENGE_ITEMS[len(CHALLENGES)]
    result = WebClient(FAST, default_rate=100).fetch(site.url(ordinary.path), allowed=lambda _: True)
    assert result.is_ok
    for path in (item.path for item in HANWEB_ITEMS[:3]):
        assert not is_challenge(hosts["hanweb"].pages[path].body)


def test_challenge_markers_decide_not_the_status() -> None:
    assert is_challenge(RUISHU.encode(), 412) and is_challenge(RUISHU.encode(), 200)
    assert is_challenge(JIASULE.encode(), 521) and is_challenge(WZWS.encode(), 200)
    assert is_challenge(COOKIE_RELOAD.encode(), 200)
    assert not is_challenge(b"<html><body><h1>412 Precondition Failed</h1></body></html>", 412)
    # A real page that carries the WAF's script after the cookie was set is still the page.
    article = "<p>" + "全省共有养老机构2468家，养老床位43.6万张。" * 30 + "</p>"
    page = f"<html><head><script>$_ts=window['$_ts'];</script></head><body>{article}</body></html>"
    assert not is_challenge(page.encode(), 200)
    # An analytics snippet that sets a cookie on an article is not a wall either.
    analytics = f"<html><body>{article}<script>document.cookie='v=1';location.href='#top'</script></body></html>"
    assert not is_challenge(analytics.encode(), 200)


# --- robots.txt (Protego) --------------------------------------------------------------------------


def test_robots_wildcards_and_end_anchors() -> None:
    rules = parse_robots(
        "User-agent: *\nDisallow: /*.pdf$\nDisallow: /search*\nAllow: /col/*/art/\nDisallow: /col/\n",
        "civic-ingest/0.1 (x)",
    )
    ua = "civic-ingest/0.1 (x)"
    assert not rules.allows("http://h/picture/0/P0201.pdf", ua)
    assert rules.allows("http://h/picture/0/P0201.pdf.html", ua)  # `$`: only URLs ending in .pdf
    assert not rules.allows("http://h/search.jsp?q=民政", ua)
    assert rules.allows("http://h/col/col1229/art/2024/art_1.html", ua)  # the longer Allow wins
    assert not rules.allows("http://h/col/col1229/index.html", ua)


def test_crawl_delay_paces_the_host(tmp_path: Path) -> None:
    with serve(FixtureSite("127.0.0.9")) as site:
        site.pages["/robots.txt"] = Page(b"User-agent: civic-ingest\nCrawl-delay: 0.25\nDisallow: /x/\n", "text/plain")
        for n in range(4):
            site.pages[f"/a/{n}.html"] = Page(b"<html><body>" + "民政".encode() * 50 + b"</body></html>")
        client = WebClient(FAST, default_rate=100)
        started = time.monotonic()
        results = [client.fetch(site.url(f"/a/{n}.html"), allowed=lambda _: True) for n in range(4)]
        assert all(r.is_ok for r in results)
        assert time.monotonic() - started >= 3 * 0.25 * 0.95  # robots' 4/s, not the configured 100/s
        blocked = client.fetch(site.url("/x/1.html"), allowed=lambda _: True)
        assert blocked.outcome == "robots_blocked"


# --- families on page variants (pure) --------------------------------------------------------------


def page_of(url: str, html: str, *, family: str | None = None, form: dict[str, str] | None = None) -> ListPage:
    request = ListRequest.post(url, form, family=family or "hanweb") if form else ListRequest.get(url, family=family)
    return ListPage(request, html.encode())


def test_a_trs_pager_called_with_variables_is_read() -> None:
    html = (
        '<html><body><ul><li><a href="./202403/t20240305_1.shtml">一</a></li></ul><script>var countPage = 3;'
        'var currentPage = 0;createPageHTML(countPage, currentPage, "index", "shtml");</script></body></html>'
    )
    page = page_of("http://h/tzgg/index.shtml", html)
    family = family_of(page)
    assert family.NAME == "trs"
    assert [r.url for r in family.list_requests(page)] == ["http://h/tzgg/index_1.shtml", "http://h/tzgg/index_2.shtml"]
    assert [link.url for link in family.article_links(page)] == ["http://h/tzgg/202403/t20240305_1.shtml"]


def test_a_hanweb_answer_with_escaped_records_asks_for_the_next_window_until_the_total() -> None:
    record = "<record>&lt;li&gt;&lt;a href='/art/2024/3/5/art_9_{n}.html'&gt;标题&lt;/a&gt;&lt;/li&gt;</record>"
    answer = "<datastore><recordset>" + "".join(record.format(n=n) for n in range(3)) + "</recordset></datastore>"
    url = "http://h/module/web/jpage/dataproxy.jsp?startrecord=4&endrecord=6&perpage=3"
    page = page_of(url, answer, form={"columnid": "9", "unitid": "1"})
    family = family_of(page)
    assert family.NAME == "hanweb" and len(family.article_links(page)) == 3
    (following,) = family.list_requests(page)
    assert following.url.endswith("startrecord=7&endrecord=9&perpage=3") and dict(following.form or ()) == {
        "columnid": "9",
        "unitid": "1",
    }
    with_total = answer.replace("</recordset>", "</recordset><totalrecord>6</totalrecord>")
    assert family.list_requests(page_of(url, with_total, form={"columnid": "9"})) == []


def test_a_plain_list_keeps_only_article_shaped_links_and_follows_next_page() -> None:
    html = """<html><body><ul>
    <li><a href="/n152/n166/c1662004999979995221/content.html">通知</a> 2024-03-05</li>
    <li><a href="/gkmlpt/content/3/3994/post_3994123.html">公开</a></li>
    <li><a href="/about/contact.html">联系我们</a></li><li><a href="/picture/a.pdf">附件</a></li></ul>
    <div class="page"><a href="list_2.html">下一页</a> <a href="list_9.html">尾页</a></div></body></html>"""
    page = page_of("http://h/list/list_1.html", html)
    family = family_of(page)
    assert family.NAME == "links"
    assert [link.url for link in family.article_links(page)] == [
        "http://h/n152/n166/c1662004999979995221/content.html",
        "http://h/gkmlpt/content/3/3994/post_3994123.html",
    ]
    assert [r.url for r in family.list_requests(page)] == ["http://h/list/list_2.html"]


def test_a_sitemap_index_lists_its_sitemaps_as_further_pages() -> None:
    xml = '<?xml version="1.0"?><sitemapindex><sitemap><loc>http://h/sitemap-1.xml</loc></sitemap></sitemapindex>'
    page = page_of("http://h/sitemap.xml", xml)
    family = family_of(page)
    assert family.NAME == "feeds" and family.article_links(page) == []
    assert [r.url for r in family.list_requests(page)] == ["http://h/sitemap-1.xml"]


def test_a_challenge_instead_of_a_list_page_is_reported_not_read(
    hosts: FamilySites, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import EXIT_ERROR, main
    from flows.sources.config import parse_sources

    site = hosts["challenge"]
    site.pages["/zwgk/index.html"] = Page(WZWS.encode(), "text/html; charset=utf-8")
    entry = {"name": "walled", "start_urls": [site.url("/zwgk/index.html")]}
    walled = parse_sources({"source": [entry]}).sources[0]
    found = discover_articles(WebClient(FAST, default_rate=100), walled)
    assert [(r.outcome, r.error) for r in found.lists] == [("blocked", "blocked by an anti-bot challenge (HTTP 200)")]
    assert found.articles == [] and found.families == {}
    # A person inspecting a challenged article is told so, not shown an empty article.
    assert main(["inspect", site.url(CHALLENGE_ITEMS[1].path)]) == EXIT_ERROR
    assert "blocked by an anti-bot challenge (HTTP 521)" in capsys.readouterr().err


def test_newer_trs_pagers_and_hanweb_columns_without_a_unitid_parameter() -> None:
    trs = '<html><body><div id="page"></div><script>createPageHTML("page", 4, 1, "index", "html", 80);</script></body></html>'
    page = page_of("http://h/xwzx/index_1.html", trs)
    assert family_of(page).NAME == "trs" and len(family_of(page).list_requests(page)) == 3
    hanweb = (
        '<html><body><div id="238393"><script type="text/xml"><datastore><recordset>'
        "<record><![CDATA[<li><a href='/art/2024/3/5/art_55087_1.html'>一</a></li>]]></record>"
        '</recordset></datastore></script></div><script src="/module/web/jpage/jpage.js"></script>'
        "<script>var param = {columnid: 55087, webid: 41, path: '/'};</script></body></html>"
    )
    page = page_of("http://h/col/col55087/index.html", hanweb)
    (post,) = family_of(page).list_requests(page)
    assert dict(post.form or ())["unitid"] == "238393" and "startrecord=2&endrecord=46&perpage=15" in post.url
