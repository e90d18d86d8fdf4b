"""Importers: one module per source format, each a pure ``parse(input, source)`` that
yields Papers, RecordErrors for broken records, and Deleted notices; plus format
detection from the content, and the online fetchers (``fetch``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from paperwire.ingest import arxiv_atom, bibtex, jsonl, listing, oai_pmh, snapshot
from paperwire.ingest.common import (
    Deleted,
    Input,
    Parsed,
    ParseError,
    RecordError,
    check_not_binary,
    peek_head,
)

Parser = Callable[[Input, str], Iterator[Parsed]]

FORMATS: dict[str, Parser] = {
    listing.FORMAT: listing.parse,
    arxiv_atom.FORMAT: arxiv_atom.parse,
    oai_pmh.FORMAT: oai_pmh.parse,
    snapshot.FORMAT: snapshot.parse,
    bibtex.FORMAT: bibtex.parse,
    jsonl.FORMAT: jsonl.parse,
}


def detect_format(head: bytes, source: str) -> str:
    """The format of an input from its first bytes; ParseError when none fits."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace")
    text = text.lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        if "<OAI-PMH" in text:
            return oai_pmh.FORMAT
        if "http://www.w3.org/2005/Atom" in text or "<feed" in text:
            return arxiv_atom.FORMAT
        raise ParseError(source, "line 1", "XML, but neither an arXiv Atom feed nor OAI-PMH")
    if text.startswith("{"):
        first_line = text.split("\n", 1)[0]
        try:
            first = json.loads(first_line)
        except (json.JSONDecodeError, RecursionError):
            first = {}
        if isinstance(first, dict) and jsonl.looks_like_jsonl(first):
            return jsonl.FORMAT
        if isinstance(first, dict) and snapshot.looks_like_snapshot(first):
            return snapshot.FORMAT
        # A first line too long or broken to decode: judge by the fields named in it.
        if '"format":"paperwire"' in first_line.replace(" ", ""):
            return jsonl.FORMAT
        if '"versions"' in first_line or '"authors_parsed"' in first_line:
            return snapshot.FORMAT
        raise ParseError(
            source, "line 1", "JSON, but neither paperwire's export nor the arXiv snapshot"
        )
    if bibtex.looks_like_bibtex(text):
        return bibtex.FORMAT
    if listing.looks_like_listing(text):
        return listing.FORMAT
    raise ParseError(
        source, "line 1", "unknown format; name one with --format " + "|".join(FORMATS)
    )


def parse_any(data: Input, source: str, format: str | None = None) -> Iterator[Parsed]:
    """Parse an input in the given format, or the one detected from its content."""
    head, stream = peek_head(data, 64 * 1024)
    if format is None:
        check_not_binary(head, source)
        format = detect_format(head, source)
    if format not in FORMATS:
        raise ParseError(
            source, "--format", f"unknown format {format!r}; one of {', '.join(FORMATS)}"
        )
    return FORMATS[format](stream, source)


__all__ = [
    "FORMATS",
    "Deleted",
    "ParseError",
    "Parsed",
    "RecordError",
    "detect_format",
    "parse_any",
]
