"""HTTP for the crawler: canonical URLs, robots.txt, per-host pacing, retries, challenge pages, form POSTs.

Which links of a page are articles and which pages come next is discovery's (flows/sources/discovery.py and
the CMS families in flows/sources/families/).

One `WebClient` serves a whole run: it keeps a session (cookie jar) and a token bucket per host, so pages
of one host are never requested faster than the host's limit, whichever thread asks. Every request either
succeeds or comes back as a `FetchResult` that says what happened; nothing here raises for one bad page.
"""

from __future__ import annotations

import email.utils
import logging
import math
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from http.client import HTTPException
from posixpath import normpath
from urllib.parse import urljoin, urlsplit, urlunsplit

import courlan
import requests
import urllib3.exceptions
from protego import Protego
from urllib3.exceptions import NameResolutionError

from flows.sources.bodies import (
    ACCEPT_ENCODING,
    GZIP_MAGIC,
    SNIFF_BYTES,
    BodyTooLarge,
    CappedDecoder,
    UnsupportedEncoding,
    looks_like_html,
    sniff_binary,
)
from flows.sources.challenge import CHALLENGE_STATUSES, PEEK_BYTES, challenge_error, is_challenge
from flows.sources.config import FetchSettings, Source, SourcesConfig, load_sources
from flows.sources.deadlines import WATCHDOG, Deadline, watched_session
from flows.sources.redirects import IPAddress, ip_literal, redirect_refusal
from parsers.records import RawDocument

log = logging.getLogger(__name__)

# --- canonical URLs ------------------------------------------------------------------------------
INDEX_PAGE = re.compile(r"/(?:index|default)\.(?:s?html?|jsp|php|aspx?)$", re.IGNORECASE)
# Share and tracking parameters courlan does not know (Chinese platforms).
EXTRA_TRACKING = frozenset({"spm", "isappinstalled", "share_token", "sharer_shareid", "from_uid", "wxfrom"})
ATTACHMENT = re.compile(
    r"\.(?:pdf|ofd|docx?|wps|xlsx?|et|pptx?|zip|rar|7z|tar|gz|jpe?g|png|gif|bmp|tiff?|mp[34]|avi|flv|wmv|apk|exe)$",
    re.IGNORECASE,
)

# --- dates in URLs and list entries --------------------------------------------------------------
URL_DATES = (
    re.compile(r"/(?P<y>20\d{2}|19\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/"),  # Hanweb /art/2024/3/5/, /cols/…
    re.compile(r"[/_]t(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})_"),  # TRS t20240305_123.html
    re.compile(r"/(?P<y>\d{4})-(?P<m>\d{2})/(?P<d>\d{2})/"),  # /2024-03/05/content_…
    re.compile(r"/(?P<y>20\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)/"),  # /20240305/…
    re.compile(r"/(?P<y>20\d{2})/(?P<m>[01]\d)(?P<d>[0-3]\d)/"),  # people.com.cn /n1/2024/0305/
)
TEXT_DATE = re.compile(r"(?P<y>(?:19|20)\d{2})\s*[-年/.]\s*(?P<m>\d{1,2})\s*[-月/.]\s*(?P<d>\d{1,2})")
# TRS list pages build their pager in JavaScript: createPageHTML(pages, current, "index", "html").
# The root element, after an XML declaration, comments and a DOCTYPE (whose internal subset may declare entities).
FEED_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)?"
    rb"(?:<!--.*?-->\s*)*<([A-Za-z:]+)",
    re.DOTALL,
)

# --- HTTP ----------------------------------------------------------------------------------------
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {"application/xml", "text/xml", "application/rss+xml", "application/atom+xml", "application/rdf+xml"}
    | {"application/json", "text/json", "text/javascript", "application/javascript"}  # list APIs (gkmlpt)
)
SNIFFED_TYPES = frozenset({None, "application/octet-stream", "text/plain"})  # servers that mislabel pages
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5  # default of [fetch] max_redirects
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB
CHUNK = 64 * 1024


def canonical_url(url: str) -> str:
    """One spelling per page: lower-case host, no default port, fragment or tracking parameters,
    sorted query, dot segments resolved, and `…/index.html` written as `…/`."""
    cleaned = courlan.clean_url(url) or url
    parts = urlsplit(cleaned)
    path = parts.path or "/"
    if "/." in path:
        path = normpath(path) + ("/" if path.endswith("/") and path != "/" else "")
    path = INDEX_PAGE.sub("/", path)
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and pair.split("=", 1)[0].lower() not in EXTRA_TRACKING
    )
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def is_attachment_url(url: str) -> bool:
    """True when the URL's path names a document or media file rather than a web page."""
    return bool(ATTACHMENT.search(urlsplit(url).path))


def url_date(url: str) -> date | None:
    """The publication date a CMS writes into article URLs (Hanweb, TRS, news sites), if any."""
    for pattern in URL_DATES:
        match = pattern.search(url)
        if match:
            found = _date(match)
            if found:
                return found
    return None


def text_date(text: str) -> date | None:
    """The first plausible date written in a piece of text (2024-03-05, 2024年3月5日, 2024/03/05)."""
    match = TEXT_DATE.search(text)
    return _date(match) if match else None


def _date(match: re.Match[str]) -> date | None:
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


# --- link discovery ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Link:
    """A link found on a list page, feed or sitemap."""

    url: str  # absolute, as published: what is requested
    canonical: str  # identity: what is stored and compared
    date: date | None = None  # from the list entry, the feed item or the URL
    is_list: bool = False  # a sitemap of a sitemap index, or a page of a scripted pager


def page_kind(content: bytes) -> str:
    """rss | atom | sitemap | sitemapindex | html, decided by the document's root element (not its type)."""
    match = FEED_ROOT.match(content[:4096])
    root = match.group(1).decode("ascii").lower().rsplit(":", 1)[-1] if match else ""
    kinds = {"rss": "rss", "rdf": "rss", "feed": "atom", "urlset": "sitemap", "sitemapindex": "sitemapindex"}
    return kinds.get(root, "html")


def make_link(href: str, base_url: str, *, found_date: date | None = None, is_list: bool = False) -> Link | None:
    """An absolute http(s) Link for an href, or None for javascript:, mailto:, fragments and junk."""
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        url = urljoin(base_url, href).split("#", 1)[0]
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            return None
        return Link(url, canonical_url(url), found_date or url_date(url), is_list)
    except ValueError:  # "http://[bad" and other unparseable hrefs: one broken link, not a broken page
        return None


# --- politeness ----------------------------------------------------------------------------------
class TokenBucket:
    """Requests to one host spaced to `rate` per second (bucket of one: no bursts), safe across threads."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._tokens = 1.0
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def slow_to(self, rate: float) -> None:
        """Lower the rate (a robots.txt Crawl-delay, a second source on the same host); never raise it."""
        with self._lock:
            self.rate = min(self.rate, rate)

    def acquire(self) -> float:
        """Wait for a token; returns the seconds waited."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(1.0, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            wait = 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate
            self._tokens -= 1.0  # reserve the token now, so a second thread waits behind this one
        if wait > 0:
            time.sleep(wait)
        return wait


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """What robots.txt allows our user agent on one host."""

    parser: Protego | None  # None: everything allowed
    crawl_delay: float | None = None
    # robots.txt unreachable (5xx, 429, network): RFC 9309 says assume everything disallowed. The host's
    # pages then fail with this result's outcome and error, so the run reports them and retries next time.
    unreachable: FetchResult | None = None

    @property
    def disallow_all(self) -> bool:
        return self.unreachable is not None

    def allows(self, url: str, user_agent: str) -> bool:
        if self.disallow_all:
            return False
        return self.parser is None or bool(self.parser.can_fetch(url, robots_token(user_agent)))


def robots_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched on: `civic-ingest` of `civic-ingest/0.1 (…)`."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "*"


def parse_robots(text: str, user_agent: str) -> RobotsRules:
    """RobotsRules from robots.txt text (Protego: `*` and `$` wildcards, longest match, fractional Crawl-delay)."""
    parser = Protego.parse(text)
    declared = parser.crawl_delay(robots_token(user_agent))
    delay = float(declared) if declared else None
    if delay is None:
        rate = parser.request_rate(robots_token(user_agent))  # Request-rate: 1/5 is a Crawl-delay of 5 s
        if rate and rate.requests:
            delay = rate.seconds / rate.requests
    return RobotsRules(parser, crawl_delay=delay or None)


# --- fetching ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one URL gave: content on success, otherwise the status and error. Never raised."""

    url: str  # as requested
    canonical: str
    # 200 | 304 | 3xx (also a refused redirect) | 4xx | 5xx | network_error | deadline | too_large | not_a_page
    # (binary bytes under a page's Content-Type) | unreadable | robots_blocked | skipped_non_html | blocked (an
    # anti-bot challenge page)
    outcome: str
    status: int | None = None  # last HTTP status; None when no response came
    final_url: str = ""  # after redirects
    content: bytes = b""
    content_type: str | None = None
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    retries: int = 0
    requested: bool = True  # False when decided without a request (robots, attachment by name)

    @property
    def is_ok(self) -> bool:
        return self.outcome == "200"


class _Stop(Exception):
    """A final answer for this URL within this run (no retry)."""

    def __init__(self, outcome: str, error: str, status: int | None = None) -> None:
        super().__init__(error)
        self.outcome, self.error, self.status = outcome, error, status


class _Retry(Exception):
    """A transient failure: try again after `delay` seconds, if attempts remain."""

    def __init__(self, outcome: str, error: str, status: int | None, delay: float | None) -> None:
        super().__init__(error)
        self.outcome, self.error, self.status, self.delay = outcome, error, status, delay


@dataclass(slots=True)
class WebClient:
    """Sessions, token buckets and robots rules per host, shared by every thread of a run."""

    settings: FetchSettings = field(default_factory=FetchSettings)
    default_rate: float = 1.0
    _domain_rates: dict[str, float] = field(default_factory=dict)  # allowed domain -> requests per second
    _domain_deadlines: dict[str, float] = field(default_factory=dict)  # allowed domain -> seconds per request
    _addresses: dict[str, tuple[IPAddress, ...]] = field(default_factory=dict)  # host -> resolved addresses
    _active: set[Deadline] = field(default_factory=set)  # requests in flight
    _stopped: threading.Event = field(default_factory=threading.Event)
    _stop_reason: str = ""
    _buckets: dict[str, TokenBucket] = field(default_factory=dict)
    _robots: dict[str, RobotsRules] = field(default_factory=dict)
    _sessions: dict[str, requests.Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _host_locks: dict[str, threading.Lock] = field(default_factory=dict)

    @classmethod
    def for_sources(cls, settings: FetchSettings, sources: Iterable[Source]) -> WebClient:
        """A client pacing each host at the rate limit of the sources whose domains include it (the lowest)."""
        client = cls(settings)
        for source in sources:
            for domain in (*source.allowed_domains, *(urlsplit(u).hostname or "" for u in source.start_urls)):
                client._domain_rates[domain] = min(source.rate_limit, client._domain_rates.get(domain, math.inf))
                if source.deadline is not None:
                    known = client._domain_deadlines.get(domain, math.inf)
                    client._domain_deadlines[domain] = min(source.deadline, known)
        return client

    def deadline_for(self, url: str) -> float:
        """Seconds one request to the URL's host may take: its sources' `deadline`, else [fetch] deadline."""
        host = (urlsplit(url).hostname or "").lower()
        found = [s for d, s in self._domain_deadlines.items() if host == d or host.endswith("." + d)]
        return min(found, default=self.settings.deadline)

    def host_addresses(self, host: str) -> tuple[IPAddress, ...]:
        """The addresses a host name resolves to (its own address for an IP literal), cached; () when unknown."""
        literal = ip_literal(host)
        if literal is not None:
            return (literal,)
        with self._lock:
            if host in self._addresses:
                return self._addresses[host]
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            found = tuple(dict.fromkeys(a for a in (ip_literal(str(i[4][0])) for i in infos) if a is not None))
        except OSError:
            found = ()  # the request itself will fail with a DNS error
        with self._lock:
            self._addresses[host] = found
        return found

    def set_rate(self, url: str, rate: float) -> None:
        """Limit requests to the URL's host to `rate` per second (the lowest limit asked for wins)."""
        self._bucket(url, rate).slow_to(rate)

    def _bucket(self, url: str, rate: float | None = None) -> TokenBucket:
        key = _host_key(url)
        with self._lock:
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(rate or self._host_rate(url))
            return self._buckets[key]

    def _host_rate(self, url: str) -> float:
        host = (urlsplit(url).hostname or "").lower()
        rates = [r for d, r in self._domain_rates.items() if host == d or host.endswith("." + d)]
        return min(rates, default=self.default_rate)

    def _session(self, url: str) -> requests.Session:
        key = _host_key(url)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = watched_session()
                session.headers.update(
                    {
                        "User-Agent": self.settings.user_agent,
                        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                        "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
                        "Accept-Encoding": ACCEPT_ENCODING,  # only codings we inflate under the size cap
                    }
                )
                session.max_redirects = self.settings.max_redirects
                # The environment's proxy and CA settings, read once for the host instead of on every request
                # (requests does that when trust_env is on: a third of its per-request CPU on a fast link).
                session.trust_env = False
                session.proxies.update(requests.utils.get_environ_proxies(key))
                session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
                self._sessions[key] = session
            return session

    def abort(self, reason: str) -> None:
        """Stop the run's requests: those in flight are cut now, later ones are not made ("stopped")."""
        with self._lock:
            self._stop_reason = self._stop_reason or reason
            self._stopped.set()
            active = list(self._active)
        for watch in active:
            watch.expire()

    def _check_stop(self) -> None:
        if self._stopped.is_set():
            raise _Stop("stopped", f"not fetched: {self._stop_reason}")

    def close(self) -> None:
        with self._lock:
            for session in self._sessions.values():
                session.close()
            self._sessions.clear()

    # robots.txt ---------------------------------------------------------------------------------
    def robots(self, url: str) -> RobotsRules:
        """The host's robots rules, fetched once per client (the first caller fetches, others wait)."""
        key = _host_key(url)
        with self._lock:
            host_lock = self._host_locks.setdefault(key, threading.Lock())
        with host_lock:
            if key not in self._robots:
                rules = self._fetch_robots(key)
                if rules.crawl_delay:
                    self._bucket(url).slow_to(1.0 / rules.crawl_delay)
                self._robots[key] = rules
            return self._robots[key]

    def _fetch_robots(self, host_key: str) -> RobotsRules:
        url = host_key + "/robots.txt"
        result = self._get(url, allowed=lambda _: True, check_robots=False, accept="any", max_bytes=ROBOTS_MAX_BYTES)
        if result.is_ok:
            text = result.content.decode("utf-8", "replace")
            return parse_robots(text, self.settings.user_agent)
        if result.status is not None and 400 <= result.status < 500 and result.status != 429:
            return RobotsRules(None)  # no robots.txt: everything allowed
        log.warning("robots.txt of %s unreachable (%s): not crawling the host this run", host_key, result.error)
        return RobotsRules(None, unreachable=result)

    # pages --------------------------------------------------------------------------------------
    def fetch(
        self,
        url: str,
        *,
        allowed: Callable[[str], bool],
        etag: str | None = None,
        last_modified: str | None = None,
        accept_feeds: bool = False,
    ) -> FetchResult:
        """GET one page politely: robots, pacing, retries, redirects inside `allowed`, size and type checks."""
        if is_attachment_url(url):
            return FetchResult(url, canonical_url(url), "skipped_non_html", error="attachment", requested=False)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        accept = "list" if accept_feeds else "html"
        return unless_challenge(self._get(url, allowed=allowed, headers=headers, accept=accept))

    def fetch_attachment(
        self, url: str, *, allowed: Callable[[str], bool], max_bytes: int | None = None
    ) -> FetchResult:
        """GET a document linked from a page (a spreadsheet): same politeness, any type, size-capped."""
        limit = max_bytes or self.settings.max_attachment_bytes
        return unless_challenge(self._get(url, allowed=allowed, accept="any", max_bytes=limit))

    def post(
        self, url: str, data: Mapping[str, str], *, allowed: Callable[[str], bool], accept: str = "any"
    ) -> FetchResult:
        """POST a form (Hanweb's dataproxy.jsp) politely: robots, the host's pacing, retries, the request's
        deadline, as a GET; a redirect of a form is not followed."""
        return unless_challenge(self._get(url, allowed=allowed, accept=accept, form=data))

    def _get(
        self,
        url: str,
        *,
        allowed: Callable[[str], bool],
        headers: Mapping[str, str] | None = None,
        check_robots: bool = True,
        accept: str = "html",
        max_bytes: int | None = None,
        form: Mapping[str, str] | None = None,
    ) -> FetchResult:
        canonical = canonical_url(url)
        deadline = self.deadline_for(url)
        started = time.monotonic()
        retries = 0
        while True:
            try:
                return self._attempt(
                    url,
                    canonical,
                    allowed=allowed,
                    headers=headers or {},
                    check_robots=check_robots,
                    accept=accept,
                    max_bytes=max_bytes or self.settings.max_bytes,
                    retries=retries,
                    deadline=deadline,
                    form=form,
                )
            except _Stop as stop:
                if self._stopped.is_set() and stop.outcome != "200":
                    stop = _Stop("stopped", f"not fetched: {self._stop_reason}")
                if stop.outcome in ("deadline", "3xx", "too_large", "not_a_page"):
                    log.info("%s: %s", url, stop.error)
                return FetchResult(
                    url,
                    canonical,
                    stop.outcome,
                    stop.status,
                    error=stop.error,
                    retries=retries,
                    requested=stop.outcome not in ("robots_blocked", "stopped"),
                )
            except _Retry as retry:
                if self._stopped.is_set():
                    return FetchResult(
                        url, canonical, "stopped", error=f"not fetched: {self._stop_reason}", requested=False
                    )
                delay = self.settings.backoff_seconds * 2**retries if retry.delay is None else retry.delay
                # A host that does not answer gets the page's deadline in all, retries included; a host that
                # answers "busy" (5xx, 429) is waited for as it asks, up to max_retry_after.
                spent = time.monotonic() - started + delay
                out_of_time = retry.status is None and spent > deadline
                if retries >= self.settings.max_retries or delay > self.settings.max_retry_after or out_of_time:
                    again = f"{retries} retr{'y' if retries == 1 else 'ies'}"
                    error = retry.error if retries == 0 else f"{retry.error} (after {again})"
                    return FetchResult(url, canonical, retry.outcome, retry.status, error=error, retries=retries)
                log.info("retrying %s in %.1fs: %s", url, delay, retry.error)
                if self._stopped.wait(delay):
                    return FetchResult(
                        url, canonical, "stopped", error=f"not fetched: {self._stop_reason}", requested=False
                    )
                retries += 1

    def _attempt(
        self,
        url: str,
        canonical: str,
        *,
        allowed: Callable[[str], bool],
        headers: Mapping[str, str],
        check_robots: bool,
        accept: str,
        max_bytes: int,
        retries: int,
        deadline: float,
        form: Mapping[str, str] | None = None,
    ) -> FetchResult:
        """One try at a URL (a GET, or a POST of `form`), following a GET's redirects hop by hop; each request
        has its own deadline."""
        target, chain, hop = url, [url], 0
        walls: set[str] = set()  # URLs a cookie wall sent back to, once each
        while True:
            if check_robots:
                rules = self.robots(target)
                if rules.unreachable is not None:
                    failed = rules.unreachable
                    raise _Stop(failed.outcome, f"robots.txt unreachable: {failed.error}", failed.status)
                if not rules.allows(target, self.settings.user_agent):
                    raise _Stop("robots_blocked", f"disallowed by robots.txt: {target}")
            self._bucket(target).acquire()
            self._check_stop()
            with WATCHDOG.watch(deadline) as watch, self._in_flight(watch):
                response = self._send(target, headers, watch, form=form)
                with response:
                    if response.is_redirect and form is not None:
                        raise _Stop("3xx", "a form post was redirected", response.status_code)
                    if not response.is_redirect:
                        return self._read(response, url, canonical, target, accept, max_bytes, retries, watch)
                    hop += 1
                    link = make_link(response.headers.get("Location", ""), target)
                    if link is None:
                        raise _Stop("3xx", f"redirect {hop} from {target} has no usable Location", response.status_code)
                    # A cookie wall answers with a redirect to the page itself and a cookie: the page comes
                    # with the cookie. Going back once after a Set-Cookie is that, not a loop; twice is a loop.
                    walled = bool(response.headers.get("Set-Cookie")) and link.url not in walls
                    if walled:
                        walls.add(link.url)
                    seen = [u for u in chain if u != link.url] if walled else chain
                    refusal = self._redirect_refusal(link.url, url, hop, seen, allowed)
                    if refusal:
                        raise _Stop("3xx", refusal, response.status_code)
                    chain.append(link.url)
                    target = link.url

    @contextmanager
    def _in_flight(self, watch: Deadline) -> Iterator[None]:
        with self._lock:
            self._active.add(watch)
        if self._stopped.is_set():
            watch.expire()
        try:
            yield
        finally:
            with self._lock:
                self._active.discard(watch)

    def _redirect_refusal(
        self, location: str, origin: str, hop: int, chain: list[str], allowed: Callable[[str], bool]
    ) -> str | None:
        """Why this hop may not be followed (see flows/sources/redirects.py), or None."""
        host = urlsplit(location).hostname or ""
        # A host name is resolved only when it passed the domain rule (and is then checked by address).
        addresses = self.host_addresses(host) if allowed(location) and ip_literal(host) is None else ()
        return redirect_refusal(
            location,
            hop=hop,
            max_hops=self.settings.max_redirects,
            chain=chain,
            allowed=allowed,
            target_addresses=addresses,
            origin_addresses=self.host_addresses(urlsplit(origin).hostname or ""),
        )

    def _send(
        self, url: str, headers: Mapping[str, str], watch: Deadline, *, form: Mapping[str, str] | None = None
    ) -> requests.Response:
        """The response's status and headers (the body is read by _read), within the request's deadline."""
        wait = min(self.settings.timeout, max(watch.remaining(), 0.001))
        try:
            if form is not None:  # a form POST (Hanweb's dataproxy.jsp)
                return self._session(url).post(
                    url,
                    data=dict(form),
                    headers=dict(headers),
                    timeout=(wait, wait),
                    stream=True,
                    allow_redirects=False,
                )
            return self._session(url).get(
                url, headers=dict(headers), timeout=(wait, wait), stream=True, allow_redirects=False
            )
        except requests.RequestException as exc:
            if watch.passed():
                raise _Stop("deadline", f"deadline exceeded after {watch.seconds:g} s, no answer") from exc
            if isinstance(exc, requests.Timeout):
                raise _Retry("network_error", f"timeout: no answer within {wait:g} s", None, None) from exc
            if isinstance(exc, requests.ConnectionError):
                if _is_dns_failure(exc):
                    raise _Stop("network_error", f"DNS lookup failed for {urlsplit(url).hostname}") from exc
                raise _Retry("network_error", f"connection failed: {_reason(exc)}", None, None) from exc
            raise _Stop("network_error", f"request failed: {_reason(exc)}") from exc

    def _read(
        self,
        response: requests.Response,
        url: str,
        canonical: str,
        final_url: str,
        accept: str,
        max_bytes: int,
        retries: int,
        watch: Deadline,
    ) -> FetchResult:
        status = response.status_code
        etag, last_modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if status == 304:
            return FetchResult(
                url, canonical, "304", status, final_url, etag=etag, last_modified=last_modified, retries=retries
            )
        if status in RETRY_STATUSES:
            delay = retry_after_seconds(response.headers.get("Retry-After"))
            raise _Retry(f"{status // 100}xx", f"HTTP {status} {response.reason or ''}".strip(), status, delay)
        if status >= 300 and status in CHALLENGE_STATUSES:  # a challenge is not a plain error
            _stop_if_challenge(response, status)
        if status >= 300:
            raise _Stop(f"{status // 100}xx", f"HTTP {status} {response.reason or ''}".strip(), status)
        media_type, charset = content_type(response.headers.get("Content-Type"))
        if media_type not in SNIFFED_TYPES and not is_wanted_type(media_type, b"", accept):
            # decided from the headers: the body is never downloaded
            raise _Stop("skipped_non_html", f"not an HTML page: {media_type}", status)
        length = response.headers.get("Content-Length", "").strip()
        if length.isdigit() and int(length) > max_bytes:
            raise _Stop(
                "too_large",
                f"Content-Length {int(length):,} bytes is over the {max_bytes:,}-byte limit: not downloaded",
                status,
            )
        body = read_body(
            response, max_bytes=max_bytes, watch=watch, check=lambda head: _check_head(head, media_type, accept, status)
        )
        return FetchResult(
            url,
            canonical,
            "200",
            status,
            final_url,
            body,
            media_type,
            charset,
            retries=retries,
            etag=etag,
            last_modified=last_modified,
        )


def _stop_if_challenge(response: requests.Response, status: int) -> None:
    """Raise a final `blocked` answer when an error response is an anti-bot challenge page."""
    try:
        head = next(response.iter_content(PEEK_BYTES), b"")
    except requests.RequestException:
        return
    if is_challenge(head, status):
        raise _Stop("blocked", challenge_error(status), status)


def unless_challenge(result: FetchResult) -> FetchResult:
    """The result, or a `blocked` one when its page is an anti-bot challenge (served with 200 or 202)."""
    if not result.is_ok or not is_challenge(result.content, result.status):
        return result
    return FetchResult(
        result.url,
        result.canonical,
        "blocked",
        result.status,
        result.final_url,
        error=challenge_error(result.status),
        retries=result.retries,
    )


def _check_head(head: bytes, media_type: str | None, accept: str, status: int) -> None:
    """Raise _Stop when a body's first bytes show it is not what may be parsed, whatever its Content-Type."""
    if accept == "any":
        return
    binary = sniff_binary(head)
    if binary and media_type in SNIFFED_TYPES:
        raise _Stop("skipped_non_html", f"not an HTML page: {binary}", status)
    if binary:
        raise _Stop("not_a_page", f"the body is {binary}, though it was served as {media_type}", status)
    if media_type in SNIFFED_TYPES and not is_wanted_type(media_type, head, accept):
        raise _Stop("skipped_non_html", f"not an HTML page: {media_type or 'no content type'} without HTML", status)


def read_body(response: requests.Response, *, max_bytes: int, watch: Deadline, check: Callable[[bytes], None]) -> bytes:
    """The decoded body, read a piece at a time: inflated under `max_bytes`, ended at the deadline, its first
    bytes shown to `check` before the rest is downloaded. Raises _Stop or _Retry with the reason."""
    raw = response.raw
    encoding = response.headers.get("Content-Encoding")
    try:
        decoder = CappedDecoder(encoding, max_bytes)
    except UnsupportedEncoding as exc:
        raise _Stop("unreadable", f"content encoding {exc} is not supported", response.status_code) from exc
    body, received, checked = bytearray(), 0, False
    length = response.headers.get("Content-Length", "").strip()
    try:
        while True:
            piece = raw.read1(CHUNK, decode_content=False)
            if watch.passed():
                raise _deadline(watch, received)
            if not piece:
                break
            received += len(piece)
            if decoder.encoding is None and received == len(piece) and piece.startswith(GZIP_MAGIC):
                decoder = CappedDecoder("gzip", max_bytes)  # gzip sent without saying so: inflated all the same
            body += decoder.feed(piece)
            if received > max_bytes and decoder.encoding is None:
                raise BodyTooLarge(received)
            if not checked and len(body) >= SNIFF_BYTES:
                check(bytes(body[:SNIFF_BYTES]))
                checked = True
        body += decoder.finish()
    except BodyTooLarge as exc:
        inflated = f" once decompressed ({decoder.encoding}, {received:,} bytes received)" if decoder.encoding else ""
        raise _Stop(
            "too_large",
            f"body larger than the {max_bytes:,}-byte limit{inflated}: cut at the limit and not parsed",
            response.status_code,
        ) from exc
    except ValueError as exc:  # corrupt compressed data
        raise _Stop("unreadable", f"{exc} after {received:,} bytes", response.status_code) from exc
    except (requests.RequestException, OSError, HTTPException, urllib3.exceptions.HTTPError) as exc:
        if watch.passed():
            raise _deadline(watch, received) from exc
        if "IncompleteRead" in repr(exc):
            expected = f" of {int(length):,}" if length.isdigit() else ""
            error = f"connection closed after {received:,}{expected} bytes: truncated body"
        elif isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError) or "timed out" in str(exc):
            raise _Retry("network_error", f"timeout: the answer stopped after {received:,} bytes", None, None) from exc
        else:
            error = f"connection broken while reading after {received:,} bytes: {_reason(exc)}"
        raise _Retry("network_error", error, response.status_code, None) from exc
    if not checked:
        check(bytes(body[:SNIFF_BYTES]))
    return bytes(body)


def _deadline(watch: Deadline, received: int) -> _Stop:
    return _Stop("deadline", f"deadline exceeded after {watch.seconds:g} s, {received:,} bytes read")


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _is_dns_failure(exc: requests.ConnectionError) -> bool:
    # requests wraps urllib3's MaxRetryError, whose reason is the NameResolutionError.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NameResolutionError) or "Name or service not known" in str(exc)


def _reason(exc: BaseException) -> str:
    """What went wrong on the wire, as a person would say it: the socket error inside requests' wrappers."""
    os_error = _socket_error(exc)
    if os_error is not None and os_error.strerror:
        return os_error.strerror[0].lower() + os_error.strerror[1:]
    text = str(exc)
    return text if len(text) <= 200 else text[:199] + "…"


def _socket_error(exc: BaseException | None, depth: int = 0) -> OSError | None:
    """The innermost OSError with an errno carried by an exception, its arguments or its cause."""
    if exc is None or depth > 6:
        return None
    inner = [a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)]
    for candidate in [*inner, getattr(exc, "reason", None), exc.__cause__, exc.__context__]:
        found = _socket_error(candidate, depth + 1) if isinstance(candidate, BaseException) else None
        if found is not None:
            return found
    return exc if isinstance(exc, OSError) and exc.errno is not None else None


def content_type(header: str | None) -> tuple[str | None, str | None]:
    """(media type, charset) of a Content-Type header."""
    if not header:
        return None, None
    media, _, params = header.partition(";")
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", params, re.IGNORECASE)
    return media.strip().lower() or None, match[1] if match else None


def is_wanted_type(media_type: str | None, head: bytes, accept: str) -> bool:
    """HTML for `accept="html"`, also feeds and sitemaps for "list", anything for "any" (robots.txt);
    untyped, text/plain and octet-stream bodies are sniffed."""
    accept_feeds = accept == "list"
    if accept == "any" or media_type in HTML_TYPES or (accept_feeds and media_type in FEED_TYPES):
        return True
    if media_type not in SNIFFED_TYPES or sniff_binary(head):
        return False
    is_list_data = accept_feeds and (page_kind(head) != "html" or head.lstrip()[:1] in (b"{", b"["))  # feeds, JSON
    return looks_like_html(head) or is_list_data


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    current = now or datetime.now(when.tzinfo)
    return max(0.0, (when - current).total_seconds())


def raw_document(result: FetchResult, source: Source | None) -> RawDocument:
    """The RawDocument of a fetched page: canonical final URL, bytes, HTTP charset, the source's name."""
    return RawDocument(
        uri=canonical_url(result.final_url or result.url),
        content=result.content,
        is_html=True,
        http_charset=result.charset,
        source_name=source.name if source else "web",
        default_region=source.region if source else None,
    )


class FetchError(OSError):
    """One page requested by a person (inspect) could not be fetched; the message says why."""


def fetch_one(url: str, *, sources: SourcesConfig | None = None) -> RawDocument:
    """Fetch one page as its configured source would (robots, redirects, size); raises FetchError."""
    if sources is None:
        from flows import settings

        try:
            sources = load_sources(settings.DEFAULT_SOURCES)
        except ValueError:
            sources = None
    source = sources.source_for_url(url) if sources else None
    client = WebClient.for_sources(sources.fetch if sources else FetchSettings(), [source] if source else [])
    try:
        result = client.fetch(url, allowed=source.allows if source else (lambda _: True))
    finally:
        client.close()
    if not result.is_ok:
        raise FetchError(result.error or result.outcome)
    return raw_document(result, source)


def __getattr__(name: str) -> object:
    """Discovery moved to flows/sources/discovery.py (issue 14); old imports from here keep working."""
    if name in ("discover_articles", "Discovery"):
        from flows.sources import discovery

        return getattr(discovery, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
