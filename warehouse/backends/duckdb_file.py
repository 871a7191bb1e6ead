"""The default backend: one DuckDB file, one writing process, analysts read a snapshot beside it."""

from __future__ import annotations

import duckdb

from warehouse.backends.base import Warehouse
from warehouse.schema import connect, open_for_reading, publish_snapshot, snapshot_path


class DuckDBFile(Warehouse):
    """warehouse.duckdb: the run holds the file (DuckDB's lock) from open to close.

    Opening waits up to `lock_wait` seconds for another process to let the file go, then raises
    WarehouseLocked naming it. At the end of a run that changed something the file is copied to
    warehouse.snapshot.duckdb, which `query`, `stats` and `export` read.
    """

    backend = "duckdb"
    concurrent_writers = False

    def __init__(self, target: str, *, lock_wait: float = 60.0) -> None:
        super().__init__(target)
        self.lock_wait = lock_wait

    def _open_writer(self) -> duckdb.DuckDBPyConnection:
        return connect(self.target, wait_seconds=self.lock_wait)

    def reader(self) -> duckdb.DuckDBPyConnection:
        return open_for_reading(self.target)

    def publish(self, changed: bool) -> str | None:
        """Copy the file to its snapshot when the run changed data (or there is no snapshot yet)."""
        if changed or not snapshot_path(self.target).exists():
            return str(publish_snapshot(self.connection, self.target))
        return None
