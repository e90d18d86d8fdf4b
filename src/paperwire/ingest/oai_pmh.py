"""arXiv OAI-PMH ``ListRecords`` / ``GetRecord`` responses, metadataPrefix ``arXiv``
(structured authors) and ``arXivRaw`` (author string, version history).

A deleted record (``<header status="deleted">``) becomes a :class:`Deleted`; the page's
``resumptionToken`` and any OAI ``<error>`` are read by :func:`page_state`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import iterparse

from paperwire.ingest.common import Deleted, Input, Parsed, ParseError, RecordError, as_stream
from paperwire.ingest.latex import detex, split_authors
from paperwire.ingest.xmlstream import iter_elements, text_of
from paperwire.models import Author, Paper, extract_code_urls, normalise_arxiv_id

FORMAT = "oai-pmh"
OAI = "http://www.openarchives.org/OAI/2.0/"
NS = {
    "oai": OAI,
    "arXiv": "http://arxiv.org/OAI/arXiv/",
    "arXivRaw": "http://arxiv.org/OAI/arXivRaw/",
}
RECORD = f"{{{OAI}}}record"


@dataclass(frozen=True, slots=True)
class PageState:
    """What a ListRecords page says about the harvest."""

    token: str | None
    complete_size: int | None
    cursor: int | None
    error_code: str | None = None
    error_message: str | None = None


def _day(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).date()  # arXivRaw: "Mon, 2 Apr 2007 19:18:42 GMT"
    except (TypeError, ValueError):
        return None


def _common(meta: Element, ns: str, arxiv_id: str) -> dict[str, object]:
    title = detex(text_of(meta, f"{ns}:title", NS))
    if not title:
        raise ValueError(f"record {arxiv_id} has no title")
    abstract = detex(text_of(meta, f"{ns}:abstract", NS))
    comments = text_of(meta, f"{ns}:comments", NS) or None
    return {
        "title": title,
        "abstract": abstract,
        "arxiv_id": arxiv_id,
        "categories": text_of(meta, f"{ns}:categories", NS).split(),
        "doi": next(iter(text_of(meta, f"{ns}:doi", NS).split()), None),
        "journal_ref": text_of(meta, f"{ns}:journal-ref", NS) or None,
        "comments": comments,
        "code_urls": extract_code_urls(f"{abstract} {comments or ''}"),
        "sources": [FORMAT],
    }


def _arxiv_format(meta: Element, arxiv_id: str) -> Paper:
    authors = []
    for author in meta.findall("arXiv:authors/arXiv:author", NS):
        name = " ".join(
            part
            for part in (
                text_of(author, "arXiv:forenames", NS),
                text_of(author, "arXiv:keyname", NS),
                text_of(author, "arXiv:suffix", NS),
            )
            if part
        )
        if name:
            affiliation = text_of(author, "arXiv:affiliation", NS) or None
            authors.append(Author(detex(name), affiliation))
    return Paper(
        authors=authors,
        published=_day(text_of(meta, "arXiv:created", NS)),
        updated=_day(text_of(meta, "arXiv:updated", NS)),
        **_common(meta, "arXiv", arxiv_id),  # type: ignore[arg-type]
    )


def _arxiv_raw_format(meta: Element, arxiv_id: str) -> Paper:
    dates = [_day(text_of(v, "arXivRaw:date", NS)) for v in meta.findall("arXivRaw:version", NS)]
    known = [d for d in dates if d]
    authors = [Author(n, a) for n, a in split_authors(text_of(meta, "arXivRaw:authors", NS))]
    return Paper(
        authors=authors,
        published=min(known) if known else None,
        updated=max(known) if known else None,
        **_common(meta, "arXivRaw", arxiv_id),  # type: ignore[arg-type]
    )


def _record(record: Element, ordinal: int) -> Paper | Deleted:
    header = record.find("oai:header", NS)
    if header is None:
        raise ValueError("record without a header")
    identifier = text_of(header, "oai:identifier", NS)
    arxiv_id = normalise_arxiv_id(identifier)
    if arxiv_id is None:
        raise ValueError(f"identifier {identifier[:100]!r} is not an arXiv identifier")
    if header.get("status") == "deleted":
        return Deleted(arxiv_id)
    meta = record.find("oai:metadata", NS)
    if meta is None or len(meta) == 0:
        raise ValueError(f"record {arxiv_id} has no metadata")
    body = meta[0]
    if body.tag == "{http://arxiv.org/OAI/arXiv/}arXiv":
        return _arxiv_format(body, arxiv_id)
    if body.tag == "{http://arxiv.org/OAI/arXivRaw/}arXivRaw":
        return _arxiv_raw_format(body, arxiv_id)
    raise ValueError(f"record {arxiv_id}: unsupported metadata format {body.tag}")


def parse(data: Input, source: str = "<oai-pmh>") -> Iterator[Parsed]:
    """Papers (and deletions) of one OAI-PMH response."""
    yield from iter_elements(data, source, RECORD, _record)


def page_state(data: Input, source: str = "<oai-pmh>") -> PageState:
    """The resumption token and any OAI error of one response."""
    stream = as_stream(data)
    stream.seek(0)
    token: str | None = None
    size = cursor = None
    code = message = None
    try:
        for _event, element in iterparse(stream, events=("end",), forbid_dtd=True):
            if element.tag == f"{{{OAI}}}resumptionToken":
                token = (element.text or "").strip() or None
                size_text = element.get("completeListSize", "")
                cursor_text = element.get("cursor", "")
                size = int(size_text) if size_text.isdecimal() else None
                cursor = int(cursor_text) if cursor_text.isdecimal() else None
            elif element.tag == f"{{{OAI}}}error":
                code = element.get("code", "unknown")
                message = " ".join((element.text or "").split())
            elif element.tag == RECORD:
                element.clear()
    except Exception as exc:  # a broken page has no usable token; the caller retries it
        raise ParseError(source, "resumptionToken", f"cannot read the page's state: {exc}") from exc
    return PageState(token, size, cursor, code, message)


__all__ = ["Deleted", "PageState", "RecordError", "page_state", "parse"]
