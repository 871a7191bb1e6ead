"""The local Prefect server that command-line runs report to: started once in the background, reused after.

Without `PREFECT_API_URL` every Prefect process would start (and stop) a temporary server of its own: 8-20 s
per command on 2 cores. Instead the first command that needs Prefect starts `prefect server start` on
127.0.0.1 as a process of its own session, records its pid and port in `$PREFECT_HOME/civic-server.json`,
and every later command finds it there (one health request, ~10 ms). `civic-ingest server stop` ends it.

This module never imports Prefect: it runs before Prefect is configured, and `server status` stays instant.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from flows import settings

STATE_FILE = "civic-server.json"
LOCK_FILE = "civic-server.lock"
LOG_FILE = "civic-server.log"
HOST = "127.0.0.1"
# A server start takes 10-20 s on 2 cores, far more when the machine is busy.
START_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 20.0


class ServerError(RuntimeError):
    """The local Prefect server could not be started; the message says where its log is."""


@dataclass(frozen=True, slots=True)
class ServerState:
    pid: int
    port: int
    home: str
    started_at: str

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.port}"


def prefect_home() -> Path:
    """The Prefect home of this project: $PREFECT_HOME, else .prefect/ in the project folder."""
    return Path(os.environ.get("PREFECT_HOME") or settings.PROJECT_ROOT / ".prefect").resolve()


def read_state(home: Path) -> ServerState | None:
    """The server recorded in `home`, or None (no file, or one that is not ours)."""
    try:
        data = json.loads((home / STATE_FILE).read_text(encoding="utf-8"))
        return ServerState(int(data["pid"]), int(data["port"]), str(data["home"]), str(data["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(home: Path, state: ServerState) -> None:
    tmp = home / f"{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(asdict(state)), encoding="utf-8")
    tmp.replace(home / STATE_FILE)


def is_server_process(pid: int, port: int) -> bool:
    """True while `pid` is alive and is the `prefect server start … --port PORT` this module starts: pids are
    reused, and other projects run Prefect servers of their own — never take one of those for ours."""
    try:
        args = [part.decode(errors="replace") for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
    except OSError:
        return False
    args = [a for a in args if a]
    expected = ["server", "start", "--host", HOST, "--port", str(port)]
    return len(args) > len(expected) and args[-len(expected) :] == expected and args[-7].endswith("prefect")


def is_healthy(api_url: str, timeout: float = 2.0) -> bool:
    """True when the server answers its health check."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def running_server(home: Path) -> ServerState | None:
    """The recorded server when its process is alive and answers; None otherwise."""
    state = read_state(home)
    if state and is_server_process(state.pid, state.port) and is_healthy(state.api_url):
        return state
    return None


def is_port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def choose_port(preferred: int) -> int:
    """`preferred` when it is free (a stable UI address), else any free loopback port; 0 means any."""
    if preferred and is_port_free(preferred):
        return preferred
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def home_lock(home: Path) -> Iterator[None]:
    """One process at a time checks and starts the server of a Prefect home (two commands started together)."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOCK_FILE, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def server_environment(home: Path) -> dict[str, str]:
    """The server's environment: this one, in `home`, without a client URL pointing elsewhere."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    return env


def prefect_executable() -> str:
    """The `prefect` script installed beside this interpreter."""
    return str(Path(sys.executable).parent / "prefect")


def start_server(home: Path, port: int, *, timeout: float = START_TIMEOUT_SECONDS) -> ServerState:
    """Start `prefect server start` in its own session, record it, and wait until it answers."""
    log = open(home / LOG_FILE, "ab")  # noqa: SIM115 - the server process keeps writing to it
    try:
        process = subprocess.Popen(
            [prefect_executable(), "server", "start", "--host", HOST, "--port", str(port)],
            env=server_environment(home),
            cwd=home,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command; its process group is ours to stop
        )
    finally:
        log.close()
    state = ServerState(process.pid, port, str(home), datetime.now().isoformat(timespec="seconds"))
    write_state(home, state)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            (home / STATE_FILE).unlink(missing_ok=True)
            raise ServerError(f"the Prefect server exited at start (code {process.returncode}); see {home / LOG_FILE}")
        if is_healthy(state.api_url):
            return state
        time.sleep(0.25)
    stop_process_group(process.pid, port)
    (home / STATE_FILE).unlink(missing_ok=True)
    raise ServerError(f"the Prefect server did not answer within {timeout:.0f}s; see {home / LOG_FILE}")


def ensure_server(
    home: Path | None = None, *, port: int | None = None, notify: Callable[[str], None] | None = None
) -> tuple[ServerState, bool]:
    """(the running server of `home`, True when this call started it): reuse the recorded one or start one."""
    home = home or prefect_home()
    with home_lock(home):
        state = read_state(home)
        if state and is_server_process(state.pid, state.port):
            if is_healthy(state.api_url) or wait_healthy(state, START_TIMEOUT_SECONDS):
                return state, False
            stop_process_group(state.pid, state.port)  # alive but never answered: replace it
        chosen = choose_port(settings.PREFECT_PORT if port is None else port)
        if notify:
            notify(f"starting a Prefect server in the background on {HOST}:{chosen} (first command only) ...")
        return start_server(home, chosen), True


def wait_healthy(state: ServerState, timeout: float) -> bool:
    """Wait for a server that is still starting; False when it died or stayed silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_server_process(state.pid, state.port):
        if is_healthy(state.api_url):
            return True
        time.sleep(0.25)
    return False


def stop_process_group(pid: int, port: int, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM to the server's process group (it leads its own session), SIGKILL when it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not is_server_process(pid, port):
                _reap(pid)
                return
            _reap(pid)
            time.sleep(0.1)


def _reap(pid: int) -> None:
    """Collect the exit status when the server is our own child (a test, or `server start` then `stop`)."""
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop_server(home: Path | None = None) -> ServerState | None:
    """Stop the recorded server of `home`; returns what was stopped, None when nothing ran."""
    home = home or prefect_home()
    if not (home / STATE_FILE).exists():
        return None
    with home_lock(home):
        state = read_state(home)
        (home / STATE_FILE).unlink(missing_ok=True)
        if state is None or not is_server_process(state.pid, state.port):
            return None
        stop_process_group(state.pid, state.port)
        return state


def use_local_server(notify: Callable[[str], None]) -> str:
    """The API URL this process reports to, after pointing Prefect at it (call before importing Prefect).

    `PREFECT_API_URL` set by the user, or a Prefect already configured in this process (a test harness, a
    worker's flow run), wins; otherwise the project's background server, started if need be.
    """
    configured = os.environ.get("PREFECT_API_URL") or _configured_in_process()
    if configured:
        return configured
    home = prefect_home()
    state, started = ensure_server(home, notify=notify)
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_API_URL"] = state.api_url
    if started:
        notify(f"Prefect UI: {state.ui_url} (runs and their artifacts); `civic-ingest server stop` ends it")
    return state.api_url


def _configured_in_process() -> str | None:
    if "prefect.settings" not in sys.modules:
        return None
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None
