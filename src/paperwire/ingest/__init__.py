"""Importers: one module per source format, each a pure ``parse(input, source)`` that
yields Papers, RecordErrors for broken records, RecordWarnings for values left out, and
Deleted notices; plus format detection from the content, compressed inputs
(``compressed``), export writers (``export``) and the online fetchers (``fetch``)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator

from paperwire.ingest import (
    arxiv_atom,
    bibtex,
    csl_json,
    hf_daily,
    jsonl,
    listing,
    oai_pmh,
    snapshot,
)
from paperwire.ingest.common import (
    Deleted,
    Input,
    Parsed,
    ParseError,
    RecordError,
    RecordWarning,
    check_not_binary,
    peek_head,
)
from paperwire.ingest.compressed import Limits, decompressed, open_input
from paperwire.models import Paper, field_problems, validated

Parser = Callable[[Input, str], Iterator[Parsed]]

FORMATS: dict[str, Parser] = {
    listing.FORMAT: listing.parse,
    arxiv_atom.FORMAT: arxiv_atom.parse,
    oai_pmh.FORMAT: oai_pmh.parse,
    snapshot.FORMAT: snapshot.parse,
    bibtex.FORMAT: bibtex.parse,
    jsonl.FORMAT: jsonl.parse,
    csl_json.FORMAT: csl_json.parse,
    hf_daily.FORMAT: hf_daily.parse,
}


def _json_array_format(text: str, source: str) -> str:
    """CSL JSON or Hugging Face daily papers, from the first element of an array."""
    body = text[1:].lstrip()
    first: object = None
    depth = 0
    in_string = escaped = False
    for index, ch in enumerate(body):  # the first element's extent, if the head holds it
        if escaped:
            escaped = False
        elif in_string:
            escaped = ch == "\\"
            in_string = ch != '"'
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                try:
                    first = json.loads(body[: index + 1])
                except (json.JSONDecodeError, RecursionError):
                    first = None
                break
    if isinstance(first, dict):
        if hf_daily.looks_like_hf_daily(first):
            return hf_daily.FORMAT
        if csl_json.looks_like_csl(first):
            return csl_json.FORMAT
    compact = body[:65536].replace(" ", "")
    if '"paper":{' in compact or '"submittedOnDailyBy"' in compact:
        return hf_daily.FORMAT
    if any(f'"{key}":' in compact for key in ("issued", "container-title", "citation-key")):
        return csl_json.FORMAT
    if body.startswith("]"):
        raise ParseError(source, "line 1", "an empty JSON array: nothing to import")
    raise ParseError(
        source, "line 1", "a JSON array, but neither CSL JSON nor Hugging Face daily papers"
    )


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
    if text.startswith("["):
        return _json_array_format(text, source)
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


def checked(items: Iterator[Parsed], source: str) -> Iterator[Parsed]:
    """Every paper with its invalid values removed (:func:`paperwire.models.validated`),
    each removal reported as a RecordWarning naming the record (its ordinal among the
    input's papers, and its key): an invalid value is never stored."""
    ordinal = 0
    for item in items:
        if isinstance(item, Paper):
            ordinal += 1
            problems = field_problems(item)
            if problems:
                where = f"record {ordinal} ({item.key[:60]})"
                for problem in problems:
                    yield RecordWarning(source, where, problem)
                item = validated(item)
        yield item


def parse_any(
    data: Input, source: str, format: str | None = None, limits: Limits | None = None
) -> Iterator[Parsed]:
    """Parse an input in the given format, or the one detected from its content.
    Compressed data (gzip, bzip2, xz, zip) is decompressed as it is read, whatever the
    format, and every input is metered by `limits` (ParseError past them: see
    :mod:`paperwire.ingest.compressed`); every paper comes out validated (see :func:`checked`)."""
    with decompressed(
        data if not isinstance(data, bytes | bytearray) else io.BytesIO(data), source, limits
    ) as (plain, name):
        yield from _parse_plain(plain, name, format)


def _parse_plain(data: Input, source: str, format: str | None) -> Iterator[Parsed]:
    head, stream = peek_head(data, 64 * 1024)
    if format is None:
        check_not_binary(head, source)
        format = detect_format(head, source)
    if format not in FORMATS:
        raise ParseError(
            source, "--format", f"unknown format {format!r}; one of {', '.join(FORMATS)}"
        )
    yield from checked(FORMATS[format](stream, source), source)


__all__ = [
    "FORMATS",
    "Deleted",
    "Limits",
    "ParseError",
    "Parsed",
    "RecordError",
    "RecordWarning",
    "checked",
    "detect_format",
    "open_input",
    "parse_any",
]
