"""What every CMS family works on: a list request, the list page it brought back, and the family interface."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Protocol
from urllib.parse import urlencode, urljoin

import lxml.etree
import lxml.html

from flows.sources.web import Link, canonical_url, make_link, page_kind, text_date
from parsers.decode import decode_bytes

XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
MAX_PAGER_PAGES = 500  # a pager claiming more pages than this is not believed past it


@dataclass(frozen=True, slots=True)
class ListRequest:
    """A list page to ask for: a GET of a URL, or a form POST (Hanweb's dataproxy)."""

    url: str  # as requested; a start URL keeps its fragment (gkmlpt names its category there)
    canonical: str  # identity: what is stored in fetch_log and compared (a POST's form is part of it)
    family: str | None = None  # the family that reads the answer; None: recognized from the page
    form: tuple[tuple[str, str], ...] | None = None  # POST fields; None for a GET

    @classmethod
    def get(cls, url: str, *, family: str | None = None) -> ListRequest:
        return cls(url, canonical_url(url), family)

    @classmethod
    def post(cls, url: str, form: dict[str, str], *, family: str) -> ListRequest:
        fields = tuple(sorted(form.items()))
        identity = canonical_url(url + ("&" if "?" in url else "?") + urlencode(fields))
        return cls(url, identity, family, fields)


class ListPage:
    """A fetched list page (HTML, XML or JSON) with lazily parsed views that families share."""

    def __init__(self, request: ListRequest, content: bytes, *, final_url: str = "", charset: str | None = None):
        self.request = request
        self.content = content
        self.url = final_url or request.url.split("#", 1)[0]  # base of relative links
        self.charset = charset

    @cached_property
    def kind(self) -> str:
        """rss | atom | sitemap | sitemapindex | html (JSON and XML answers count as html until a family reads them)."""
        return page_kind(self.content)

    @cached_property
    def text(self) -> str:
        return decode_bytes(self.content, uri=self.url, http_charset=self.charset, is_html=True)

    @cached_property
    def root(self) -> lxml.html.HtmlElement:
        return lxml.html.document_fromstring(XML_DECLARATION.sub("", self.text) or "<html></html>")

    @cached_property
    def base_url(self) -> str:
        base = str(self.root.xpath("string(//base/@href)")).strip()
        return urljoin(self.url, base) if base else self.url

    @cached_property
    def anchors(self) -> list[Link]:
        """Every <a href> of the page in document order, with the date printed in its list entry."""
        return anchor_links(self.root, self.base_url)

    def is_html(self) -> bool:
        start = self.content.lstrip()[:1]
        return self.kind == "html" and start not in (b"{", b"[")


class Family(Protocol):
    """One CMS family: a module with these names (see hanweb.py, trs.py, gkmlpt.py, feeds.py, links.py)."""

    NAME: str

    def recognizes(self, page: ListPage) -> bool: ...

    def article_links(self, page: ListPage) -> list[Link]: ...

    def list_requests(self, page: ListPage) -> list[ListRequest]: ...


def anchor_links(root: lxml.html.HtmlElement, base_url: str) -> list[Link]:
    """Links of the <a> elements under root, with the date of their list entry."""
    found = []
    for anchor in root.iter("a"):
        link = make_link(anchor.get("href") or "", base_url, found_date=entry_date(anchor))
        if link:
            found.append(link)
    return found


def fragment_links(html: str, base_url: str) -> list[Link]:
    """Links of an HTML fragment (a CDATA record, an <li> from an API answer)."""
    if "href" not in html:
        return []
    return anchor_links(lxml.html.document_fromstring(f"<html><body>{html}</body></html>"), base_url)


def entry_date(anchor: lxml.html.HtmlElement) -> date | None:
    """The date printed in the list entry (li, tr, div) that holds only this link."""
    node = anchor
    for _ in range(3):
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "ul", "ol", "table", "tbody"):
            return None
        if len(parent.xpath(".//a")) > 1:
            return None
        found = text_date(parent.text_content())
        if found:
            return found
        node = parent
    return None


# A document type declaration with its internal subset. Feeds and sitemaps need none; a subset can declare
# entities that expand a billion times, on which libxml2 gives up reading the rest of the document.
XML_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(?:\[.*?\]\s*)?>", re.DOTALL | re.IGNORECASE)


def safe_xml_parser() -> lxml.etree.XMLParser:
    """An XML parser for documents from the web: no DTD loaded, no entity expanded (billion laughs), no
    network access (external entities), no huge-tree limits lifted; broken markup recovered."""
    return lxml.etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
    )


def xml_root(content: bytes) -> lxml.etree._Element | None:
    """A forgiving, safe XML parse (a DTD dropped unread, no entities, no network), None when nothing is there."""
    content = XML_DOCTYPE.sub(b"", content[:65536], count=1) + content[65536:]
    try:
        return lxml.etree.fromstring(content, parser=safe_xml_parser())
    except lxml.etree.XMLSyntaxError:
        return None
