"""Wall-clock deadlines for requests: connect, headers and the whole body, however slowly the bytes come.

A socket timeout bounds the wait for the *next* byte; a server dripping one byte every few seconds never
trips it. Here one watchdog thread keeps the deadlines of every request in flight, and when one passes it
shuts the request's socket down: the thread blocked reading it wakes with an error at once, sees that its
deadline passed, and moves on to the host's next page. The socket is found through the connection pool
classes of the client's sessions, which hand each connection to the deadline of the request using it.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()  # the deadline of the request this thread is making


class Deadline:
    """One request's deadline: knows its connection, and whether it has passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.at = self.started + seconds
        self.expired = False
        self._conn: Any = None
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def passed(self) -> bool:
        return self.expired or time.monotonic() >= self.at

    def attach(self, conn: Any) -> None:
        """The connection this request uses (called by the pool just before the request is sent)."""
        with self._lock:
            self._conn = conn
            expired = self.expired
        if expired:
            _shut(conn)

    def expire(self) -> None:
        """Called by the watchdog: mark the deadline passed and cut the connection, if any."""
        with self._lock:
            self.expired = True
            conn = self._conn
        if conn is not None:
            _shut(conn)


def _shut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    # socket.socket's own shutdown, also for an SSL socket: wakes a blocked recv without touching TLS state.
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Watchdog:
    """One daemon thread expiring the deadlines of all requests in flight, earliest first."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._counter = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, seconds: float) -> Iterator[Deadline]:
        """A deadline for the requests made by this thread inside the block."""
        deadline = Deadline(seconds)
        with self._wake:
            heapq.heappush(self._heap, (deadline.at, next(self._counter), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="request-deadlines", daemon=True)
                self._thread.start()
            self._wake.notify()
        previous = getattr(_current, "deadline", None)
        _current.deadline = deadline
        try:
            yield deadline
        finally:
            _current.deadline = previous
            with deadline._lock:
                deadline._conn = None
            deadline.at = -1.0  # done: the watchdog drops it

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap:
                    self._wake.wait(60.0)
                    if not self._heap:
                        self._thread = None
                        return  # idle for a minute: the next watch starts a new thread
                at, _, deadline = self._heap[0]
                if deadline.at < 0:
                    heapq.heappop(self._heap)
                    continue
                wait = at - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
            deadline.expire()


WATCHDOG = Watchdog()


def current_deadline() -> Deadline | None:
    return getattr(_current, "deadline", None)


class _WatchedPool:
    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        deadline = current_deadline()
        if deadline is not None:
            deadline.attach(conn)
        return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]


class WatchedHTTPPool(_WatchedPool, HTTPConnectionPool):
    pass


class WatchedHTTPSPool(_WatchedPool, HTTPSConnectionPool):
    pass


WATCHED_POOLS = {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """requests' adapter with connection pools (direct and through a proxy) whose connections a Deadline can cut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = dict(WATCHED_POOLS)
        return manager


def watched_session() -> requests.Session:
    """A requests session whose connections a Deadline can cut."""
    session = requests.Session()
    session.mount("http://", WatchedAdapter())
    session.mount("https://", WatchedAdapter())
    return session
