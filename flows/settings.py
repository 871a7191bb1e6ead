"""Environment, read once: where the warehouse lives and how Prefect should start on a small machine."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = os.environ.get("CIVIC_DB", "warehouse.duckdb")
# A DuckLake warehouse (CIVIC_DB=ducklake:postgres:…) keeps its Parquet files here; needed when the lake is created.
LAKE_DATA = os.environ.get("CIVIC_LAKE_DATA") or None
DEFAULT_SEEDS = os.environ.get("CIVIC_SEEDS", str(PROJECT_ROOT / "seeds"))
DEFAULT_SOURCES = os.environ.get("CIVIC_SOURCES", str(PROJECT_ROOT / "sources.toml"))
METRICS_FILE = os.environ.get("CIVIC_METRICS")  # extra metric vocabulary, tried before the shipped one
# Rows a run gathers before it commits them (default: flows.pipeline.LOAD_FLUSH_ROWS). Smaller commits show a
# lake's readers progress sooner; larger ones load faster.
LOAD_FLUSH_ROWS = int(os.environ.get("CIVIC_LOAD_FLUSH_ROWS", "0")) or None
# Seconds a writer waits for another process to release the warehouse file before giving up.
LOCK_WAIT_SECONDS = float(os.environ.get("CIVIC_LOCK_WAIT", "120"))

# Prefect's temporary server takes 13-21 s to start on 2 cores; its default 20 s timeout is too tight.
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def configure_prefect_environment() -> None:
    """Set Prefect defaults that the user has not set, before prefect is imported."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)


# Port of the Prefect server that commands start in the background when PREFECT_API_URL is not set
# (another free port when it is taken; 0: any free port).
PREFECT_PORT = int(os.environ.get("CIVIC_PREFECT_PORT", "4200"))
# Files worth keeping between commands (the report's inlined chart scripts, built once).
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "civic-ingest"
