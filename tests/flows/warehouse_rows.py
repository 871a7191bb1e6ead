"""Rows of a warehouse file a flow test wrote, read as an analyst would (read-only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def read_rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """The rows of one query against the warehouse file, opened read-only and closed again."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
