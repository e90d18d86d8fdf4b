"""The arXiv metadata snapshot: the bulk dump of every paper (~2.7M, ~4 GB), one JSON
object a line with ``id``, ``authors`` / ``authors_parsed``, ``title``, ``abstract``,
``categories`` (space separated, primary first), ``versions`` and ``update_date``.

Read as a stream: one line in memory at a time, whatever the file's size.

Its other common shape (re-exports through pandas and Hugging Face datasets) is read too:
``categories`` as a JSON list, ``authors`` as a list of names, ``versions`` as a list of
version names ("v1", "v2") with their dates in a separate list (``versions_dates``,
``version_dates`` or ``dates``) or only ``update_date``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any

from paperwire.ingest.common import Input, Parsed, clean_ws, parse_json_lines
from paperwire.ingest.latex import detex, split_authors
from paperwire.models import Author, Paper, extract_code_urls, normalise_arxiv_id

FORMAT = "arxiv-snapshot"


def looks_like_snapshot(first: dict[str, Any]) -> bool:
    """True for a snapshot record (as opposed to paperwire's own JSON lines)."""
    return "id" in first and ("versions" in first or "authors_parsed" in first)


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        start=1,
    )
}


_DATE_LISTS = ("versions_dates", "version_dates", "dates", "versions_created")


def _version_day(version: Any) -> date | None:
    """The day of a version's "created" stamp ("Mon, 2 Apr 2007 19:18:42 GMT"); a bare
    string is read as the stamp itself (or an ISO date)."""
    if isinstance(version, str):
        text = version
        with contextlib.suppress(ValueError):
            return date.fromisoformat(text[:10])
    else:
        try:
            text = str(version["created"])
        except (KeyError, TypeError, IndexError):
            return None
    parts = text.split()
    # The common shape, read directly: email.utils is ~10x slower and this runs per paper.
    if len(parts) >= 4 and parts[2] in _MONTHS and parts[1].isdecimal() and parts[3].isdecimal():
        try:
            return date(int(parts[3]), _MONTHS[parts[2]], int(parts[1]))
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None


def _authors(record: dict[str, Any]) -> list[Author]:
    parsed = record.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        authors = []
        for entry in parsed:
            if not isinstance(entry, list) or not entry:
                continue
            # [last, first, suffix, affiliation...]: "first last suffix", blanks left out.
            # Written out rather than joined from a generator: this runs ~5 times a paper
            # and was a third of the snapshot parser's time (issue 30's profile).
            size = len(entry)
            name = str(entry[0]).strip()
            if size > 1:
                first = str(entry[1]).strip()
                if first:
                    name = f"{first} {name}" if name else first
            if size > 2:
                suffix = str(entry[2]).strip()
                if suffix:
                    name = f"{name} {suffix}" if name else suffix
            affiliation = (", ".join(str(a) for a in entry[3:] if a) or None) if size > 3 else None
            if name:
                authors.append(Author(detex(name), affiliation))
        return authors
    raw = record.get("authors")
    if isinstance(raw, list):
        return [Author(detex(clean_ws(str(n)))) for n in raw if isinstance(n, str) and n.strip()]
    return [Author(n, a) for n, a in split_authors(str(raw or ""))]


def _categories(value: Any) -> list[str]:
    """Space-separated text, or a JSON list of them (the other shape)."""
    if isinstance(value, list):
        return [c for item in value if isinstance(item, str) for c in item.split()]
    return str(value or "").split()


def _bare_versions(record: dict[str, Any]) -> bool:
    versions = record.get("versions")
    return isinstance(versions, list) and any(isinstance(v, str) for v in versions)


def _days(record: dict[str, Any]) -> list[date]:
    """Every version's date: from version objects, or the separate list of dates."""
    versions = record.get("versions") if isinstance(record.get("versions"), list) else []
    days = [d for d in map(_version_day, versions or []) if d]
    if days:
        return days
    for name in _DATE_LISTS:
        dates = record.get(name)
        if isinstance(dates, list):
            return [d for d in map(_version_day, dates) if d]
    return []


def record_to_paper(record: Any) -> Paper:
    """One snapshot object as a Paper; ValueError names what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    arxiv_id = normalise_arxiv_id(str(record.get("id") or ""))
    if arxiv_id is None:
        raise ValueError(f"'id' {str(record.get('id'))[:60]!r} is not an arXiv id")
    title = detex(clean_ws(str(record.get("title") or "")))
    if not title:
        raise ValueError(f"paper {arxiv_id} has no title")
    abstract = detex(clean_ws(str(record.get("abstract") or "")))
    days = _days(record)
    updated = None
    with contextlib.suppress(ValueError):
        updated = date.fromisoformat(str(record.get("update_date") or "")[:10])
    comments = clean_ws(str(record.get("comments") or "")) or None
    doi = str(record.get("doi") or "").split()
    return Paper(
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id,
        authors=_authors(record),
        # Version names without dates (the other shape): the first version's day is
        # unknown, and update_date is not it.
        published=min(days) if days else (None if _bare_versions(record) else updated),
        updated=max(days) if days else updated,
        categories=_categories(record.get("categories")),
        doi=doi[0] if doi else None,
        journal_ref=clean_ws(str(record.get("journal-ref") or "")) or None,
        comments=comments,
        code_urls=extract_code_urls(f"{abstract} {comments or ''}"),
        sources=[FORMAT],
    )


def parse(data: Input, source: str = "<snapshot>") -> Iterator[Parsed]:
    """Papers of an arXiv metadata snapshot (or any slice of it)."""
    yield from parse_json_lines(data, source, record_to_paper)
