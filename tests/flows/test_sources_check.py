"""`civic-ingest sources check`: a verdict per source, on the family fixture hosts and on hosts that do not answer."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.cli import EXIT_ERROR, EXIT_OK, main
from tests.fixtures.site.families import FamilySites, family_sites


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FamilySites]:
    with family_sites(tmp_path_factory.mktemp("check")) as served:
        yield served


def verdicts(out: str) -> dict[str, list[str]]:
    """Source name -> its verdict line and the indented lines under it."""
    found: dict[str, list[str]] = {}
    name = ""
    for line in out.splitlines():
        if line and not line.startswith(" ") and not line.startswith(("checking", f"{len(found)} source")):
            verdict, name = line.split()[:2]
            found[name] = [verdict]
        elif line.startswith("    ") and name:
            found[name].append(line.strip())
    return found


def test_each_family_is_named_and_its_articles_found(hosts: FamilySites, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sources", "check", "--sources", str(hosts.sources_file)]) == EXIT_OK
    out = capsys.readouterr().out
    found = verdicts(out)
    for name, family in {"hanweb": "hanweb", "trs": "trs", "gkmlpt": "gkmlpt", "wall": "links"}.items():
        lines = found[f"fixture-{name}"]
        assert lines[0] == "OK", lines
        assert any(f"family {family}" in line for line in lines)
        assert any(line.startswith("article links:") for line in lines)
        assert any(line.startswith("article parsed:") for line in lines)
    assert found["fixture-challenge"][0] == "BLOCKED"
    assert any("anti-bot challenge (HTTP 412)" in line for line in found["fixture-challenge"])
    stats = " ".join(found["fixture-stats"])
    assert ".xlsx" in stats and "table headed 指标 | 单位" in stats
    assert "6 source(s) checked" in out


def test_named_sources_only_and_bad_arguments(hosts: FamilySites, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sources", "check", "fixture-trs", "--sources", str(hosts.sources_file)]) == EXIT_OK
    assert list(verdicts(capsys.readouterr().out)) == ["fixture-trs"]
    assert main(["sources", "check", "nowhere", "--sources", str(hosts.sources_file)]) == EXIT_ERROR
    assert "unknown source(s) nowhere" in capsys.readouterr().err
    assert main(["sources", "check", "--sources", str(hosts.sources_file.with_name("missing.toml"))]) == EXIT_ERROR


def test_hosts_that_do_not_answer_get_an_unreachable_verdict_in_bounded_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A port nobody listens on (refused at once) and one that accepts connections but never answers.
    with socket.socket() as closed:
        closed.bind(("127.0.0.11", 0))
        refused_port = closed.getsockname()[1]
    silent = socket.socket()
    silent.bind(("127.0.0.12", 0))
    silent.listen(8)
    try:
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f"""
[[source]]
name = "refused"
start_urls = ["http://127.0.0.11:{refused_port}/col/col1/index.html"]

[[source]]
name = "silent"
start_urls = ["http://127.0.0.12:{silent.getsockname()[1]}/xwzx/index.html"]
""",
            encoding="utf-8",
        )
        started = time.monotonic()
        assert main(["sources", "check", "--sources", str(sources), "--timeout", "1"]) == EXIT_OK
        took = time.monotonic() - started
    finally:
        silent.close()
    found = verdicts(capsys.readouterr().out)
    assert found["refused"][0] == "UNREACHABLE" and "connection failed" in " ".join(found["refused"])
    assert found["silent"][0] == "UNREACHABLE" and "timeout" in " ".join(found["silent"])
    assert took < 5  # both probed at once, one short timeout each


def test_a_column_whose_links_have_no_known_shape_is_told_to_set_a_pattern(
    hosts: FamilySites, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.fixtures.site import Page

    site = hosts["trs"]
    listing = '<html><body><ul><li><a href="/other/2024/123.html">通知一</a></li><li><a href="/other/2024/124.html">通知二</a></li></ul></body></html>'
    site.pages["/other/index.html"] = Page(listing.encode(), "text/html; charset=utf-8")
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "odd"\nstart_urls = ["{site.url("/other/index.html")}"]\n', encoding="utf-8"
    )
    assert main(["sources", "check", "--sources", str(sources)]) == EXIT_OK
    lines = verdicts(capsys.readouterr().out)["odd"]
    assert lines[0] == "FIX" and any("family links" in line for line in lines)
    assert any("set article_url_pattern" in line and "/other/2024/123.html" in line for line in lines)
