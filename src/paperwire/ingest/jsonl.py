"""paperwire's own JSON lines: what ``paperwire export`` writes and ``import`` reads back
without loss. One object a line; ``"format": "paperwire"`` marks it for detection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from paperwire.ingest.common import Input, Parsed, parse_json_lines
from paperwire.models import Author, Paper, normalise_arxiv_id

FORMAT = "paperwire"


def looks_like_jsonl(first: dict[str, Any]) -> bool:
    """True for a line written by :func:`dumps`."""
    return first.get("format") == FORMAT


def to_record(paper: Paper) -> dict[str, Any]:
    """A Paper as a JSON-ready dict (the export format)."""
    return {
        "format": FORMAT,
        "key": paper.key,
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": [
            {"name": a.name, **({"affiliation": a.affiliation} if a.affiliation else {})}
            for a in paper.authors
        ],
        "author_count": paper.n_authors,
        "published": paper.published.isoformat() if paper.published else None,
        "updated": paper.updated.isoformat() if paper.updated else None,
        "categories": paper.categories,
        "doi": paper.doi,
        "url": paper.url,
        "code_urls": paper.code_urls,
        "upvotes": paper.upvotes,
        "sources": paper.sources,
        "journal_ref": paper.journal_ref,
        "comments": paper.comments,
    }


def dumps(paper: Paper) -> str:
    """One export line (no trailing newline)."""
    return json.dumps(to_record(paper), ensure_ascii=False, separators=(",", ":"))


def _text(record: dict[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} must be a string, not {type(value).__name__}")
    return value


def _strings(record: dict[str, Any], name: str) -> list[str]:
    value = record.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"field {name!r} must be a list of strings")
    return value


def _day(record: dict[str, Any], name: str) -> date | None:
    text = _text(record, name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"field {name!r}: {text[:40]!r} is not an ISO date") from exc


def _int(record: dict[str, Any], name: str) -> int | None:
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"field {name!r} must be a non-negative integer")
    return value


def record_to_paper(record: Any) -> Paper:
    """One export object as a Paper; ValueError names the bad field."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    title = (_text(record, "title") or "").strip()
    if not title:
        raise ValueError("field 'title' is missing or empty")
    raw_id = _text(record, "arxiv_id")
    arxiv_id = normalise_arxiv_id(raw_id) if raw_id else None
    if raw_id and arxiv_id is None:
        raise ValueError(f"field 'arxiv_id': {raw_id[:40]!r} is not an arXiv id")
    raw_authors = record.get("authors") or []
    if not isinstance(raw_authors, list):
        raise ValueError("field 'authors' must be a list")
    authors = []
    for entry in raw_authors:
        if isinstance(entry, str):
            authors.append(Author(entry))
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
            affiliation = entry.get("affiliation")
            authors.append(
                Author(entry["name"], affiliation if isinstance(affiliation, str) else None)
            )
        else:
            raise ValueError("field 'authors' must hold names or {name, affiliation} objects")
    return Paper(
        title=title,
        abstract=_text(record, "abstract") or "",
        arxiv_id=arxiv_id,
        authors=authors,
        author_count=None if authors else _int(record, "author_count"),
        published=_day(record, "published"),
        updated=_day(record, "updated"),
        categories=_strings(record, "categories"),
        doi=_text(record, "doi"),
        url=_text(record, "url"),
        code_urls=_strings(record, "code_urls"),
        upvotes=_int(record, "upvotes") or 0,
        sources=_strings(record, "sources") or [FORMAT],
        journal_ref=_text(record, "journal_ref"),
        comments=_text(record, "comments"),
    )


def parse(data: Input, source: str = "<jsonl>") -> Iterator[Parsed]:
    """Papers of a paperwire export."""
    yield from parse_json_lines(data, source, record_to_paper)
