"""Anti-bot challenge pages: recognized by what they contain, never parsed as articles.

WAFs in front of Chinese government sites (SITES.md §5) answer a crawler with a small page whose only job
is to run an obfuscated script that sets a cookie and reloads: Ruishu/瑞数 (`$_ts`, HTTP 412 or 202),
Jiasule/加速乐 (`__jsl_clearance`, HTTP 521), 360 网站卫士 (wzws), Aliyun (`acw_sc__v2`), and home-made
`document.cookie=…; location.reload()` walls. The same pages come with status 200 too, so the decision is
made on the markers plus the lack of visible text, not on the status. A polite crawler does not solve them.
"""

from __future__ import annotations

import re

# Names that only these scripts use. Matched on bytes: the page is not decoded for this.
STRONG_MARKERS = (
    b"$_ts",  # Ruishu: $_ts=window['$_ts']; the payload follows
    b"__jsl_clearance",  # Jiasule cookie name
    b"wzws",  # 360 wzws: wzws_cid cookie, wzwschallenge, /WZWSREL…
    b"WZWS",  # 360 wzws confirm page (WZWS_CONFIRM_PREFIX_LABEL)
    b"acw_sc__v2",  # Aliyun WAF slider/cookie challenge
    b"_guard/auto.js",  # Cloud WAF guard script
)
# WAFs put their script at the top of the page: looking there costs ~0.1 ms a page instead of ~2 ms for all of it.
HEAD_BYTES = 16 * 1024
# A script that sets a cookie and then reloads or redirects the page: the home-made cookie wall.
# JavaScript names are case-sensitive: plain substring tests first (fast), the regexes only on a hit.
COOKIE_SETTER = re.compile(rb"document\.cookie\s*=")
RELOADER = re.compile(rb"location\.reload|location\.(?:href|replace)\s*[=(]|window\.location\s*=")
SCRIPT_OR_STYLE = re.compile(rb"<(script|style|noscript)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(rb"<[^>]*>")
SPACE = re.compile(rb"\s+|&nbsp;")
# A challenge page shows a line or two ("正在验证您的浏览器…"); an article shows hundreds of characters.
MAX_VISIBLE_BYTES = 600  # ~200 Chinese characters in UTF-8
# Statuses WAFs use for challenges: their bodies are read (a little) to tell a challenge from a plain error.
CHALLENGE_STATUSES = frozenset({202, 403, 412, 429, 503, 521})
PEEK_BYTES = 64 * 1024


def visible_bytes(content: bytes) -> int:
    """Bytes of text a reader would see: scripts, styles, tags and white space left out."""
    without_scripts = SCRIPT_OR_STYLE.sub(b" ", content)
    return len(SPACE.sub(b"", TAG.sub(b"", without_scripts)))


def is_challenge(content: bytes, status: int | None = 200) -> bool:
    """True when a response body is an anti-bot interstitial rather than the page asked for.

    Strong markers decide on an error status; on a 200 the page must also be nearly empty to a reader (some
    WAFs inject their script into real pages once the cookie is set). A cookie-setting script that reloads
    the page counts only on a page with next to no text.
    """
    head = content[:HEAD_BYTES]
    strong = any(marker in head for marker in STRONG_MARKERS)
    scripted_wall = b"document.cookie" in head and bool(COOKIE_SETTER.search(head) and RELOADER.search(head))
    if not (strong or scripted_wall):
        return False
    if strong and status is not None and status != 200 and status in CHALLENGE_STATUSES:
        return True
    return visible_bytes(content[: 2 * PEEK_BYTES]) <= MAX_VISIBLE_BYTES


def challenge_error(status: int | None) -> str:
    """The fetch_log error of a challenge page, in words a person understands."""
    return f"blocked by an anti-bot challenge (HTTP {status})" if status else "blocked by an anti-bot challenge"
