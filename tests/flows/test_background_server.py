"""Commands as a user runs them: the first one starts a Prefect server in the background, later ones reuse it,
a command with nothing to do never imports Prefect, `server status|stop` show and end the server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows import prefect_server
from flows.cli import EXIT_NOT_RUNNING, EXIT_OK, main
from flows.precheck import unchanged_ingest
from tests.conftest import CLI

# --- deciding before Prefect: the unchanged ingest ------------------------------------------------------


@pytest.fixture
def loaded_copy(ingested_seeds, tmp_path: Path) -> Path:
    """A private copy of the warehouse that holds the seeds (loaded from seeds/ with absolute paths)."""
    db, _ = ingested_seeds
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(db, copy)
    return copy


def run_command(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "importtime", str(CLI), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env=env,
    )


def imported_modules(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_an_ingest_with_nothing_to_do_decides_before_prefect(loaded_copy: Path, seeds_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    started = time.monotonic()
    done = run_command("ingest", str(seeds_dir), "--db", str(loaded_copy), env=env)
    took = time.monotonic() - started
    assert done.returncode == EXIT_OK, done.stderr
    assert "0 new, 0 updated, 5 unchanged" in done.stdout
    assert "nothing changed" in done.stdout
    assert "prefect" not in imported_modules(done.stderr), "no Prefect import, no server for a run with nothing to do"
    assert "starting a Prefect server" not in done.stderr
    assert took < 30, f"took {took:.1f}s"  # a bound against hangs; the speed itself is in benchmarks/commands.py

    con = duckdb.connect(str(loaded_copy), read_only=True)
    try:
        last = con.execute(
            "SELECT flow, articles_unchanged, articles_new FROM runs ORDER BY finished_at DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert last == ("ingest-files", 5, 0), "the check is recorded in `runs` like any run"


def test_a_changed_or_unknown_file_needs_the_flow(loaded_copy: Path, seeds_dir: Path, tmp_path: Path) -> None:
    assert unchanged_ingest([str(seeds_dir)], str(loaded_copy)) is not None

    edited = tmp_path / "seeds"
    shutil.copytree(seeds_dir, edited)
    assert unchanged_ingest([str(edited)], str(loaded_copy)) is None, "other paths are other documents"
    assert unchanged_ingest([str(seeds_dir)], str(tmp_path / "new.duckdb")) is None, "no warehouse yet"
    assert not (tmp_path / "new.duckdb").exists(), "the check creates no warehouse"

    con = duckdb.connect(str(loaded_copy))
    try:
        con.execute("UPDATE documents SET content_hash = 'stale' WHERE uri LIKE '%001_%'")
    finally:
        con.close()
    assert unchanged_ingest([str(seeds_dir)], str(loaded_copy)) is None, "one file's bytes changed"


# --- the server's bookkeeping (no server started) -------------------------------------------------------


def test_status_says_not_running_for_a_stale_state_file(tmp_path: Path, monkeypatch, capsys) -> None:
    home = tmp_path / "prefect"
    home.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    prefect_server.write_state(home, prefect_server.ServerState(gone.pid, 4299, str(home), "2026-01-01T00:00:00"))
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)

    assert main(["server", "status"]) == EXIT_NOT_RUNNING
    assert "no server running" in capsys.readouterr().out
    assert main(["server", "stop"]) == EXIT_OK
    assert "no server running" in capsys.readouterr().out
    assert not (home / prefect_server.STATE_FILE).exists()


def test_stop_never_touches_a_process_that_is_not_our_server(tmp_path: Path, monkeypatch, capsys) -> None:
    """A recorded pid now used by another program (pids are reused) is left alone."""
    home = tmp_path / "prefect"
    home.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        prefect_server.write_state(home, prefect_server.ServerState(other.pid, 4299, str(home), "2026-01-01T00:00:00"))
        monkeypatch.setenv("PREFECT_HOME", str(home))
        assert main(["server", "stop"]) == EXIT_OK
        assert "no server running" in capsys.readouterr().out
        assert other.poll() is None, "still running"
    finally:
        other.kill()
        other.wait()


def test_a_set_api_url_is_used_as_it_is(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    messages: list[str] = []
    assert prefect_server.use_local_server(messages.append) == "http://127.0.0.1:9/api"
    assert messages == [] and not (tmp_path / "prefect").exists(), "nothing started, nothing written"


def test_the_preferred_port_or_another_free_one(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        other = prefect_server.choose_port(port)
        assert other != port and prefect_server.is_port_free(other)
    assert prefect_server.choose_port(0) > 0


# --- the real thing: a background server shared by commands ---------------------------------------------


@pytest.fixture
def own_home(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """(Prefect home, environment) for commands in this test only; whatever they start is stopped after."""
    home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(home), CIVIC_PREFECT_PORT="0")
    yield home, env
    prefect_server.stop_server(home)


def api(url: str, path: str, body: dict) -> list[dict]:
    request = urllib.request.Request(
        f"{url}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return list(json.loads(response.read()))


@pytest.mark.prefect_server
def test_commands_share_one_background_server(own_home, seed_copy: Path, tmp_path: Path) -> None:
    home, env = own_home
    db = tmp_path / "warehouse.duckdb"

    first = run_command("ingest", str(seed_copy), "--db", str(db), env=env)
    assert first.returncode == EXIT_OK, first.stderr[-3000:]
    assert "5 new" in first.stdout
    assert "starting a Prefect server in the background" in first.stderr
    state = prefect_server.read_state(home)
    assert state is not None and prefect_server.is_healthy(state.api_url)
    assert f"Prefect UI: {state.ui_url}" in first.stderr

    status = subprocess.run([str(CLI), "server", "status"], capture_output=True, text=True, env=env, timeout=60)
    assert status.returncode == EXIT_OK and state.ui_url in status.stdout

    unchanged = run_command("ingest", str(seed_copy), "--db", str(db), env=env)
    assert "5 unchanged" in unchanged.stdout and "prefect" not in imported_modules(unchanged.stderr)

    edited = sorted(seed_copy.glob("*.txt"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n截至2023年底，全省社会组织7.9万家。\n", encoding="utf-8")
    second = run_command("ingest", str(seed_copy), "--db", str(db), env=env)
    assert second.returncode == EXIT_OK, second.stderr[-3000:]
    assert "1 updated, 4 unchanged" in second.stdout
    assert "starting a Prefect server" not in second.stderr, "the second command reuses the first one's server"
    assert prefect_server.read_state(home) == state

    # Both runs are in the server, with their summary and a link to the report written beside the warehouse.
    runs = api(state.api_url, "/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}})
    assert len(runs) == 2
    artifacts = api(state.api_url, "/artifacts/filter", {"artifacts": {"key": {"like_": "ingest-files"}}})
    report = db.with_name("warehouse.report.html")
    assert report.exists()
    links = [a["data"] for a in artifacts if a["key"] == "ingest-files-report"]
    assert len(links) == 2 and all(f"]({report.resolve().as_uri()})" in link for link in links)
    summaries = [a["data"] for a in artifacts if a["key"] == "ingest-files-summary"]
    assert len(summaries) == 2 and all(str(report.resolve()) in text for text in summaries)

    stop = subprocess.run([str(CLI), "server", "stop"], capture_output=True, text=True, env=env, timeout=60)
    assert stop.returncode == EXIT_OK and f"pid {state.pid}" in stop.stdout
    assert not prefect_server.is_server_process(state.pid, state.port) and not prefect_server.is_healthy(state.api_url)
    status = subprocess.run([str(CLI), "server", "status"], capture_output=True, text=True, env=env, timeout=60)
    assert status.returncode == EXIT_NOT_RUNNING


def test_a_command_that_imported_prefect_first_still_reports_to_the_server(monkeypatch) -> None:
    """`backfill` checks its parameters with Prefect imported (settings read at import): the URL is set after."""
    from prefect.settings import PREFECT_API_URL

    from flows.cli import connect_prefect

    url = "http://127.0.0.1:9/api"
    assert PREFECT_API_URL.value() != url
    monkeypatch.setenv("PREFECT_API_URL", url)
    with connect_prefect():
        assert PREFECT_API_URL.value() == url
