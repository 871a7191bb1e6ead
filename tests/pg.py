"""A real PostgreSQL server for the lake tests: initdb into a temp folder, listening on 127.0.0.1 only.

Found under /usr/lib/postgresql/*/bin (Debian's `postgresql` package) or on PATH. PostgreSQL refuses to run
as root, so as root the folder is given to user `postgres` and every server command runs as that user
(runuser). Any free port; the socket lives in the temp folder; stopped (and the folder removed) at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"


def find_bin_dir() -> Path | None:
    """The folder of initdb/pg_ctl, newest PostgreSQL first; None when PostgreSQL is not installed."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _major(p.parent.name), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    return next((c for c in candidates if (c / "initdb").exists() and (c / "pg_ctl").exists()), None)


def _major(name: str) -> int:
    return int(name) if name.isdigit() else 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Postgres:
    """A running server: `dsn(db)` is the libpq string for one of its databases."""

    host: str
    port: int
    user: str
    bin_dir: Path | None

    def dsn(self, dbname: str) -> str:
        return f"dbname={dbname} host={self.host} port={self.port} user={self.user}"

    def create_database(self, name: str) -> str:
        """Create a database (any earlier one of that name is dropped first); its libpq string."""
        psql = [str(self.bin_dir / "psql") if self.bin_dir else "psql"]
        for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
            subprocess.run(
                [*psql, "-q", "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", "postgres", "-c", sql],
                check=True,
                capture_output=True,
                timeout=60,
            )
        return self.dsn(name)


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *args] if os.geteuid() == 0 else args


@contextlib.contextmanager
def running_postgres(bin_dir: Path) -> Iterator[Postgres]:
    """initdb + pg_ctl start in a fresh temp folder; stopped and removed on exit."""
    # Not under pytest's tmp_path: that folder is private to root and the server user could not enter it.
    folder = Path(tempfile.mkdtemp(prefix="civic-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, SERVER_USER)
    data, log = folder / "data", folder / "server.log"
    port = free_port()
    run = {"check": True, "capture_output": True, "timeout": 120, "stdin": subprocess.DEVNULL}
    try:
        subprocess.run(
            _as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", SERVER_USER, "-E", "UTF8"]),
            **run,
        )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start"]),
            **run,
        )
        try:
            yield Postgres("127.0.0.1", port, SERVER_USER, bin_dir)
        finally:
            subprocess.run(
                _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"]),
                capture_output=True,
                timeout=120,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def from_environment(value: str) -> Postgres:
    """A server named by CIVIC_TEST_PG ('host=… port=… user=…')."""
    fields = dict(part.split("=", 1) for part in value.split())
    return Postgres(
        fields.get("host", "127.0.0.1"), int(fields.get("port", "5432")), fields.get("user", "postgres"), find_bin_dir()
    )
