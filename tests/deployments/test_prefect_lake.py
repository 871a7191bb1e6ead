"""Many workers on a DuckLake, as the README's operator sets them up: one Prefect server, one PostgreSQL, one data
folder, a work pool whose limit is 2 and two workers; two shards of the daily fetch triggered together write the
lake side by side, then the nightly maintenance runs on it. Every process started is ended.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import LakeTarget
from tests.deployments.test_prefect_server import (
    PREFECT,
    PREFECT_FILE,
    SITE_ARTICLES,
    Processes,
    Stack,
    free_port,
    prefect_env,
    wait_healthy,
)
from tests.fixtures.site import start_sites
from tests.fixtures.site.build import BEYOND_LIMIT, CHARITY
from warehouse.backends import open_warehouse

pytestmark = pytest.mark.prefect_server

POOL = "civic-ingest"
WORKERS = 2


@pytest.fixture(scope="module")
def lake_stack(tmp_path_factory: pytest.TempPathFactory, postgres: Any) -> Iterator[tuple[Stack, LakeTarget]]:
    tmp = tmp_path_factory.mktemp("prefect-lake")
    (tmp / "logs").mkdir()
    processes = Processes(tmp / "logs")
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = prefect_env(tmp / "prefect-home", api_url)
    lake = LakeTarget(f"ducklake:postgres:{postgres.create_database('lake_deployments')}", tmp / "lake-data")
    sites_gen = start_sites(tmp)
    sites = next(sites_gen)
    try:
        server = processes.start(
            "server", [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=tmp
        )
        wait_healthy(api_url, server, processes)
        stack = Stack(api_url, env, processes, sites, tmp / "unused.duckdb")
        stack.prefect("work-pool", "create", POOL, "--type", "process", "--overwrite")
        stack.prefect("work-pool", "set-concurrency-limit", POOL, str(WORKERS))  # `make pool POOL_LIMIT=2`
        # Politer than the fixture's own file (requests per second): each shard's run then lasts 10-20 s, long
        # enough that two runs handed out together are seen running together.
        sources = tmp / "sources.toml"
        sources.write_text(re.sub(r"rate_limit = [\d.]+", "rate_limit = 0.7", sites.sources_file.read_text("utf-8")))
        worker_env = {
            **env,
            "CIVIC_DB": lake.url,
            "CIVIC_LAKE_DATA": str(lake.data),
            "CIVIC_SOURCES": str(sources),
            "PREFECT_WORKER_QUERY_SECONDS": "1",
        }
        for n in range(WORKERS):  # one per host in production; here two processes on this one
            processes.start(
                f"worker-{n}",
                [str(PREFECT), "worker", "start", "--pool", POOL, "--limit", "1"],
                env=worker_env,
                cwd=tmp,
            )
        stack.prefect("--no-prompt", "deploy", "--all", "--prefect-file", PREFECT_FILE)
        yield stack, lake
    finally:
        processes.stop_all()
        sites_gen.close()


def test_two_shard_runs_write_one_lake_side_by_side(lake_stack: tuple[Stack, LakeTarget]) -> None:
    stack, lake = lake_stack
    ids = [stack.run_deployment(f"fetch-articles/shard-{k}-of-2") for k in range(2)]
    runs = stack.wait(ids)
    for run in runs:
        logs = "\n".join(stack.processes.tail(f"worker-{n}", 60) for n in range(WORKERS))
        assert run.state_type.value == "COMPLETED", f"{run.name}: {run.state}\n{logs}"
    first, second = sorted(runs, key=lambda r: r.start_time)
    assert second.start_time < first.end_time, "the pool's limit of 2 let both shards run at once"
    worked = [n for n in range(WORKERS) if "submitted to infrastructure" in stack.processes.tail(f"worker-{n}", 400)]
    assert worked == list(range(WORKERS)), "each worker ran one shard"

    con = open_warehouse(lake.url).reader()
    try:
        by_source = dict(con.execute("SELECT source_name, count(*) FROM documents GROUP BY ALL").fetchall())
        duplicates = con.execute("SELECT count(*) - count(DISTINCT doc_id) FROM documents").fetchone()
        recorded = dict(con.execute("SELECT run_id, articles_new FROM runs").fetchall())
    finally:
        con.close()
    assert set(by_source) == {"province", "city"} and sum(by_source.values()) == SITE_ARTICLES
    assert duplicates == (0,)
    assert sorted(recorded[str(r.id)] for r in runs) == sorted(by_source.values()), "each shard loaded one source"

    (maintenance,) = stack.wait([stack.run_deployment("lake-maintenance/nightly", keep_hours="0")])
    assert maintenance.state_type.value == "COMPLETED", stack.processes.tail("worker-0", 80)


def test_a_backfill_split_into_date_windows_runs_one_flow_run_per_window(lake_stack: tuple[Stack, LakeTarget]) -> None:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    stack, lake = lake_stack
    params = {"source": "province", "date_from": "2024-02-01", "date_to": "2024-02-15", "windows": "2"}
    (splitter,) = stack.wait([stack.run_deployment("backfill-windows/lake", **params)])
    assert splitter.state_type.value == "COMPLETED", stack.processes.tail("worker-0", 80)
    with stack.client() as client:
        deployment = client.read_deployment_by_name("backfill/lake")
        started = client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])))
    windows = stack.wait([str(r.id) for r in started])
    assert sorted((r.parameters["date_from"], r.parameters["date_to"]) for r in windows) == [
        ("2024-02-01", "2024-02-07"),
        ("2024-02-08", "2024-02-15"),
    ]
    assert all(r.state_type.value == "COMPLETED" for r in windows), [r.state for r in windows]
    con = open_warehouse(lake.url).reader()
    try:
        titles = {
            t
            for (t,) in con.execute(
                "SELECT title FROM documents WHERE published_date BETWEEN '2024-02-01' AND '2024-02-15'"
            ).fetchall()
        }
        duplicates = con.execute("SELECT count(*) - count(DISTINCT doc_id) FROM documents").fetchone()
    finally:
        con.close()
    assert {BEYOND_LIMIT.title, CHARITY.title} <= titles, "the range's articles beyond the daily run's pages"
    assert duplicates == (0,)
