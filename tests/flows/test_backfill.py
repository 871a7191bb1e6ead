"""The `backfill` flow: parameters checked before anything runs, then only the date range loaded from the fixture site.

The province's Hanweb column lists two articles a page, newest first: index (03-05, 03-03), index_1 (03-01,
02-26), index_2 (02-20, 02-18), index_3 (02-10), index_4 (02-01). The daily fetch stops at 3 pages; a backfill
walks further back, as far as its range needs.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import duckdb
import pytest

from flows.backfill import BackfillError, backfill, plan_backfill
from flows.cli import EXIT_ERROR, EXIT_OK, EXIT_REJECTS, main
from flows.sources.web import canonical_url
from tests.conftest import PROJECT_ROOT
from tests.fixtures.site import Sites
from tests.fixtures.site.build import BEYOND_LIMIT, CHARITY, ELDERLY_CARE, MARRIAGE, SUBSIDY_TABLE

SOURCES = str(PROJECT_ROOT / "sources.toml")
COLUMN = "/col/col55087/"
FEBRUARY_FIRST_HALF = {"date_from": "2024-02-01", "date_to": "2024-02-15"}


def configured_names() -> list[str]:
    with open(SOURCES, "rb") as f:
        return [entry["name"] for entry in tomllib.load(f)["source"]]


def titles(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [t for (t,) in con.execute("SELECT title FROM documents ORDER BY published_date").fetchall()]
    finally:
        con.close()


def article_paths(sites: Sites, mark: int) -> list[str]:
    return [r.path for r in sites.province.requests_since(mark) if "/art/" in r.path or "/t20" in r.path]


def list_paths(sites: Sites, mark: int) -> list[str]:
    return [r.path for r in sites.province.requests_since(mark) if r.path.startswith(COLUMN)]


# --- parameters: checked before anything is fetched or written --------------------------------------


def test_a_valid_plan_names_sources_range_and_urls(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(
        "# pages the lists no longer show\n\nhttps://www.mca.gov.cn/n152/a.html\n https://www.mca.gov.cn/n152/a.html \n",
        encoding="utf-8",
    )
    name = configured_names()[0]
    plan = plan_backfill(name, "2024-01-01", "2024-03-31", str(urls), max_pages=7, sources_file=SOURCES)
    assert [s.name for s in plan.sources] == [name]
    assert (str(plan.since), str(plan.until), plan.max_pages) == ("2024-01-01", "2024-03-31", 7)
    assert plan.urls == ("https://www.mca.gov.cn/n152/a.html",)
    everything = plan_backfill("all", None, None, sources_file=SOURCES)
    assert [s.name for s in everything.sources] == configured_names()
    assert (everything.since, everything.until, everything.urls) == (None, None, ())


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"source": "nowhere"}, "unknown source(s) nowhere; configured: "),
        ({"date_from": "2024-03-01", "date_to": "2024-02-01"}, "date_from 2024-03-01 is after date_to 2024-02-01"),
        ({"date_from": "2024-02-30"}, "date_from must be a date like 2024-03-05, got '2024-02-30'"),
        ({"date_to": "last week"}, "date_to must be a date like 2024-03-05, got 'last week'"),
        ({"url_file": "missing-urls.txt"}, "cannot read URL file missing-urls.txt: No such file or directory"),
        ({"max_pages": 0}, "max_pages must be 1 or more, got 0"),
        ({"sources_file": "missing.toml"}, "cannot read sources file missing.toml"),
    ],
)
def test_invalid_parameters_fail_with_a_message(parameters: dict, message: str, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    options = {"source": "all", "sources_file": SOURCES, **parameters}
    with pytest.raises(BackfillError) as raised:
        plan_backfill(
            options["source"],
            options.get("date_from"),
            options.get("date_to"),
            options.get("url_file"),
            max_pages=options.get("max_pages", 50),
            sources_file=options["sources_file"],
        )
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_a_url_file_must_hold_urls(tmp_path: Path) -> None:
    bad = tmp_path / "urls.txt"
    bad.write_text("https://www.mca.gov.cn/n152/a.html\nwww.mca.gov.cn/n152/b.html\n", encoding="utf-8")
    with pytest.raises(BackfillError, match=r"urls.txt:2: not an http\(s\) URL: 'www.mca.gov.cn/n152/b.html'"):
        plan_backfill(url_file=str(bad), sources_file=SOURCES)
    bad.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(BackfillError, match="lists no URLs"):
        plan_backfill(url_file=str(bad), sources_file=SOURCES)


def test_the_command_rejects_bad_parameters_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "warehouse.duckdb"
    common = ["backfill", "--sources", SOURCES, "--db", str(db)]
    assert main([*common, "--source", "nowhere"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: unknown source(s) nowhere") and err.count("\n") == 1
    assert main([*common, "--from", "2024-03-01", "--to", "2024-02-01"]) == EXIT_ERROR
    assert capsys.readouterr().err == "error: date_from 2024-03-01 is after date_to 2024-02-01\n"
    assert main([*common, "--urls", str(tmp_path / "none.txt")]) == EXIT_ERROR
    assert "cannot read URL file" in capsys.readouterr().err
    assert not db.exists(), "nothing was written"


def test_the_flow_fails_at_once_on_bad_parameters(prefect_harness: None, tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    with pytest.raises(BackfillError, match="date_from 2024-03-01 is after date_to 2024-02-01"):
        backfill(date_from="2024-03-01", date_to="2024-02-01", db=str(db), sources_file=SOURCES)
    assert not db.exists()


# --- against the fixture site ----------------------------------------------------------------------


def test_a_backfill_loads_only_its_date_range_and_reruns_harmlessly(
    prefect_harness: None, module_sites: Sites, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "warehouse.duckdb"
    sources = str(module_sites.sources_file)
    mark = module_sites.province.mark()
    args = ["backfill", "--sources", sources, "--source", "province", "--db", str(db)]
    code = main([*args, "--from", FEBRUARY_FIRST_HALF["date_from"], "--to", FEBRUARY_FIRST_HALF["date_to"]])
    assert code == EXIT_OK
    assert "2 new, 0 updated" in capsys.readouterr().out
    assert titles(db) == [BEYOND_LIMIT.title, CHARITY.title]
    # Past the daily fetch's 3 pages (max_list_pages) to the oldest page; only the range's articles fetched.
    assert list_paths(module_sites, mark) == [COLUMN, *(f"{COLUMN}index_{n}.html" for n in range(1, 5))]
    assert sorted(article_paths(module_sites, mark)) == sorted([CHARITY.hanweb_path(), BEYOND_LIMIT.hanweb_path()])
    assert not [r for r in module_sites.city.requests_since(0) if r.path.startswith("/zwgk/")], "city not asked"

    mark = module_sites.province.mark()
    again = backfill(source="province", db=str(db), sources_file=sources, **FEBRUARY_FIRST_HALF)
    assert (again.articles_new, again.articles_updated) == (0, 0)
    assert article_paths(module_sites, mark) == [], "known pages are not downloaded again"
    relisted = [r for r in module_sites.province.requests_since(mark) if r.path.startswith(COLUMN)]
    assert relisted and all(r.status == 200 for r in relisted), "lists are read in full, not conditionally"
    assert titles(db) == [BEYOND_LIMIT.title, CHARITY.title]
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("SELECT flow, articles_new FROM runs ORDER BY started_at").fetchall()
    finally:
        con.close()
    assert runs == [("backfill", 2), ("backfill", 0)]


def test_the_walk_stops_at_the_first_page_older_than_the_range(
    prefect_harness: None, module_sites: Sites, tmp_path: Path
) -> None:
    db = tmp_path / "warehouse.duckdb"
    mark = module_sites.province.mark()
    summary = backfill(
        source="province",
        date_from="2024-02-19",
        date_to="2024-02-25",
        db=str(db),
        sources_file=str(module_sites.sources_file),
    )
    assert summary.articles_new == 1 and titles(db) == [MARRIAGE.title]
    # index_3 (02-10) is older than the range: index_4 is never asked for.
    assert list_paths(module_sites, mark) == [COLUMN, *(f"{COLUMN}index_{n}.html" for n in range(1, 4))]
    assert article_paths(module_sites, mark) == [MARRIAGE.hanweb_path()]
    assert SUBSIDY_TABLE.hanweb_path() not in article_paths(module_sites, mark)  # 02-18: outside the range


def test_the_page_limit_bounds_the_walk_and_given_urls_are_fetched(
    prefect_harness: None, module_sites: Sites, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "warehouse.duckdb"
    urls = tmp_path / "urls.txt"
    given = module_sites.province.url(ELDERLY_CARE.hanweb_path())
    uncovered = "http://127.0.0.9/art/2024/3/1/art_1_1.html"  # no configured source: rejected, never requested
    urls.write_text(f"{given}\n{uncovered}\n", encoding="utf-8")
    mark = module_sites.province.mark()
    code = main(
        [
            "backfill",
            "--sources",
            str(module_sites.sources_file),
            "--source",
            "province",
            "--from",
            "2024-02-01",
            "--to",
            "2024-02-15",
            "--max-pages",
            "2",
            "--urls",
            str(urls),
            "--db",
            str(db),
        ]
    )
    out = capsys.readouterr().out
    assert code == EXIT_REJECTS and uncovered in out and "no configured source covers" in out
    # Two list pages reach 02-26: nothing of February's first weeks, but the given page (03-05) is loaded.
    assert list_paths(module_sites, mark) == [COLUMN, f"{COLUMN}index_1.html"]
    assert titles(db) == [ELDERLY_CARE.title]
    con = duckdb.connect(str(db), read_only=True)
    try:
        (uri,) = con.execute("SELECT uri FROM documents WHERE title = ?", [ELDERLY_CARE.title]).fetchone()
    finally:
        con.close()
    assert uri == canonical_url(given)
