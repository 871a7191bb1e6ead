"""Article pages fetched by one thread per host, handed on in batches as they finish.

A batch never waits for its slowest page: it is handed on when it is full or when its first page has
waited `batch_seconds`, and a page still downloading joins a later batch. So the pages of fast hosts are
parsed and committed while a slow host drips; a run stopped half-way has loaded what it finished.

`RunStop` is why a run stops taking new pages: its own deadline (`max_minutes`) or SIGTERM/SIGINT. The
first signal asks for a clean stop (what was fetched is parsed and committed, the rest is left to the
next run); a second one interrupts at once.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Generic, TypeVar

from flows.sources.web import FetchResult

J = TypeVar("J")


class RunStop:
    """A run's stop request: set by its deadline or a signal, read by every thread of the run."""

    def __init__(self, max_seconds: float | None = None) -> None:
        self.started = time.monotonic()
        self.max_seconds = max_seconds
        self._event = threading.Event()
        self.reason: str | None = None
        self._callbacks: list[Callable[[str], None]] = []

    def request(self, reason: str) -> None:
        """Stop taking new pages, for `reason` (the first reason given is kept)."""
        if self.reason is None:
            self.reason = reason
        self._event.set()
        for callback in list(self._callbacks):
            callback(self.reason)

    def on_stop(self, callback: Callable[[str], None]) -> None:
        """Call `callback(reason)` when the stop is requested (at once if it already is)."""
        self._callbacks.append(callback)
        if self._event.is_set() and self.reason is not None:
            callback(self.reason)

    def remaining(self) -> float | None:
        """Seconds left of the run's deadline, None when it has none."""
        if self.max_seconds is None:
            return None
        return self.max_seconds - (time.monotonic() - self.started)

    def is_set(self) -> bool:
        if not self._event.is_set():
            left = self.remaining()
            if left is not None and left <= 0 and self.max_seconds is not None:
                self.request(f"the run's deadline of {self.max_seconds / 60:g} min passed")
        return self._event.is_set()

    @contextmanager
    def on_signals(self) -> Iterator[RunStop]:
        """SIGTERM and SIGINT ask for a clean stop while the block runs (main thread only; elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

        def handle(signum: int, frame: FrameType | None) -> None:
            name = signal.Signals(signum).name
            if self._event.is_set():  # asked twice: stop now
                raise KeyboardInterrupt(f"{name} received twice")
            self.request(f"stopped by {name}")

        for sig in previous:
            signal.signal(sig, handle)
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@dataclass(frozen=True, slots=True)
class FetchedBatch(Generic[J]):
    pages: list[tuple[J, FetchResult]]
    seconds: float  # time the batch's pages took to arrive, from the previous batch on


class PageStream(Generic[J]):
    """Fetch jobs grouped by host, one thread per host (order kept within a host), and yield finished
    pages in batches. `fetch` answers a job with its result, and with the results of jobs it brought along (a
    page's spreadsheets), or with nothing. A group is a list of jobs, or a function returning them that the host's thread
    calls first (so a host whose list pages are slow delays only itself). At most `2 * batch_size`
    finished pages wait in memory: host threads pause when the parser falls behind. Iterate once;
    `unfinished` then lists the jobs never fetched. An error in a host's thread is raised at the end."""

    def __init__(
        self,
        groups: Sequence[list[J] | Callable[[], list[J]]],
        fetch: Callable[[J], Sequence[tuple[J, FetchResult]]],
        *,
        batch_size: int = 250,
        batch_seconds: float = 5.0,
        stop: RunStop | None = None,
    ) -> None:
        self.groups = [g if callable(g) else list(g) for g in groups if g]
        self.fetch = fetch
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        self.stop = stop or RunStop()
        self._done: queue.Queue[tuple[J, FetchResult] | None] = queue.Queue(maxsize=2 * self.batch_size)
        self._finished: set[int] = set()  # id() of jobs whose result was handed on
        self._jobs: list[J] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.error: BaseException | None = None

    def is_finished(self, job: J) -> bool:
        """True when the job's result was handed on in a batch."""
        return id(job) in self._finished

    @property
    def unfinished(self) -> list[J]:
        with self._lock:
            return [job for job in self._jobs if id(job) not in self._finished]

    def _jobs_of(self, group: list[J] | Callable[[], list[J]]) -> list[J]:
        if not callable(group):
            return group
        return [] if self.stop.is_set() else group()

    def _work(self, group: list[J] | Callable[[], list[J]]) -> None:
        try:
            jobs = self._jobs_of(group)
            with self._lock:
                self._jobs += jobs
            for job in jobs:
                if self._closing.is_set() or self.stop.is_set():
                    return
                pairs = self.fetch(job)
                if not pairs:  # nothing to hand on (a spreadsheet fetched already): the job is done all the same
                    with self._lock:
                        self._finished.add(id(job))
                for pair in pairs:
                    while not self._closing.is_set():
                        try:
                            self._done.put(pair, timeout=0.2)
                            break
                        except queue.Full:
                            continue
        except Exception as exc:  # a bug, not a page's failure (those are results): fail the run at the end
            self.error = self.error or exc
        finally:
            self._put_end()

    def _put_end(self) -> None:
        while not self._closing.is_set():
            try:
                self._done.put(None, timeout=0.2)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[FetchedBatch[J]]:
        threads = [
            threading.Thread(target=self._work, args=(group,), name=f"fetch-{n}", daemon=True)
            for n, group in enumerate(self.groups)
        ]
        for thread in threads:
            thread.start()
        running = len(threads)
        pages: list[tuple[J, FetchResult]] = []
        first_at: float | None = None
        started = time.perf_counter()
        try:
            while running and not self.stop.is_set():
                wait = 0.5 if first_at is None else max(0.0, first_at + self.batch_seconds - time.monotonic())
                try:
                    item: tuple[J, FetchResult] | bool | None = self._done.get(timeout=min(wait, 0.5))
                except queue.Empty:
                    item = False  # nothing arrived: maybe time to hand on a partial batch
                if item is None:
                    running -= 1
                elif isinstance(item, tuple):
                    pages.append(item)
                    self._finished.add(id(item[0]))
                    first_at = first_at or time.monotonic()
                full = len(pages) >= self.batch_size
                late = first_at is not None and time.monotonic() - first_at >= self.batch_seconds
                if pages and (full or late or not running):
                    yield FetchedBatch(pages, time.perf_counter() - started)
                    pages, first_at, started = [], None, time.perf_counter()
            # Stopped: what has arrived is handed on; pages still downloading are left to the next run.
            while True:
                try:
                    item = self._done.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    pages.append(item)
                    self._finished.add(id(item[0]))
            if pages:
                yield FetchedBatch(pages, time.perf_counter() - started)
        finally:
            self._closing.set()  # host threads stop after their current request (bounded by its deadline)
        if self.error is not None:
            raise self.error
