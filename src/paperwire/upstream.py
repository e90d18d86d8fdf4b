"""What upstream says about a paper beyond its bibliographic record (issue 29): the AI
summary and keywords Hugging Face writes, the organization, the project page, the code
repositories and their stars, the models, datasets and Spaces that cite the paper, and
who submitted it to a daily list.

Each field is kept with where it came from and when it was read (:class:`Upstream`).
The rule (the trust rule of models.merge_papers, extended to these fields):

- only a trusted source's record carries them (a reader's record has none: see
  models.as_reader_record), so a reader never sets or changes one;
- a later trusted read of a field replaces an earlier one (stars grow, a summary is
  rewritten); a read that says the same thing keeps the earlier entry, so re-importing
  the same file changes nothing (and rewrites no row);
- a value that fails validation (:func:`clean`) is dropped and never replaces a good one.

Pure: no I/O. The store keeps the fields as one JSON column (migration 0015)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

# The fields a paper may keep, and what each holds (see :func:`clean`).
SUMMARY: Final = "summary"  # str: a one-line TL;DR (HF ai_summary)
KEYWORDS: Final = "keywords"  # list[str] (HF ai_keywords)
ORGANIZATION: Final = "organization"  # {"name": str, "fullname": str}
PROJECT_PAGE: Final = "project_page"  # str: an http(s) URL
CODE: Final = "code"  # list[{"url": str, "stars": int | None}]
MODELS: Final = "models"  # {"count": int, "ids": list[str]}
DATASETS: Final = "datasets"
SPACES: Final = "spaces"
SUBMITTER: Final = "submitter"  # str: who listed it on the upstream daily page
KEYPHRASES: Final = "keyphrases"  # list[str]: extracted here (source "local")
FIELDS: Final = (
    SUMMARY,
    KEYWORDS,
    ORGANIZATION,
    PROJECT_PAGE,
    CODE,
    MODELS,
    DATASETS,
    SPACES,
    SUBMITTER,
    KEYPHRASES,
)
LINKED: Final = (MODELS, DATASETS, SPACES)

MAX_TEXT = 1000
MAX_NAME = 200
MAX_URL = 500
MAX_ITEMS = 50
_SOURCE = re.compile(r"^[a-z][a-z0-9._-]{0,39}$")
_HUB_ID = re.compile(r"^[\w.\-]{1,96}(?:/[\w.\-]{1,96})?$")


@dataclass(frozen=True, slots=True)
class Upstream:
    """One field's value, the source that gave it ("hf-daily", "local") and when it
    was read (UTC, ISO 8601 to the second)."""

    value: Any
    source: str
    read_at: str


Extras = dict[str, Upstream]


def read_time(when: datetime) -> str:
    """The form `read_at` takes: UTC to the second ("2026-03-06T03:55:12Z")."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text[:limit] if text else None


def _url(value: Any) -> str | None:
    text = _text(value, MAX_URL)
    if text is None or " " in text or not re.match(r"^https?://[^/\s]+", text, re.IGNORECASE):
        return None
    return text


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return min(value, 1 << 40)


def _phrases(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    found: dict[str, None] = {}
    for item in value[:MAX_ITEMS]:
        text = _text(item, MAX_NAME)
        if text:
            found.setdefault(text, None)
    return list(found) or None


def clean(name: str, value: Any) -> Any | None:
    """The value of field `name` made safe to keep, or None when it is not valid (it is
    then dropped): texts bounded and single-spaced, URLs http(s) only, counts
    non-negative integers, lists bounded (MAX_ITEMS) and free of duplicates."""
    if name in {SUMMARY}:
        return _text(value, MAX_TEXT)
    if name == SUBMITTER:
        return _text(value, MAX_NAME)
    if name in {KEYWORDS, KEYPHRASES}:
        return _phrases(value)
    if name == PROJECT_PAGE:
        return _url(value)
    if name == ORGANIZATION:
        if not isinstance(value, dict):
            return None
        short = _text(value.get("name"), MAX_NAME)
        if short is None:
            return None
        return {"name": short, "fullname": _text(value.get("fullname"), MAX_NAME) or short}
    if name == CODE:
        if not isinstance(value, list):
            return None
        repos: list[dict[str, Any]] = []
        for item in value[:MAX_ITEMS]:
            url = _url(item.get("url")) if isinstance(item, dict) else None
            if url and all(r["url"] != url for r in repos):
                repos.append({"url": url, "stars": _count(item.get("stars"))})
        return repos or None
    if name in LINKED:
        if not isinstance(value, dict):
            return None
        count = _count(value.get("count"))
        ids = [
            i
            for i in (value.get("ids") or [])[:MAX_ITEMS]
            if isinstance(i, str) and _HUB_ID.match(i)
        ]
        if count is None:
            count = len(ids) if ids else None
        if count is None:
            return None
        return {"count": max(count, len(ids)), "ids": ids}
    return None


def make(source: str, when: datetime, **values: Any) -> Extras:
    """The fields a source read at `when`, each cleaned (invalid or empty ones left out;
    an unknown field name is a programming error: ValueError)."""
    if not _SOURCE.match(source):
        raise ValueError(f"source name {source[:40]!r} is not a short lower-case name")
    stamp = read_time(when)
    found: Extras = {}
    for name, raw in values.items():
        if name not in FIELDS:
            raise ValueError(f"{name!r} is not an upstream field ({', '.join(FIELDS)})")
        value = clean(name, raw)
        if value is not None:
            found[name] = Upstream(value, source, stamp)
    return found


def merge(old: Extras, new: Extras) -> Extras:
    """Both records' fields: per field the later read wins, unless it says the same as
    the earlier one (then the earlier entry, its time included, is kept)."""
    if not new:
        return old
    if not old:
        return new
    merged = dict(old)
    for name, entry in new.items():
        before = merged.get(name)
        if before is None or (entry.value != before.value and entry.read_at >= before.read_at):
            merged[name] = entry
    return merged


def to_json(extras: Extras) -> dict[str, Any]:
    """The JSON form the store keeps: {field: {"value", "source", "read_at"}}."""
    return {
        name: {"value": e.value, "source": e.source, "read_at": e.read_at}
        for name, e in extras.items()
    }


def from_json(data: Any) -> Extras:
    """Fields back from :func:`to_json` (anything unreadable is skipped, re-cleaned)."""
    found: Extras = {}
    if not isinstance(data, dict):
        return found
    for name, entry in data.items():
        if name not in FIELDS or not isinstance(entry, dict):
            continue
        value = clean(name, entry.get("value"))
        source, read_at = entry.get("source"), entry.get("read_at")
        if value is not None and isinstance(source, str) and isinstance(read_at, str):
            found[name] = Upstream(value, source, read_at)
    return found


def value(extras: Extras, name: str) -> Any | None:
    """A field's value (None when the paper has none)."""
    entry = extras.get(name)
    return entry.value if entry is not None else None


def stars(extras: Extras) -> int | None:
    """The most stars of the paper's code repositories (None when none is known)."""
    known = [r["stars"] for r in value(extras, CODE) or [] if r.get("stars") is not None]
    return max(known) if known else None


def organization_name(extras: Extras) -> str | None:
    """The short name of the organization upstream files the paper under."""
    org = value(extras, ORGANIZATION)
    return str(org["name"]) if org else None
