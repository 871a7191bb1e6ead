"""A DuckLake warehouse: the catalog in PostgreSQL, the data as Parquet files in a shared folder.

Many processes on many hosts may write it at once and analysts read it directly, each query seeing one
committed snapshot. What a lake lacks — primary keys, indexes — the loader makes up for: a batch replaces its
documents' rows by delete + insert in one transaction, ids are hashes of what they identify, and DuckLake's
optimistic commits do the rest. Two transactions that both only insert never conflict; one that deletes or
updates a table conflicts with any other that wrote the same table since it began. The loser's batch is run
again (bounded, with backoff), now seeing the winner's rows. Two writers that inserted the same new document
at the same moment (overlapping shards) find it twice after their commits and the later one repairs it.

    ducklake:postgres:dbname=civic host=db.example port=5432 user=civic    (data folder: CIVIC_LAKE_DATA)
    ducklake:/shared/civic.ducklake                                        (catalog in a DuckDB file: one writer)

The extensions come from the PyPI wheels duckdb-extension-ducklake / duckdb-extension-postgres, installed from
their paths: DuckDB's extension server is never asked.
"""

from __future__ import annotations

import importlib.util
import logging
import random
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from warehouse.backends.base import Warehouse
from warehouse.load import ArticleRows, FetchState, LoadResult, Reject, link_reposts_committed, repair_duplicates
from warehouse.schema import WRITER_SETTINGS, applied_versions, migrate

T = TypeVar("T")
LOG = logging.getLogger(__name__)
PREFIX = "ducklake:"
ALIAS = "lake"
EXTENSIONS = ("postgres", "ducklake")
# Commit conflicts between writers, and the catalog's own races (two processes creating a fresh lake).
CONFLICT = re.compile(r"conflict|could not serialize|duplicate key value|already exists", re.IGNORECASE)
NO_LAKE_YET = re.compile(r"data_path is not set", re.IGNORECASE)
PASSWORD = re.compile(r"(password=)\S+", re.IGNORECASE)


class LakeError(RuntimeError):
    """A lake that cannot be opened as configured; the message says what to set."""


def is_lake(target: str) -> bool:
    return target.startswith(PREFIX)


def extension_path(name: str) -> Path:
    """The extension file shipped in the duckdb-extension-NAME wheel for this DuckDB version."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise LakeError(
            f"the {name} extension is not installed: pip install duckdb-extension-{name}=={duckdb.__version__}"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{duckdb.__version__}"
    found = folder / f"{name}.duckdb_extension"
    if not found.exists():
        shipped = sorted(p.name for p in folder.parent.glob("v*"))
        raise LakeError(
            f"duckdb-extension-{name} has no build for DuckDB {duckdb.__version__} (it ships {shipped}): "
            "the engine and its extension wheels must be the same version"
        )
    return found


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """INSTALL each extension from its wheel's file (not from the network) unless installed, then LOAD it."""
    installed = dict(
        con.execute(
            "SELECT extension_name, installed FROM duckdb_extensions() WHERE extension_name IN ('postgres', 'ducklake')"
        ).fetchall()
    )
    for name in EXTENSIONS:
        if not installed.get(name):
            con.execute(f"INSTALL '{_literal(str(extension_path(name)))}'")
        con.execute(f"LOAD {name}")


def _literal(text: str) -> str:
    return text.replace("'", "''")


def is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error) and bool(CONFLICT.search(str(exc)))


def retry_conflicts(
    work: Callable[[], T], *, attempts: int = 8, first_delay: float = 0.2, max_delay: float = 5.0, what: str = "write"
) -> T:
    """Run `work` again when it lost a commit conflict, with jittered exponential backoff; at most `attempts` times."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except duckdb.Error as exc:
            if not is_conflict(exc) or attempt == attempts:
                raise
            LOG.warning("%s lost a commit conflict (attempt %d of %d), retrying: %s", what, attempt, attempts, exc)
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")


class DuckLake(Warehouse):
    backend = "ducklake"

    def __init__(self, target: str, *, data_path: str | None = None, attempts: int = 8) -> None:
        super().__init__(target)
        self.catalog = target[len(PREFIX) :]
        self.data_path = data_path
        self.attempts = attempts
        # A DuckDB-file catalog has one writer, like the file backend; PostgreSQL takes many.
        self.concurrent_writers = self.catalog.startswith("postgres:")

    @property
    def name(self) -> str:
        return PASSWORD.sub(r"\1***", self.target)

    # --- connections ---------------------------------------------------------------------------------

    def _attach(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        try:
            load_extensions(con)
            retry_conflicts(lambda: self._attach_once(con, read_only), attempts=self.attempts, what="attach")
            con.execute(f"USE {ALIAS}")
        except BaseException:
            con.close()
            raise
        return con

    def _attach_once(self, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        options = ["READ_ONLY"] if read_only else []
        if self.data_path and not read_only:
            options.append(f"DATA_PATH '{_literal(self.data_path)}'")
            Path(self.data_path).mkdir(parents=True, exist_ok=True)
        sql = f"ATTACH '{_literal(self.target)}' AS {ALIAS}" + (f" ({', '.join(options)})" if options else "")
        try:
            con.execute(sql)
        except duckdb.Error as exc:
            if NO_LAKE_YET.search(str(exc)):
                raise LakeError(
                    f"there is no lake at {self.name} yet: set CIVIC_LAKE_DATA to the folder (shared by every "
                    "writer) where its Parquet files go, and run again to create it"
                ) from exc
            if "does not match existing data path" in str(exc):
                raise LakeError(
                    f"CIVIC_LAKE_DATA is {self.data_path} but the lake at {self.name} keeps its files elsewhere "
                    f"({exc}): set CIVIC_LAKE_DATA to that folder, or unset it to use the one in the catalog"
                ) from exc
            if "does not exist - and creating a new DuckLake is explicitly disabled" in str(exc):
                raise LakeError(f"there is no lake at {self.name} yet: run `civic-ingest ingest` first") from exc
            raise

    def _open_writer(self) -> duckdb.DuckDBPyConnection:
        con = self._attach(read_only=False)
        try:
            spill = Path(tempfile.gettempdir()) / "civic-ingest-duckdb"
            con.execute(f"SET temp_directory = '{_literal(str(spill))}'")
            for name, value in WRITER_SETTINGS.items():
                con.execute(f"SET {name} = '{value}'")
            retry_conflicts(lambda: migrate(con, backend=self.backend), attempts=self.attempts, what="migration")
        except BaseException:
            con.close()
            raise
        return con

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A read-only session on the lake: every query sees the last committed snapshot (no copy needed)."""
        return self._attach(read_only=True)

    def publish(self, changed: bool) -> str | None:
        """Nothing to publish: analysts read the lake, which shows each commit as it lands."""
        return None

    # --- writes ------------------------------------------------------------------------------------------

    def write(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run a transaction; run it again from the start when its commit lost a conflict with another writer."""
        return retry_conflicts(lambda: work(self.connection), attempts=self.attempts)

    def load(
        self,
        rows: ArticleRows | Sequence[Any],
        *,
        rejects: Sequence[Reject] = (),
        fetch_states: Sequence[FetchState] = (),
        now: datetime | None = None,
    ) -> LoadResult:
        """The batch's transaction, then (after its commit) what only another writer's concurrent commit can undo.

        Inside the transaction a batch sees only what was committed when it began, so a document another writer
        inserted meanwhile is missing from it. Once committed, a second short transaction repairs a document
        found twice and relinks the batch's reposts against everything committed by now; whichever of two
        writers commits last sees both, so the links end as one writer would have left them.
        """
        batch = rows if isinstance(rows, ArticleRows) else ArticleRows.from_articles(rows)
        result = super().load(batch, rejects=rejects, fetch_states=fetch_states, now=now)
        if len(batch) and self.concurrent_writers:
            self.write(lambda con: repair_duplicates(con, batch, now or datetime.now()))
            self.write(lambda con: link_reposts_committed(con, batch.column("text_hash")))
        return result

    def sweep_host_boilerplate(self) -> int:
        """The sweep, retried on conflicts; when other writers keep winning, it is left to the next run's sweep."""
        try:
            return super().sweep_host_boilerplate()
        except duckdb.Error as exc:
            if not is_conflict(exc):
                raise
            LOG.warning("host-boilerplate sweep gave up after %d conflicts; the next run sweeps again", self.attempts)
            return 0

    # --- maintenance -------------------------------------------------------------------------------------

    def maintain(self, *, keep_hours: float = 24.0) -> dict[str, Any]:
        """Flush inlined rows to Parquet, merge small adjacent files, expire old snapshots, delete their files and
        the files of transactions that never committed.

        Snapshots younger than `keep_hours` stay (readers and time travel may still use them), and so do the
        files they reference.
        """
        con = self.connection

        def older_than() -> datetime:  # taken at each step: the merge's own replaced files count from the merge
            return datetime.now() - timedelta(hours=keep_hours)

        before = self._files(con)
        done: dict[str, Any] = {"backend": self.backend, "warehouse": self.name, "data_files_before": before}
        retry_conflicts(lambda: con.execute(f"CALL ducklake_flush_inlined_data('{ALIAS}')"), what="flush")
        retry_conflicts(lambda: con.execute(f"CALL ducklake_merge_adjacent_files('{ALIAS}')"), what="merge")
        expired = con.execute(
            f"CALL ducklake_expire_snapshots('{ALIAS}', older_than => ?::TIMESTAMPTZ)", [older_than()]
        ).fetchall()
        cleaned = con.execute(
            f"CALL ducklake_cleanup_old_files('{ALIAS}', older_than => ?::TIMESTAMPTZ)", [older_than()]
        ).fetchall()
        # Files no snapshot ever referenced: written by a transaction that never committed (a writer killed
        # mid-load). Only older ones: a younger file may belong to a transaction still running.
        orphans = con.execute(
            f"CALL ducklake_delete_orphaned_files('{ALIAS}', older_than => ?::TIMESTAMPTZ)", [older_than()]
        ).fetchall()
        done.update(
            snapshots_expired=len(expired),
            files_deleted=len(cleaned),
            orphaned_files_deleted=len(orphans),
            data_files_after=self._files(con),
            snapshots=self._count(con, f"SELECT count(*) FROM ducklake_snapshots('{ALIAS}')"),
            schema_versions=sorted(applied_versions(con, self.backend)),
        )
        return done

    def _files(self, con: duckdb.DuckDBPyConnection) -> int:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [ALIAS]
            ).fetchall()
        ]
        return sum(self._count(con, f"SELECT count(*) FROM ducklake_list_files('{ALIAS}', '{t}')") for t in tables)

    @staticmethod
    def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
        row = con.execute(sql).fetchone()
        return int(row[0]) if row else 0


__all__ = ["DuckLake", "LakeError", "is_lake", "load_extensions", "retry_conflicts"]
