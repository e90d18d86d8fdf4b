"""CSL JSON: what Zotero, Better BibTeX, Mendeley and pandoc export; an array of items
``{"id", "type", "title", "author": [{"family", "given"} | {"literal"}], "issued":
{"date-parts": [[2014, 7, 25]]}, "container-title", "DOI", "URL", "abstract", ...}``.

arXiv preprints exported by Zotero name their id in ``number`` ("arXiv:2106.09685"),
``DOI`` (10.48550/arXiv.2106.09685) or ``URL``; any of them gives the arXiv id."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from paperwire.ingest.common import (
    Input,
    Parsed,
    clean_ws,
    json_array_records,
)
from paperwire.models import Author, Paper, extract_code_urls, normalise_arxiv_id

FORMAT = "csl-json"
_ARXIV_IN_TEXT = re.compile(
    r"arxiv(?:\.org)?[.:/\s]*(?:abs/|pdf/)?(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})", re.I
)
# CSL's rich-text markup (<i>, <b>, <sup>, <sub>, <span class="nocase">).
_MARKUP = re.compile(r"</?(?:i|b|sup|sub|sc|span)(?:\s[^>]*)?>")
_CSL_KEYS = ("issued", "container-title", "citation-key", "author", "type")


def looks_like_csl(first: dict[str, Any]) -> bool:
    """True for a CSL item: a title plus a CSL type or CSL's date/creator shapes."""
    return "title" in first and any(key in first for key in _CSL_KEYS) and "paper" not in first


def _text(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if isinstance(value, list):  # some exporters give a list of strings
        value = " ".join(str(v) for v in value)
    if value is None or isinstance(value, dict):
        return ""
    return clean_ws(_MARKUP.sub("", str(value)))


def _authors(item: dict[str, Any]) -> list[Author]:
    authors: list[Author] = []
    for person in item.get("author") or []:
        if not isinstance(person, dict):
            continue
        if person.get("literal"):
            name = str(person["literal"])
        else:
            parts = [
                person.get("given"),
                person.get("non-dropping-particle"),
                person.get("family"),
                person.get("suffix"),
            ]
            name = " ".join(str(p) for p in parts if p)
        if clean_ws(name):
            authors.append(Author(clean_ws(name)))
    return authors


def csl_date(value: Any) -> date | None:
    """The first date of a CSL date variable: ``{"date-parts": [[y, m, d]]}`` (parts may
    be strings; month and day optional, a range's start taken) or ``{"raw": "2014-07"}``.
    ValueError when it is there but does not parse."""
    if not isinstance(value, dict):
        return None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        try:
            numbers = [int(str(p)) for p in parts[0][:3]]
        except ValueError as exc:
            raise ValueError(f"date-parts {parts[0]!r} are not numbers") from exc
        year, month, day = [*numbers, 1, 1][:3]
        # Seasons are months 13-16 (21-24 in some exports): the year is what is known.
        if not 1 <= month <= 12:
            month, day = 1, 1
        try:
            return date(year, month, day or 1)
        except ValueError:
            try:
                return date(year, month, 1)
            except ValueError as exc:
                raise ValueError(f"date-parts {parts[0]!r} are not a date") from exc
    raw = str(value.get("raw") or value.get("literal") or "").strip()
    if raw:
        match = re.match(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", raw)
        if not match:
            raise ValueError(f"date {raw[:40]!r} does not parse")
        return date(int(match.group(1)), int(match.group(2) or 1), int(match.group(3) or 1))
    return None


def _arxiv_id(item: dict[str, Any]) -> str | None:
    for name in ("number", "DOI", "URL", "archive_location", "note"):
        text = str(item.get(name) or "")
        if name == "DOI" and text.lower().startswith("10.48550/arxiv."):
            return normalise_arxiv_id(text[len("10.48550/arxiv.") :])
        match = _ARXIV_IN_TEXT.search(text)
        if match:
            return normalise_arxiv_id(match.group(1))
    return None


def item_to_paper(item: Any, problems: list[str]) -> Paper:
    """One CSL item as a Paper; ValueError names what is wrong. A date that does not
    parse is left out and explained in `problems`."""
    if not isinstance(item, dict):
        raise ValueError(f"expected a JSON object, got {type(item).__name__}")
    title = _text(item, "title")
    if not title:
        raise ValueError(f"item {str(item.get('id'))[:60]!r} has no title")
    try:
        published = csl_date(item.get("issued"))
    except ValueError as exc:
        problems.append(f"issued: {exc}; ignored")
        published = None
    abstract = _text(item, "abstract")
    url = _text(item, "URL") or None
    return Paper(
        title=title,
        abstract=abstract,
        arxiv_id=_arxiv_id(item),
        authors=_authors(item),
        published=published,
        doi=_text(item, "DOI") or None,
        url=url,
        journal_ref=_text(item, "container-title") or None,
        comments=_text(item, "note") or None,
        code_urls=extract_code_urls(f"{abstract} {url or ''}"),
        sources=[FORMAT],
    )


def parse(data: Input, source: str = "<csl-json>") -> Iterator[Parsed]:
    """Papers of a CSL JSON array, one item at a time (constant memory)."""
    yield from json_array_records(data, source, item_to_paper)
