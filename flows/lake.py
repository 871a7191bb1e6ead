"""Flows for a DuckLake warehouse: nightly maintenance, and a backfill split into date windows run side by side."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from flows import settings
from flows.backfill import ALL_SOURCES, BackfillError, plan_backfill
from flows.shards import date_windows
from warehouse.backends import open_warehouse


@flow(name="lake-maintenance", log_prints=True)
def lake_maintenance(db: str | None = None, keep_hours: float = 24.0) -> dict[str, Any]:
    """Merge the lake's small Parquet files and expire snapshots older than `keep_hours` (a file: nothing to do)."""
    warehouse = open_warehouse(db or settings.DEFAULT_DB, lake_data=settings.LAKE_DATA)
    logger = get_run_logger()
    if warehouse.backend != "ducklake":
        logger.info("%s is a DuckDB file: nothing to maintain", warehouse.name)
        return warehouse.maintain()
    with warehouse:
        done = warehouse.maintain(keep_hours=keep_hours)
    logger.info("lake maintenance: %s", done)
    return done


@flow(name="backfill-windows", log_prints=True)
def backfill_windows(
    date_from: str | None = None,
    date_to: str | None = None,
    windows: int = 4,
    source: str = ALL_SOURCES,
    shards: int = 1,
    deployment: str = "backfill/lake",
    max_pages: int = 50,
    db: str | None = None,
) -> list[str]:
    """Start one `deployment` run per date window (and per shard of the sources): the pool's workers run them
    side by side into one lake. Returns the started flow runs' ids; each run reports itself."""
    from prefect.deployments import run_deployment

    plan = plan_backfill(source, date_from, date_to, max_pages=max_pages)  # invalid parameters fail here, at once
    if plan.since is None or plan.until is None:
        raise BackfillError("a backfill split into windows needs both date_from and date_to")
    started = []
    for since, until in date_windows(plan.since, plan.until, windows):
        for shard in range(shards):
            parameters: dict[str, Any] = {
                "source": source,
                "date_from": since.isoformat(),
                "date_to": until.isoformat(),
                "max_pages": max_pages,
                "db": db,
                "shard": shard,
                "shards": shards,
            }
            run = run_deployment(deployment, parameters=parameters, timeout=0, as_subflow=False)
            started.append(str(run.id))
    get_run_logger().info("started %d backfill runs of %s", len(started), deployment)
    return started
