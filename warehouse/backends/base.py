"""The warehouse a run writes and analysts read: one object per run that knows its backend.

A flow opens it once (`open_warehouse(db)`), passes it down to every stage and never asks which backend it
is: the single DuckDB file (one writer, analysts read a snapshot) or a DuckLake (catalog in PostgreSQL,
Parquet in a shared folder: many writers, analysts read the lake itself).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import duckdb

from warehouse.load import (
    ArticleRows,
    FetchState,
    LoadResult,
    Reject,
    record_run,
    sweep_host_boilerplate,
    upsert_batch,
)

T = TypeVar("T")


class Warehouse(ABC):
    """A warehouse opened for one run: one connection, migrated on first use, closed at the end."""

    backend: str = ""
    # Whether several processes may write at once (the work pool may run several flow runs).
    concurrent_writers: bool = False

    def __init__(self, target: str) -> None:
        self.target = target
        self._con: duckdb.DuckDBPyConnection | None = None

    # --- what each backend provides ---------------------------------------------------------------------

    @abstractmethod
    def _open_writer(self) -> duckdb.DuckDBPyConnection:
        """A read-write connection with the schema migrated."""

    @abstractmethod
    def reader(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection for analysts (`query`, `stats`, `export`); the caller closes it."""

    @abstractmethod
    def publish(self, changed: bool) -> str | None:
        """Make the run's writes visible to analysts, after its last write; what was published, if anything."""

    def write(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run one write (a function that commits its own transaction) on the run's connection."""
        return work(self.connection)

    def maintain(self, *, keep_hours: float = 24.0) -> dict[str, Any]:
        """Compact and expire what a lake accumulates; a file needs nothing."""
        return {"backend": self.backend, "note": "a DuckDB file needs no maintenance"}

    # --- shared by both ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """What to call this warehouse in logs and summaries (no password)."""
        return self.target

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The run's connection, opened on first use (one per run: the file's lock is taken once)."""
        if self._con is None:
            self._con = self._open_writer()
        return self._con

    def open(self) -> Warehouse:
        """Open now (a file waits for its lock here); returns self."""
        _ = self.connection
        return self

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Warehouse:
        return self.open()

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def load(
        self,
        rows: ArticleRows | Sequence[Any],
        *,
        rejects: Sequence[Reject] = (),
        fetch_states: Sequence[FetchState] = (),
        now: datetime | None = None,
    ) -> LoadResult:
        """Upsert articles, rejects and crawl state in one transaction (see warehouse.load.upsert_batch)."""
        return self.write(lambda con: upsert_batch(con, rows, rejects=rejects, fetch_states=fetch_states, now=now))

    def sweep_host_boilerplate(self) -> int:
        """Remove paragraphs repeated across pages of one host; how many were removed."""
        return self.write(sweep_host_boilerplate)

    def record_run(self, row: dict[str, Any]) -> None:
        """Store one run's counts in `runs`."""
        self.write(lambda con: record_run(con, row))
