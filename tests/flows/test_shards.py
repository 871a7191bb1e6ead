"""Shards and date windows: n runs side by side cover every source, file or day exactly once."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date

import pytest

from flows.shards import ShardError, bucket, date_windows, in_shard, parse_shard

SOURCES = [f"{province}-mzt" for province in ("jiangsu", "zhejiang", "anhui", "fujian", "jiangxi", "shandong")] + [
    f"city-{n:03d}" for n in range(60)
]


@pytest.mark.parametrize("shards", [1, 2, 3, 7])
def test_shards_split_the_sources_disjointly_and_cover_them_all(shards: int) -> None:
    parts = [in_shard(SOURCES, k, shards) for k in range(shards)]
    assert sorted(s for part in parts for s in part) == sorted(SOURCES)
    assert all(part == [s for s in SOURCES if s in part] for part in parts), "each shard keeps the order"
    if shards > 1:
        assert all(parts), "66 names leave no shard empty"


def test_a_shard_is_the_same_on_every_host_and_run() -> None:
    # sha1, not Python's hash(): a worker on another host (another PYTHONHASHSEED) must agree.
    assert [bucket(s, 4) for s in ("province", "city", "jiangsu-mzt")] == [
        int.from_bytes(hashlib.sha1(s.encode()).digest()[:8], "big") % 4 for s in ("province", "city", "jiangsu-mzt")
    ]


def test_shard_arguments_are_checked() -> None:
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(ShardError):
            parse_shard(bad)
    with pytest.raises(ShardError, match="between 0 and 1"):
        in_shard(SOURCES, 2, 2)


def test_date_windows_cover_the_range_without_a_day_twice() -> None:
    windows = date_windows(date(2024, 1, 1), date(2024, 12, 31), 4)
    assert windows[0][0] == date(2024, 1, 1) and windows[-1][1] == date(2024, 12, 31)
    assert all((b[0] - a[1]).days == 1 for a, b in itertools.pairwise(windows))
    assert sorted((end - start).days + 1 for start, end in windows) == [91, 91, 92, 92]
    assert date_windows(date(2024, 1, 1), date(2024, 1, 2), 5) == [
        (date(2024, 1, 1), date(2024, 1, 1)),
        (date(2024, 1, 2), date(2024, 1, 2)),
    ]
    with pytest.raises(ShardError):
        date_windows(date(2024, 2, 1), date(2024, 1, 1), 2)
