"""Local files as raw documents: .txt and .html/.htm under the given files or folders."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from parsers.records import RawDocument

TEXT_SUFFIXES = frozenset({".txt"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".shtml"})


class InputError(ValueError):
    """A path given by the user that does not exist or holds nothing to ingest."""


def discover_files(paths: Iterable[str]) -> list[str]:
    """Supported files under the given paths, in a stable order; paths stay as the user gave them."""
    found: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(
                str(p) if not given.endswith("/") else str(Path(given) / p.relative_to(path))
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES | HTML_SUFFIXES
            )
        elif path.is_file():
            found.append(given)
        else:
            raise InputError(f"no such file or folder: {given}")
    return list(dict.fromkeys(found))


def read_file(path: str) -> RawDocument:
    """The bytes of one file; raises OSError when it cannot be read."""
    suffix = Path(path).suffix.lower()
    return RawDocument(uri=path, content=Path(path).read_bytes(), is_html=suffix in HTML_SUFFIXES)
