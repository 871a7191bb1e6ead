"""Shared fixtures: the seeds, real DuckDB files in tmp_path, real processes, one Prefect test server.

Prefect is imported only inside the `prefect_harness` fixture, which only flow tests request:
collecting or running the parser tests never loads it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.pg import Postgres, find_bin_dir, from_environment, running_postgres

if TYPE_CHECKING:
    from flows.summary import RunSummary
    from parsers.records import Article

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = PROJECT_ROOT / "seeds"
# The console script installed next to the interpreter running the tests (.venv/bin/civic-ingest).
CLI = Path(sys.executable).parent / "civic-ingest"

# Opens a warehouse the way an analyst's SQL session would, says so, then keeps it open.
LOCK_HOLDER = """
import sys, time
import duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[3] == "ro")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


PREFECT_HOME_KEY = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """A Prefect home of the test session's own, set before anything is imported: commands that tests run
    start their background server there, on any free port (never the developer's server, never port 4200)."""
    home = Path(tempfile.mkdtemp(prefix="civic-test-prefect-"))
    config.stash[PREFECT_HOME_KEY] = home
    os.environ.update(PREFECT_HOME=str(home), CIVIC_PREFECT_PORT="0", PREFECT_SERVER_ANALYTICS_ENABLED="false")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the server a test's command started, and remove the session's Prefect home."""
    home = config.stash.get(PREFECT_HOME_KEY, None)
    if home is None:
        return
    from flows.prefect_server import stop_server

    stop_server(home)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS_DIR


@pytest.fixture(scope="session")
def seed_files() -> list[Path]:
    files = sorted(SEEDS_DIR.glob("*.txt"))
    assert len(files) == 5, "the project ships five seed articles"
    return files


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A private copy of seeds/ that a test may edit."""
    return Path(shutil.copytree(SEEDS_DIR, tmp_path / "seeds"))


@pytest.fixture(scope="session")
def parse_file() -> Callable[[Path], Article]:
    """Parse one local file exactly as the flow does (uri = the path as given)."""
    from flows.sources.seeds import read_file
    from flows.vocabulary import metric_rules
    from parsers.article import parse_document

    rules = metric_rules()

    def parse(path: Path) -> Article:
        return parse_document(read_file(str(path)), rules=rules)

    return parse


@pytest.fixture(scope="session")
def seed_articles(parse_file: Callable[[Path], Article], seed_files: list[Path]) -> list[Article]:
    return [parse_file(path) for path in seed_files]


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole session (≈10 s to start on 2 cores)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def ingested_seeds(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunSummary]:
    """(warehouse, summary) of one `ingest-files` run over seeds/. Shared: read it, never write it."""
    from flows.ingest_files import ingest_files

    db = tmp_path_factory.mktemp("ingested") / "warehouse.duckdb"
    summary = ingest_files(paths=[str(SEEDS_DIR)], db=str(db))
    return db, summary


@pytest.fixture
def hold_warehouse() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start another process that opens a DuckDB file and keeps it for `seconds`; returns that process."""
    started: list[subprocess.Popen[str]] = []

    def hold(path: Path, seconds: float = 60.0, *, read_only: bool = False) -> subprocess.Popen[str]:
        mode = "ro" if read_only else "rw"
        proc = subprocess.Popen(
            [sys.executable, "-c", LOCK_HOLDER, str(path), str(seconds), mode], stdout=subprocess.PIPE, text=True
        )
        started.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked", "the lock-holding process did not open the file"
        return proc

    yield hold
    for proc in started:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed `civic-ingest` console script with the caller's environment."""

    def run(*args: str, cwd: Path | None = None, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=timeout
        )

    return run


# --- PostgreSQL and DuckLake -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL: CIVIC_TEST_PG ('host=… port=… user=…') if set, else one started here for the session.

    Where PostgreSQL is not installed the lake tests skip, saying so; in CI (CI=true) they fail instead.
    """
    given = os.environ.get("CIVIC_TEST_PG")
    if given:
        yield from_environment(given)
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        message = (
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb, no pg_ctl on PATH): "
            "`apt-get install postgresql`, or set CIVIC_TEST_PG=host=… port=… user=… to a running server"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the DuckLake tests: {message}")
        pytest.skip(f"DuckLake tests need a PostgreSQL: {message}")
    with running_postgres(bin_dir) as server:
        yield server


@dataclass(frozen=True)
class LakeTarget:
    """A fresh, empty DuckLake: its `--db` URL and the data folder (CIVIC_LAKE_DATA)."""

    url: str
    data: Path


_lakes = itertools.count()


@pytest.fixture
def make_lake(postgres: Postgres, tmp_path: Path) -> Callable[[], LakeTarget]:
    """Create fresh lakes: a new PostgreSQL database each (the catalog) and a data folder in tmp_path."""

    def make() -> LakeTarget:
        n = next(_lakes)
        dsn = postgres.create_database(f"lake_{os.getpid()}_{n}")
        return LakeTarget(f"ducklake:postgres:{dsn}", tmp_path / f"lake-data-{n}")

    return make


@pytest.fixture
def lake(make_lake: Callable[[], LakeTarget]) -> LakeTarget:
    return make_lake()


@pytest.fixture(scope="session")
def prefect_api_url(prefect_harness: None) -> str:
    """The session's Prefect server, for `civic-ingest` processes (they skip starting a temporary one)."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())
