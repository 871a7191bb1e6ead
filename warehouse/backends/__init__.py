"""Warehouse backends behind one interface: `open_warehouse(target)` picks one from the target string.

path/to/warehouse.duckdb                         -> DuckDBFile (the default: one writer, a read snapshot)
ducklake:postgres:dbname=… host=… port=… user=…  -> DuckLake  (many writers; data folder `lake_data`)
"""

from __future__ import annotations

from warehouse.backends.base import Warehouse
from warehouse.backends.duckdb_file import DuckDBFile
from warehouse.backends.ducklake import DuckLake, LakeError, is_lake


def open_warehouse(target: str, *, lake_data: str | None = None, lock_wait: float = 60.0) -> Warehouse:
    """The warehouse named by `target` (not connected yet: `open()`, `with`, or the first use connects)."""
    target = str(target).strip()
    if is_lake(target):
        return DuckLake(target, data_path=lake_data)
    return DuckDBFile(target, lock_wait=lock_wait)


__all__ = ["DuckDBFile", "DuckLake", "LakeError", "Warehouse", "is_lake", "open_warehouse"]
