"""Opening the warehouse: a bounded wait for DuckDB's file lock, then append-only migrations."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

LOCK_ERROR = re.compile(r"Could not set lock|Conflicting lock", re.IGNORECASE)
HOLDER_PID = re.compile(r"PID (\d+)")


# DuckDB settings of a writing process. By default DuckDB may cache 80% of RAM and its allocator keeps
# 128 MiB of freed memory; a run holding the warehouse open then grew by ~40 MiB per 2,500 pages loaded
# (measured: the ingest process went 470 -> 770 MiB RSS over 20,000 pages). With these it stays flat
# (470-670 MiB); the blocks DuckDB lets go are already written, and large operations spill to <db>.tmp.
WRITER_SETTINGS = {"memory_limit": "128MB", "allocator_flush_threshold": "16MB"}


class WarehouseLocked(RuntimeError):
    """Another process holds the warehouse file; the message names it."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(backend: str = "duckdb", folder: Path | None = None) -> list[Migration]:
    """All migrations shipped with the package, in order (files NNN_name.sql, never edited once released).

    For `backend="ducklake"` a file NNN_name.ducklake.sql, where one exists, stands in for NNN_name.sql;
    every other migration is adapted by `for_lake` (see there for the rule).
    """
    found: dict[int, Migration] = {}
    variants: dict[int, str] = {}
    entries = folder.iterdir() if folder else resources.files("warehouse").joinpath("migrations").iterdir()
    for entry in entries:
        match = re.fullmatch(r"(\d{3})_(\w+)\.sql", entry.name)
        if match:
            found[int(match[1])] = Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8"))
        variant = re.fullmatch(r"(\d{3})_(\w+)\.ducklake\.sql", entry.name)
        if variant:
            variants[int(variant[1])] = entry.read_text(encoding="utf-8")
    if backend == "ducklake":
        found = {
            v: Migration(m.version, m.name, variants[v] if v in variants else for_lake(m.sql)) for v, m in found.items()
        }
    return [found[v] for v in sorted(found)]


# --- migrations on a DuckLake --------------------------------------------------------------------------
# A lake has no primary keys, unique constraints or indexes (the loader keeps ids unique instead). Rule:
#   1. NNN_name.ducklake.sql, when present, is the migration's lake version (for what the rule cannot adapt);
#   2. otherwise NNN_name.sql runs on the lake with: statements CREATE [UNIQUE] INDEX / DROP INDEX skipped,
#      a column's PRIMARY KEY turned into NOT NULL, its UNIQUE dropped, and table constraints
#      PRIMARY KEY (…) / UNIQUE (…) dropped. Everything else (CREATE TABLE/VIEW, ALTER TABLE ADD COLUMN,
#      INSERT … SELECT, DROP, RENAME, UPDATE) runs as written.
SQL_COMMENT_OR_STRING = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
INDEX_STATEMENT = re.compile(r"^\s*(?:CREATE\s+(?:UNIQUE\s+)?INDEX|DROP\s+INDEX)\b", re.IGNORECASE)
CREATE_TABLE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\b", re.IGNORECASE)
TABLE_KEY = re.compile(r",\s*(?:CONSTRAINT\s+\w+\s+)?(?:PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)", re.IGNORECASE)
COLUMN_PRIMARY_KEY = re.compile(r"\bPRIMARY\s+KEY\b", re.IGNORECASE)
COLUMN_UNIQUE = re.compile(r"\s+UNIQUE\b(?!\s*\()", re.IGNORECASE)


def _without_comments(sql: str) -> str:
    """SQL with its comments removed (string literals and quoted names kept as they are)."""
    return SQL_COMMENT_OR_STRING.sub(lambda m: m[0] if m[0][0] in "'\"" else " ", sql)


def for_lake(sql: str) -> str:
    """A migration adapted to a DuckLake by the rule above: no keys, no unique constraints, no indexes."""
    kept = []
    for statement in duckdb.extract_statements(sql):
        text = _without_comments(statement.query).strip()
        if not text or INDEX_STATEMENT.match(text):
            continue
        if CREATE_TABLE.match(text):
            text = TABLE_KEY.sub("", text)
            text = COLUMN_PRIMARY_KEY.sub("NOT NULL", text)
            text = COLUMN_UNIQUE.sub("", text)
        kept.append(text)
    return ";\n".join(kept) + (";\n" if kept else "")


SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT now())"
)


def applied_versions(con: duckdb.DuckDBPyConnection, backend: str = "duckdb") -> set[int]:
    con.execute(for_lake(SCHEMA_MIGRATIONS) if backend == "ducklake" else SCHEMA_MIGRATIONS)
    return {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}


def migrate(con: duckdb.DuckDBPyConnection, *, up_to: int | None = None, backend: str = "duckdb") -> list[int]:
    """Apply the migrations this warehouse has not had yet, each in its own transaction."""
    done = applied_versions(con, backend)
    newly = []
    for migration in migrations(backend):
        if migration.version in done or (up_to is not None and migration.version > up_to):
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            if migration.sql.strip():
                con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                [migration.version, migration.name],
            )
            con.execute("COMMIT")
        except duckdb.Error:
            rollback(con)
            raise
        newly.append(migration.version)
    return newly


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if any (a failed COMMIT, e.g. a lake's conflict, has ended it already)."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException as exc:
        if "no transaction is active" not in str(exc):
            raise


def connect(
    path: str | Path, *, read_only: bool = False, wait_seconds: float = 60.0, apply_migrations: bool = True
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting up to `wait_seconds` for another process to release the file.

    DuckDB lets one process hold a file (a read-only reader blocks a writer too); rather than fail at
    once, retry with backoff and then raise WarehouseLocked naming the process that holds it.
    """
    target = str(path)
    if target != ":memory:" and not read_only:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(target, read_only=read_only)
            break
        except duckdb.IOException as exc:
            if not LOCK_ERROR.search(str(exc)):
                raise
            if time.monotonic() >= deadline:
                holder = HOLDER_PID.search(str(exc))
                who = f"process {holder[1]}" if holder else "another process"
                raise WarehouseLocked(
                    f"warehouse {target} is locked by {who} (waited {wait_seconds:.0f}s). "
                    "A run may be writing, or a SQL session has it open: close it, or query the "
                    "read-only snapshot with `civic-ingest query`."
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    if not read_only:
        for name, value in WRITER_SETTINGS.items():
            con.execute(f"SET {name} = '{value}'")
        if apply_migrations:
            migrate(con)
    return con


def snapshot_path(db: str | Path) -> Path:
    """Where the read-only snapshot of a warehouse lives: warehouse.duckdb -> warehouse.snapshot.duckdb."""
    path = Path(db)
    return path.with_name(f"{path.stem}.snapshot{path.suffix or '.duckdb'}")


def report_path(db: str | Path) -> Path:
    """Where the report page of a warehouse is written: warehouse.duckdb -> warehouse.report.html beside it."""
    path = Path(db)
    return path.with_name(f"{path.stem}.report.html")


def publish_snapshot(con: duckdb.DuckDBPyConnection, db: str | Path) -> Path:
    """Copy the warehouse to its snapshot file and swap it in atomically.

    Analysts and `civic-ingest query` read the snapshot, so they never hold the lock a writer needs;
    a reader that has the old snapshot open keeps reading it (rename never touches an open file).

    The copy is of the file itself, right after a checkpoint has written every committed row into it:
    the kernel copies the bytes, so it costs no memory however large the warehouse grows (DuckDB's
    COPY FROM DATABASE read the whole warehouse through its buffer pool: +410 MiB at 20,000 pages) and
    ~0.1 s per 100 MB. Should the checkpoint leave rows in the write-ahead log (another transaction
    open in this process), DuckDB copies the database instead.
    """
    target = snapshot_path(db)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con.execute("CHECKPOINT")
    wal = Path(f"{db}.wal")
    if wal.exists() and wal.stat().st_size > 0:  # the checkpoint left rows in the log: the file is not whole
        _copy_database(con, tmp)
    else:
        shutil.copyfile(db, tmp)  # sendfile(2): no bytes pass through this process
    tmp.replace(target)
    return target


def _copy_database(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    con.execute(f"ATTACH '{str(target).replace(chr(39), chr(39) * 2)}' AS civic_snapshot")
    try:
        con.execute("COPY FROM DATABASE " + _current_database(con) + " TO civic_snapshot")
    finally:
        con.execute("DETACH civic_snapshot")


def _current_database(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT current_database()").fetchone()
    return f'"{row[0]}"' if row else "main"


def open_for_reading(db: str | Path, *, wait_seconds: float = 10.0) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the newest snapshot, or to the warehouse itself when there is none."""
    snapshot = snapshot_path(db)
    if snapshot.exists():
        return duckdb.connect(str(snapshot), read_only=True)
    if not Path(db).exists():
        raise FileNotFoundError(f"no warehouse at {db}: run `civic-ingest ingest` first")
    return connect(db, read_only=True, wait_seconds=wait_seconds)
