"""Where a redirect may lead: the rules each hop's Location must pass before it is requested.

Pure decisions (no network): the client resolves a hop's host name itself and passes the addresses in.
A hop is refused when it goes past the hop limit, to a scheme other than http(s), back to a URL of the
same chain (a loop), off the source's domains, or to an address of a special range — loopback, private,
link-local (cloud metadata services live at 169.254.169.254), multicast, reserved or unspecified — that
the source's own host is not in itself (a source on a private network may redirect within it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Collection, Iterable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL's host names directly (127.0.0.1, [::1]), or None for a host name."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return address


def address_range(address: IPAddress) -> str | None:
    """The special range an address is in ('loopback', 'link-local', 'private' …), None for a public one."""
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("private", address.is_private),
        ("reserved", address.is_reserved or not address.is_global),  # 100.64/10, 192.0.0/24 …
    )
    return next((name for name, hit in checks if hit), None)


def address_refusal(target: Iterable[IPAddress], origin: Iterable[IPAddress]) -> str | None:
    """Why a hop's addresses may not be requested from a source whose host has `origin` addresses, or None.

    A special range is allowed only when the source's own host is in the same range (tests on 127.0.0.x,
    an intranet source on 10.x); a public source may never lead to one.
    """
    own = {address_range(a) for a in origin} - {None}
    for address in target:
        kind = address_range(address)
        if kind is not None and kind not in own:
            return f"{kind} address {address}"
    return None


def redirect_refusal(
    target: str,
    *,
    hop: int,
    max_hops: int,
    chain: Collection[str],
    allowed: Callable[[str], bool],
    target_addresses: Iterable[IPAddress] = (),
    origin_addresses: Iterable[IPAddress] = (),
) -> str | None:
    """Why redirect number `hop` (1-based) to `target` is refused, or None when it may be followed.

    `chain` holds the canonical URLs requested so far for this page (the first one included);
    `target_addresses` are the target host's addresses (its IP literal, or what its name resolves to).
    """
    parts = urlsplit(target)
    if hop > max_hops:
        return f"more than {max_hops} redirects (hop {hop} to {target})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"redirect {hop} to {target}: not an http(s) URL"
    if target in chain:
        return f"redirect loop: hop {hop} leads back to {target}"
    address = ip_literal(parts.hostname)
    # An address literal is judged by its range first: the reason names the danger, not just the domain.
    special = address_refusal([address], origin_addresses) if address else None
    if not special and not allowed(target):
        return f"redirect {hop} to {target} goes outside the source's domains"
    special = special or (None if address else address_refusal(target_addresses, origin_addresses))
    if special:
        return f"redirect {hop} to {target} leads to a {special}, which is never fetched for this source"
    return None
