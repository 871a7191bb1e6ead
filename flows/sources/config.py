"""sources.toml -> validated, frozen Source records (and the crawler's own settings)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

USER_AGENT = "civic-ingest/0.1 (civil-affairs statistics research crawler; obeys robots.txt)"
SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SOURCE_KEYS = frozenset(
    {
        "name",
        "start_urls",
        "article_url_pattern",
        "list_url_pattern",
        "rate_limit",
        "allowed_domains",
        "max_list_pages",
        "content_selector",
        "region",
        "verified",
        "notes",
        "deadline",
    }
)
FETCH_KEYS = frozenset(
    {
        "user_agent",
        "timeout",
        "deadline",
        "max_bytes",
        "max_attachment_bytes",
        "max_redirects",
        "max_retries",
        "backoff_seconds",
        "max_retry_after",
        "max_attempts",
    }
)


class SourceConfigError(ValueError):
    """sources.toml cannot be used; the message names the file, the entry and the problem."""


@dataclass(frozen=True, slots=True)
class Source:
    """One site section to crawl: where its lists start, which links are articles, how politely to ask."""

    name: str
    start_urls: tuple[str, ...]
    # Links that are articles; None: the CMS family's own article links (plain links: a URL-shape default).
    article_url_pattern: re.Pattern[str] | None = None
    list_url_pattern: re.Pattern[str] | None = None
    rate_limit: float = 1.0  # requests per second to each of the source's hosts
    allowed_domains: tuple[str, ...] = ()  # hosts (and their subdomains) links and redirects may go to
    max_list_pages: int = 5  # list pages followed from each start URL, the start page included
    content_selector: str | None = None
    region: str | None = None
    verified: bool = False  # checked against the live site
    deadline: float | None = None  # seconds one request may take in all (None: [fetch] deadline)

    @property
    def host(self) -> str:
        """The host of the first start URL: sources sharing it are crawled by one thread."""
        return urlsplit(self.start_urls[0]).hostname or ""

    def allows(self, url: str) -> bool:
        """True when the URL's host is one of the allowed domains or a subdomain of one."""
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How the crawler behaves on every host."""

    user_agent: str = USER_AGENT
    timeout: float = 10.0  # seconds to connect, and at most between two bytes of an answer
    # Seconds one request may take in all: connect, headers and the whole body. A server that drips its
    # answer a byte at a time never trips `timeout`; this ends it, so one host cannot hold a run.
    deadline: float = 30.0
    max_bytes: int = 8 * 1024 * 1024  # article pages are ~100 KiB; anything this large is not an article
    max_attachment_bytes: int = 20 * 1024 * 1024  # statistics spreadsheets linked from pages (.xls/.xlsx)
    max_redirects: int = 5  # hops followed for one URL
    max_retries: int = 3  # extra attempts within a run on timeouts, 5xx and 429
    backoff_seconds: float = 2.0  # first retry waits this long, then doubles
    max_retry_after: float = 120.0  # a longer Retry-After ends this run's attempts at the page
    max_attempts: int = 8  # runs in a row a failing article is retried before it is left alone


@dataclass(frozen=True, slots=True)
class SourcesConfig:
    sources: tuple[Source, ...]
    fetch: FetchSettings = field(default_factory=FetchSettings)

    def select(self, names: Sequence[str] | None) -> tuple[Source, ...]:
        """The named sources (all when none are named); raises SourceConfigError for unknown names."""
        if not names:
            return self.sources
        known = {s.name: s for s in self.sources}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise SourceConfigError(f"unknown source(s) {', '.join(unknown)}; configured: {', '.join(known)}")
        return tuple(known[n] for n in dict.fromkeys(names))

    def source_for_url(self, url: str) -> Source | None:
        """The first source whose domains include the URL's host."""
        return next((s for s in self.sources if s.allows(url)), None)


def load_sources(path: str | Path) -> SourcesConfig:
    """Read and validate a sources file; raises SourceConfigError with the file and entry named."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceConfigError(f"cannot read sources file {path}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return parse_sources(data)
    except SourceConfigError as exc:
        raise SourceConfigError(f"{path}: {exc}") from exc


def parse_sources(data: Mapping[str, Any]) -> SourcesConfig:
    """SourcesConfig from parsed TOML: `[fetch]` settings and `[[source]]` entries."""
    entries = data.get("source", [])
    if not isinstance(entries, list) or not entries:
        raise SourceConfigError("no [[source]] entries")
    sources = tuple(parse_source(entry, n) for n, entry in enumerate(entries, start=1))
    duplicates = sorted({s.name for s in sources if sum(t.name == s.name for t in sources) > 1})
    if duplicates:
        raise SourceConfigError(f"source names must be unique: {', '.join(duplicates)}")
    return SourcesConfig(sources, parse_fetch_settings(data.get("fetch", {})))


def parse_fetch_settings(table: Mapping[str, Any]) -> FetchSettings:
    _reject_unknown(table, FETCH_KEYS, "[fetch]")
    defaults = FetchSettings()
    values = {key: table.get(key, getattr(defaults, key)) for key in FETCH_KEYS}
    for key in ("timeout", "deadline", "backoff_seconds", "max_retry_after"):
        values[key] = _positive_number(values[key], f"[fetch] {key}", allow_zero=key == "backoff_seconds")
    for key in ("max_bytes", "max_attachment_bytes", "max_redirects", "max_retries", "max_attempts"):
        if not isinstance(values[key], int) or values[key] < (0 if key in ("max_retries", "max_redirects") else 1):
            raise SourceConfigError(f"[fetch] {key} must be a positive integer, got {values[key]!r}")
    if not isinstance(values["user_agent"], str) or not values["user_agent"].strip():
        raise SourceConfigError("[fetch] user_agent must be a non-empty string")
    return FetchSettings(**values)


def parse_source(entry: Any, position: int) -> Source:
    """One validated Source from a [[source]] table (position is 1-based, for messages)."""
    if not isinstance(entry, dict):
        raise SourceConfigError(f"[[source]] #{position} is not a table")
    name = entry.get("name")
    where = f"[[source]] #{position}" + (f" ({name})" if isinstance(name, str) else "")
    _reject_unknown(entry, SOURCE_KEYS, where)
    if not isinstance(name, str) or not SOURCE_NAME.match(name):
        raise SourceConfigError(f"{where}: name must be lower-case letters, digits, '-' or '_', got {name!r}")
    start_urls = _string_list(entry.get("start_urls"), f"{where}: start_urls")
    if not start_urls:
        raise SourceConfigError(f"{where}: start_urls must list at least one URL")
    for url in start_urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceConfigError(f"{where}: start URL {url!r} is not an http(s) URL")
    domains = _string_list(entry.get("allowed_domains", []), f"{where}: allowed_domains")
    if not domains:
        domains = tuple(dict.fromkeys(urlsplit(u).hostname or "" for u in start_urls))
    list_pattern = entry.get("list_url_pattern")
    article_pattern = entry.get("article_url_pattern")
    max_pages = entry.get("max_list_pages", 5)
    if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
        raise SourceConfigError(f"{where}: max_list_pages must be a positive integer, got {max_pages!r}")
    verified = entry.get("verified", False)
    if not isinstance(verified, bool):
        raise SourceConfigError(f"{where}: verified must be true or false")
    return Source(
        name=name,
        start_urls=start_urls,
        article_url_pattern=(
            _regex(article_pattern, f"{where}: article_url_pattern") if article_pattern is not None else None
        ),
        list_url_pattern=_regex(list_pattern, f"{where}: list_url_pattern") if list_pattern is not None else None,
        rate_limit=_positive_number(entry.get("rate_limit", 1.0), f"{where}: rate_limit"),
        allowed_domains=tuple(d.lower().lstrip(".") for d in domains),
        max_list_pages=max_pages,
        content_selector=_optional_string(entry.get("content_selector"), f"{where}: content_selector"),
        region=_optional_string(entry.get("region"), f"{where}: region"),
        verified=verified,
        deadline=_positive_number(entry["deadline"], f"{where}: deadline") if "deadline" in entry else None,
    )


def _reject_unknown(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise SourceConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _string_list(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SourceConfigError(f"{what} must be a list of strings, got {value!r}")
    return tuple(v.strip() for v in value)


def _optional_string(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SourceConfigError(f"{what} must be a non-empty string, got {value!r}")
    return value.strip()


def _regex(value: Any, what: str) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise SourceConfigError(f"{what} must be a regular expression string, got {value!r}")
    try:
        return re.compile(value)
    except re.error as exc:
        raise SourceConfigError(f"{what} is not a valid regular expression ({exc}): {value!r}") from exc


def _positive_number(value: Any, what: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (value == 0 and not allow_zero):
        raise SourceConfigError(f"{what} must be a positive number, got {value!r}")
    return float(value)
