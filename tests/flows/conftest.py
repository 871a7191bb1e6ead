"""Fixtures for the crawler tests: the fixture sites served on 127.0.0.1 and 127.0.0.2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.site import Sites, start_sites


@pytest.fixture(scope="module")
def module_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    """Both fixture sites, shared by a module's tests (their scripted failures are used up once)."""
    yield from start_sites(tmp_path_factory.mktemp("sites"))


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[Sites]:
    """Both fixture sites, fresh for one test."""
    yield from start_sites(tmp_path)
