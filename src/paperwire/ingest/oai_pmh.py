"""arXiv OAI-PMH ``ListRecords`` / ``GetRecord`` responses, metadataPrefix ``arXiv``
(structured authors), ``arXivRaw`` (author string, version history) and ``oai_dc``
(Dublin Core, what generic harvesters keep).

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
from paperwire.ingest.xmlstream import iter_local_elements, text_of
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


def _text(element: Element, path: str) -> str:
    return text_of(element, path, {})


def _common(meta: Element, arxiv_id: str) -> dict[str, object]:
    title = detex(_text(meta, "title"))
    if not title:
        raise ValueError(f"record {arxiv_id} has no title")
    abstract = detex(_text(meta, "abstract"))
    comments = _text(meta, "comments") or None
    return {
        "title": title,
        "abstract": abstract,
        "arxiv_id": arxiv_id,
        "categories": _text(meta, "categories").split(),
        "doi": next(iter(_text(meta, "doi").split()), None),
        "journal_ref": _text(meta, "journal-ref") or None,
        "comments": comments,
        "code_urls": extract_code_urls(f"{abstract} {comments or ''}"),
        "sources": [FORMAT],
    }


def _arxiv_format(meta: Element, arxiv_id: str) -> Paper:
    authors = []
    for author in meta.findall("authors/author"):
        name = " ".join(
            part
            for part in (
                _text(author, "forenames"),
                _text(author, "keyname"),
                _text(author, "suffix"),
            )
            if part
        )
        if name:
            affiliation = _text(author, "affiliation") or None
            authors.append(Author(detex(name), affiliation))
    return Paper(
        authors=authors,
        published=_day(_text(meta, "created")),
        updated=_day(_text(meta, "updated")),
        **_common(meta, arxiv_id),  # type: ignore[arg-type]
    )


def _arxiv_raw_format(meta: Element, arxiv_id: str) -> Paper:
    dates = [_day(_text(v, "date")) for v in meta.findall("version")]
    known = [d for d in dates if d]
    authors = [Author(n, a) for n, a in split_authors(_text(meta, "authors"))]
    return Paper(
        authors=authors,
        published=min(known) if known else None,
        updated=max(known) if known else None,
        **_common(meta, arxiv_id),  # type: ignore[arg-type]
    )


def _dc_name(name: str) -> str:
    """Dublin Core creators are "Family, Given": "La Mura, Pierfrancesco"."""
    family, _, given = name.partition(",")
    return f"{given.strip()} {family.strip()}".strip() if given.strip() else name.strip()


def _oai_dc_format(meta: Element, arxiv_id: str) -> Paper:
    """``oai_dc`` (Dublin Core): the title, creators, the abstract and a "Comment: ..."
    description, the version dates, and identifiers (the DOI, the journal reference).
    Its subjects are names ("Computer Science - Databases"), not arXiv categories, so
    no categories are taken from it (a later arXiv-format import fills them)."""
    title = detex(_text(meta, "title"))
    if not title:
        raise ValueError(f"record {arxiv_id} has no title")
    abstract = ""
    comments = None
    for element in meta.findall("description"):
        text = " ".join("".join(element.itertext()).split())
        if text.startswith("Comment:"):
            comments = comments or text.removeprefix("Comment:").strip() or None
        elif text and not abstract:
            abstract = detex(text)
    days = [d for d in (_day(_text(e, ".")) for e in meta.findall("date")) if d]
    doi = journal_ref = None
    for element in meta.findall("identifier"):
        text = " ".join("".join(element.itertext()).split())
        if text.lower().startswith("doi:"):
            doi = doi or text[4:].strip() or None
        elif text and "://" not in text and normalise_arxiv_id(text) is None:
            journal_ref = journal_ref or text
    return Paper(
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id,
        authors=[
            Author(detex(_dc_name(_text(e, ".")))) for e in meta.findall("creator") if _text(e, ".")
        ],
        published=min(days) if days else None,
        updated=max(days) if days else None,
        doi=doi,
        journal_ref=journal_ref,
        comments=comments,
        code_urls=extract_code_urls(f"{abstract} {comments or ''}"),
        sources=[FORMAT],
    )


_METADATA_FORMATS = {"arXiv": _arxiv_format, "arXivRaw": _arxiv_raw_format, "dc": _oai_dc_format}


def _record(record: Element, ordinal: int) -> Paper | Deleted:
    header = record.find("header")
    if header is None:
        raise ValueError("record without a header")
    identifier = _text(header, "identifier")
    arxiv_id = normalise_arxiv_id(identifier)
    if arxiv_id is None:
        raise ValueError(f"identifier {identifier[:100]!r} is not an arXiv identifier")
    if header.get("status") == "deleted":
        return Deleted(arxiv_id)
    meta = record.find("metadata")
    if meta is None or len(meta) == 0:
        raise ValueError(f"record {arxiv_id} has no metadata")
    body = meta[0]
    convert = _METADATA_FORMATS.get(body.tag)
    if convert is None:
        raise ValueError(
            f"record {arxiv_id}: unsupported metadata format {body.tag!r} "
            f"(supported: arXiv, arXivRaw, oai_dc)"
        )
    return convert(body, arxiv_id)


def parse(data: Input, source: str = "<oai-pmh>") -> Iterator[Parsed]:
    """Papers (and deletions) of one OAI-PMH response, metadataPrefix arXiv, arXivRaw
    or oai_dc; read by local names, so responses recorded with their namespaces stripped
    or undeclared import the same."""
    yield from iter_local_elements(data, source, "record", _record)


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
