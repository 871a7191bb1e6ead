"""CMS families: how each kind of government site lists its articles and pages its lists.

One module per family, each with `NAME`, `recognizes(page)`, `article_links(page)` and `list_requests(page)`.
`family_of` picks the first that recognizes a page, most specific first; `links` takes every other HTML page.
A page asked for by a family (a dataproxy answer, an API page) is read by that family, without guessing.
The next CMS is one more module here and its fixture host.
"""

from __future__ import annotations

from flows.sources.families import feeds, gkmlpt, hanweb, links, trs
from flows.sources.families.base import Family, ListPage, ListRequest

FAMILIES: tuple[Family, ...] = (feeds, gkmlpt, hanweb, trs, links)
BY_NAME: dict[str, Family] = {family.NAME: family for family in FAMILIES}


class UnknownPage(ValueError):
    """No family reads this page (not HTML, not a feed)."""


def family_of(page: ListPage) -> Family:
    """The family that reads this page: the one that asked for it, else the first that recognizes it."""
    if page.request.family in BY_NAME:
        return BY_NAME[page.request.family]
    for family in FAMILIES:
        if family.recognizes(page):
            return family
    raise UnknownPage("neither an HTML list page nor a feed or sitemap")


__all__ = ["BY_NAME", "FAMILIES", "Family", "ListPage", "ListRequest", "UnknownPage", "family_of"]
