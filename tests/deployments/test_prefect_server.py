"""The deployments as an operator runs them: a real Prefect server, work pool, worker and `prefect deploy`.

A module fixture starts `prefect server start` on a free loopback port (its own PREFECT_HOME and SQLite
database in tmp), creates the process work pool with its concurrency limit of 1 (`make pool`), starts a worker
(`make worker`) whose environment points CIVIC_DB and CIVIC_SOURCES at a tmp warehouse and the fixture sites,
deploys deployments/prefect.yaml from the project root (`make deploy`) and triggers runs with
`prefect deployment run`, as the README says: ingest-files on the seeds, then fetch-articles and a backfill
against the fixture sites, triggered together while an analyst holds the read snapshot open. Prefect's client
reads back states, schedules and artifacts; DuckDB reads the warehouse. Every process started is ended.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.conftest import LOCK_HOLDER, PROJECT_ROOT
from tests.fixtures.site import Sites, start_sites
from tests.fixtures.site.build import BEYOND_LIMIT, CHARITY

pytestmark = pytest.mark.prefect_server

PREFECT = Path(sys.executable).parent / "prefect"
POOL = "civic-ingest"
PREFECT_FILE = "deployments/prefect.yaml"
HEALTH_TIMEOUT = 90.0  # healthy after ~10 s on 2 cores; a loaded CI machine gets room
RUN_TIMEOUT = 240.0  # a flow run here takes 5-15 s, most of it starting its process
BACKFILL = {"source": "province", "date_from": "2024-02-01", "date_to": "2024-02-15"}
SITE_ARTICLES = 9  # what one fetch-articles run loads from the fixture sites (tests/flows/test_fetch.py)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Processes:
    """Every process the test starts, each in its own session, with its output in a log file."""

    logs: Path
    started: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, args: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                args,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((name, proc))
        return proc

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return f"--- {name} log ---\n" + "\n".join(text.splitlines()[-lines:])

    def stop_all(self) -> None:
        """SIGTERM each process group (latest first), then SIGKILL what is still there after 15 s."""
        for _, proc in reversed(self.started):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, proc in reversed(self.started):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):  # the group too: flow runs left behind by the worker
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@dataclass
class Stack:
    api_url: str
    env: dict[str, str]  # for `prefect` commands: this server, nothing of the developer's profile
    processes: Processes
    sites: Sites
    db: Path

    def prefect(self, *args: str, timeout: float = 120.0) -> str:
        """Run the `prefect` command against this server from the project root; its output."""
        done = subprocess.run(
            [str(PREFECT), *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def client(self) -> Any:
        from prefect.client.orchestration import SyncPrefectClient

        return SyncPrefectClient(self.api_url)

    def run_deployment(self, name: str, **parameters: str) -> str:
        """`prefect deployment run NAME -p key=value …`; the flow run's id."""
        params = [arg for key, value in parameters.items() for arg in ("--param", f"{key}={value}")]
        out = self.prefect("deployment", "run", name, *params)
        found = re.search(r"UUID: ([0-9a-f-]{36})", out)
        assert found, out
        return found[1]

    def wait(self, run_ids: list[str]) -> list[Any]:
        """The flow runs once all are final (COMPLETED, FAILED, CRASHED …), polling the API."""
        deadline = time.monotonic() + RUN_TIMEOUT
        with self.client() as client:
            while True:
                runs = [client.read_flow_run(run_id) for run_id in run_ids]
                if all(r.state and r.state.is_final() for r in runs):
                    return runs
                if time.monotonic() > deadline or self.processes.started[-1][1].poll() is not None:
                    states = {r.name: r.state_type for r in runs}
                    pytest.fail(f"runs not finished: {states}\n{self.processes.tail('worker', 80)}")
                time.sleep(0.5)


def prefect_env(home: Path, api_url: str) -> dict[str, str]:
    """The caller's environment without its PREFECT_* and CIVIC_* settings, pointed at the test server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CIVIC_"))}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api_url,
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
    )
    return env


def wait_healthy(api_url: str, server: subprocess.Popen[bytes], processes: Processes) -> float:
    """Seconds until GET /api/health answers true."""
    started = time.monotonic()
    while time.monotonic() - started < HEALTH_TIMEOUT:
        if server.poll() is not None:
            pytest.fail(f"prefect server exited with {server.returncode}\n{processes.tail('server')}")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                if response.read().strip() == b"true":
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"prefect server not healthy after {HEALTH_TIMEOUT:.0f}s\n{processes.tail('server')}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Server, pool, worker and deployments, as the README's operator sets them up; all ended afterwards."""
    tmp = tmp_path_factory.mktemp("prefect-server")
    (tmp / "logs").mkdir()
    processes = Processes(tmp / "logs")
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = prefect_env(tmp / "prefect-home", api_url)
    sites_gen = start_sites(tmp)
    sites = next(sites_gen)
    try:
        server = processes.start(
            "server", [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=tmp
        )
        healthy_after = wait_healthy(api_url, server, processes)
        print(f"\nprefect server healthy after {healthy_after:.1f}s")
        stack = Stack(api_url, env, processes, sites, tmp / "warehouse" / "warehouse.duckdb")
        stack.prefect("work-pool", "create", POOL, "--type", "process", "--overwrite")
        stack.prefect("work-pool", "set-concurrency-limit", POOL, "1")
        worker_env = {
            **env,
            "CIVIC_DB": str(stack.db),
            "CIVIC_SOURCES": str(sites.sources_file),
            "PREFECT_WORKER_QUERY_SECONDS": "1",  # default 10: the test would mostly wait for polls
        }
        # Started outside the project: the deployments' pull step must bring each flow run there.
        processes.start("worker", [str(PREFECT), "worker", "start", "--pool", POOL], env=worker_env, cwd=tmp)
        stack.prefect("--no-prompt", "deploy", "--all", "--prefect-file", PREFECT_FILE)
        yield stack
    finally:
        processes.stop_all()
        sites_gen.close()


@dataclass
class Runs:
    ingest: Any
    fetch: Any
    backfill: Any
    analyst: subprocess.Popen[str]  # held the read snapshot open while fetch and backfill wrote

    @property
    def all(self) -> list[Any]:
        return [self.ingest, self.fetch, self.backfill]


@pytest.fixture(scope="module")
def runs(stack: Stack) -> Iterator[Runs]:
    started = time.monotonic()
    (ingest,) = stack.wait([stack.run_deployment("ingest-files/manual")])
    snapshot = stack.db.with_name("warehouse.snapshot.duckdb")
    analyst = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(snapshot), "600", "ro"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert analyst.stdout is not None and analyst.stdout.readline().strip() == "locked"
        # Together: the pool's concurrency limit must run them one after the other.
        fetch_id = stack.run_deployment("fetch-articles/daily")
        backfill_id = stack.run_deployment("backfill/manual", **BACKFILL)
        fetch, backfill = stack.wait([fetch_id, backfill_id])
        print(f"three deployment runs took {time.monotonic() - started:.1f}s")
        yield Runs(ingest, fetch, backfill, analyst)
    finally:
        analyst.kill()
        analyst.wait(timeout=10)


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_run_completes(runs: Runs, stack: Stack) -> None:
    for run in runs.all:
        assert run.state_type.value == "COMPLETED", f"{run.name}: {run.state}\n{stack.processes.tail('worker', 80)}"
    assert runs.analyst.poll() is None, "the analyst's snapshot session was open the whole time"


def test_writers_never_overlap(runs: Runs) -> None:
    first, second = sorted([runs.fetch, runs.backfill], key=lambda r: r.start_time)
    assert runs.ingest.end_time <= first.start_time
    assert first.end_time <= second.start_time, "the pool's concurrency limit let two writers run at once"


def test_warehouse_holds_seeds_site_pages_and_the_backfilled_range(runs: Runs, stack: Stack) -> None:
    by_source = dict(query(stack.db, "SELECT source_name, count(*) FROM documents GROUP BY ALL"))
    assert by_source == {"local": 5, "province": SITE_ARTICLES - 2 + 2, "city": 2}
    backfilled = query(
        stack.db, "SELECT title FROM documents WHERE published_date BETWEEN '2024-02-01' AND '2024-02-15' ORDER BY 1"
    )
    assert backfilled == sorted([(BEYOND_LIMIT.title,), (CHARITY.title,)])
    seeds = query(stack.db, "SELECT uri FROM documents WHERE source_name = 'local'")
    assert all(Path(uri).parent == PROJECT_ROOT / "seeds" for (uri,) in seeds)  # CIVIC_SEEDS unset: the project's


def test_each_run_is_recorded_in_the_warehouse(runs: Runs, stack: Stack) -> None:
    rows = query(stack.db, "SELECT run_id, flow, articles_new FROM runs")
    recorded = {run_id: (flow, new) for run_id, flow, new in rows}
    assert recorded[str(runs.ingest.id)] == ("ingest-files", 5)
    assert recorded[str(runs.fetch.id)] == ("fetch-articles", SITE_ARTICLES)
    assert recorded[str(runs.backfill.id)] == ("backfill", 2)
    assert runs.backfill.parameters | BACKFILL == runs.backfill.parameters


def test_each_run_created_its_summary_artifact(runs: Runs, stack: Stack) -> None:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with stack.client() as client:
        for run, flow in zip(runs.all, ("ingest-files", "fetch-articles", "backfill"), strict=True):
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
            )
            by_key = {a.key: str(a.data) for a in artifacts}
            assert sorted(by_key) == sorted([f"{flow}-summary", f"{flow}-report"]), "the summary and its report"
            assert f"# {flow} run summary" in by_key[f"{flow}-summary"]
            assert "| articles new |" in by_key[f"{flow}-summary"]
            assert "report.html" in by_key[f"{flow}-report"]


def test_the_daily_deployment_is_scheduled_in_beijing_time(stack: Stack) -> None:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with stack.client() as client:
        daily = client.read_deployment_by_name("fetch-articles/daily")
        assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in daily.schedules] == [
            ("30 6 * * *", "Asia/Shanghai", True)
        ]
        for name in ("ingest-files/manual", "backfill/manual"):
            assert client.read_deployment_by_name(name).schedules == []
        for name in ("fetch-articles/daily", "ingest-files/manual", "backfill/manual"):
            deployment = client.read_deployment_by_name(name)
            assert deployment.work_pool_name == POOL
            assert deployment.global_concurrency_limit and deployment.global_concurrency_limit.limit == 1
        assert client.read_work_pool(POOL).concurrency_limit == 1
        # The server's scheduler turns the schedule into runs (it did not with SQLAlchemy 2.1).
        deadline = time.monotonic() + 60
        while True:
            runs = client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[daily.id])))
            scheduled = [run for run in runs if run.auto_scheduled]
            if scheduled or time.monotonic() > deadline:
                break
            time.sleep(1)
    assert scheduled, f"no scheduled run of fetch-articles/daily\n{stack.processes.tail('server')}"
    beijing = ZoneInfo("Asia/Shanghai")
    for run in scheduled:
        start: datetime = run.expected_start_time.astimezone(beijing)
        assert start.time() == clock(6, 30), start
