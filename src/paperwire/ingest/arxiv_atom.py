"""The arXiv API's Atom responses (``/api/query``): one ``<entry>`` per paper, plus
OpenSearch totals used for paging. arXiv reports a bad query as a single entry whose id
is ``http://arxiv.org/api/errors#...``; that becomes a RecordError, not a paper."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring

from paperwire.ingest.common import Input, Parsed, RecordError, as_stream
from paperwire.ingest.xmlstream import iter_elements, text_of
from paperwire.models import Author, Paper, extract_code_urls, normalise_arxiv_id

FORMAT = "arxiv-api"
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
ENTRY = "{http://www.w3.org/2005/Atom}entry"


class ArxivApiError(ValueError):
    """arXiv answered the query with an error entry."""


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _entry_to_paper(entry: Element, ordinal: int) -> Paper:
    ident = text_of(entry, "atom:id", NS)
    if "/api/errors" in ident:
        raise ArxivApiError(f"arXiv API error: {text_of(entry, 'atom:summary', NS) or ident}")
    arxiv_id = normalise_arxiv_id(ident)
    if arxiv_id is None:
        raise ValueError(f"entry id {ident[:100]!r} is not an arXiv id")
    title = text_of(entry, "atom:title", NS)
    if not title:
        raise ValueError(f"entry {arxiv_id} has no title")
    authors = [
        Author(
            name=text_of(author, "atom:name", NS),
            affiliation=text_of(author, "arxiv:affiliation", NS) or None,
        )
        for author in entry.findall("atom:author", NS)
        if text_of(author, "atom:name", NS)
    ]
    primary = entry.find("arxiv:primary_category", NS)
    categories = [primary.get("term", "")] if primary is not None else []
    categories += [c.get("term", "") for c in entry.findall("atom:category", NS)]
    abstract = text_of(entry, "atom:summary", NS)
    comments = text_of(entry, "arxiv:comment", NS) or None
    return Paper(
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id,
        authors=authors,
        published=_iso_day(text_of(entry, "atom:published", NS)),
        updated=_iso_day(text_of(entry, "atom:updated", NS)),
        categories=[c for c in dict.fromkeys(categories) if c],
        doi=text_of(entry, "arxiv:doi", NS) or None,
        journal_ref=text_of(entry, "arxiv:journal_ref", NS) or None,
        comments=comments,
        code_urls=extract_code_urls(f"{abstract} {comments or ''}"),
        sources=[FORMAT],
    )


def parse(data: Input, source: str = "<arxiv-api>") -> Iterator[Parsed]:
    """Papers of one arXiv API response."""
    yield from iter_elements(data, source, ENTRY, _entry_to_paper)


@dataclass(frozen=True, slots=True)
class PageInfo:
    """The OpenSearch paging numbers of one response."""

    total: int
    start: int
    per_page: int


def page_info(data: bytes) -> PageInfo:
    """Read totalResults/startIndex/itemsPerPage (small documents only: one API page)."""
    root = fromstring(as_stream(data).read(), forbid_dtd=True)

    def number(name: str) -> int:
        found = root.find(f"opensearch:{name}", NS)
        text = (found.text or "0").strip() if found is not None else "0"
        return int(text) if text.isdecimal() else 0

    return PageInfo(number("totalResults"), number("startIndex"), number("itemsPerPage"))


def is_error(item: Parsed) -> bool:
    """True for the error entry arXiv sends instead of results."""
    return isinstance(item, RecordError) and item.message.startswith("arXiv API error")
