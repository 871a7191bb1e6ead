"""Shards: a stable split of sources or files among flow runs that write one lake at the same time.

Every run of shard k of n takes the items whose stable hash (sha1 of the name, not Python's salted hash())
falls in bucket k, on any host and in any run, so n runs started together cover everything exactly once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import TypeVar

T = TypeVar("T")


class ShardError(ValueError):
    """A shard that does not exist (k outside 0..n-1, n below 1); the message says which."""


def check_shard(shard: int, shards: int) -> None:
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise ShardError(f"shards must be 1 or more, got {shards!r}")
    if isinstance(shard, bool) or not isinstance(shard, int) or not 0 <= shard < shards:
        raise ShardError(f"shard must be between 0 and {shards - 1}, got {shard!r}")


def bucket(key: str, shards: int) -> int:
    """The shard (0..shards-1) of a key: the same on every host, in every run."""
    return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big") % shards


def in_shard(items: Iterable[T], shard: int, shards: int, key: Callable[[T], str] = str) -> list[T]:
    """The items of shard `shard` of `shards`, in their order."""
    check_shard(shard, shards)
    return [item for item in items if shards == 1 or bucket(key(item), shards) == shard]


def parse_shard(text: str) -> tuple[int, int]:
    """'K/N' (K from 0) -> (K, N); raises ShardError."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ShardError(f"a shard is written K/N (K from 0 to N-1), got {text!r}") from None
    check_shard(k, n)
    return k, n


def date_windows(since: date, until: date, windows: int) -> list[tuple[date, date]]:
    """[since, until] split into `windows` consecutive inclusive ranges of near-equal length (no day twice)."""
    if windows < 1:
        raise ShardError(f"windows must be 1 or more, got {windows!r}")
    if since > until:
        raise ShardError(f"{since} is after {until}")
    days = (until - since).days + 1
    windows = min(windows, days)
    edges = [since + timedelta(days=days * i // windows) for i in range(windows + 1)]
    return [(edges[i], edges[i + 1] - timedelta(days=1)) for i in range(windows)]
