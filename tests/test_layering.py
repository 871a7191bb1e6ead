"""Imports only go one way (STYLE.md §1): flows -> parsers, flows -> warehouse -> parsers.records."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "parsers": {"prefect", "duckdb", "requests", "flows", "warehouse"},
    "warehouse": {"prefect", "flows"},
}


def imported_modules(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Absolute module names a source file imports (anywhere, or only outside function and class bodies)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    statements = [s for s in tree.body if not (top_level_only and isinstance(s, scopes))]
    found = set()
    for node in (n for s in statements for n in ast.walk(s)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def sources(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no sources under {package}/"
    return files


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_does_not_import_against_the_direction(package: str) -> None:
    violations = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sources(package)
        for module in sorted(imported_modules(path))
        if module.split(".")[0] in FORBIDDEN[package]
    ]
    assert not violations, "\n".join(violations)


def test_warehouse_uses_only_the_record_types_of_parsers() -> None:
    used = {m for path in sources("warehouse") for m in imported_modules(path) if m.split(".")[0] == "parsers"}
    assert used <= {"parsers.records"}


def test_shared_test_fixtures_do_not_load_prefect() -> None:
    # Parser tests share tests/conftest.py: Prefect may be imported inside a fixture, never at module level.
    assert not {m for m in imported_modules(ROOT / "tests" / "conftest.py", top_level_only=True) if "prefect" in m}


def test_the_checker_sees_imports() -> None:
    expected = {"prefect", "prefect.artifacts", "flows", "warehouse.load"}
    assert imported_modules(ROOT / "flows" / "pipeline.py") >= expected
