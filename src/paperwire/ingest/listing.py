"""The listing pages of a public daily-papers site, saved as plain text.

A page is a banner ("Get trending papers in your email inbox!", "Subscribe", "byAK and the
research community"), the page's date ("Nov 25"), then entries::

    Title line

    Abstract line

      • 6 authors
    ·
    Aug 8, 2023 12          <- date, then upvotes when the paper has any

The author/date block is missing for some entries. The site omits the year of dates in its
current year: "Oct 24" is the latest Oct 24 not after the page's date (and the page's own
date the latest not after the import day).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from paperwire.ingest.common import (
    MAX_RECORD_BYTES,
    Input,
    Parsed,
    ParseError,
    RecordError,
    as_stream,
    check_not_binary,
    decode_lines,
)
from paperwire.models import Paper, extract_code_urls

FORMAT = "listing"

BANNER_LINES = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
}
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
DATE_LINE_RE = re.compile(
    r"^(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?P<day>\d{1,2})"
    r"(?:,\s*(?P<year>\d{4}))?(?:\s+(?P<upvotes>\d+))?$",
    re.IGNORECASE,
)
AUTHORS_LINE_RE = re.compile(r"^[•·*\-]?\s*(?P<count>\d+)\s+authors?$", re.IGNORECASE)
SEPARATOR_LINES = {"·", "•", "-"}
# A title longer than this is an abstract that lost its title (a garbled page).
MAX_TITLE_CHARS = 500
# A page is read whole (its entries refer to its date): a saved page is ~100 KB.
MAX_PAGE_BYTES = 64 * 1024 * 1024
# One entry's abstract longer than this is refused (as one record of any format).
MAX_ABSTRACT_CHARS = MAX_RECORD_BYTES


def looks_like_listing(head: str) -> bool:
    """True when text looks like a saved listing page."""
    lowered = head.lower()
    return "byak and the research community" in lowered or bool(
        re.search(r"^\s*•\s*\d+\s+authors?\s*$", head, re.MULTILINE)
    )


def resolve_day(month: int, day: int, year: int | None, not_after: date) -> date | None:
    """A calendar date; with no year, the latest such day not after `not_after`."""
    if year is not None:
        try:
            return date(year, month, day)
        except ValueError:
            return None
    for candidate_year in range(not_after.year, not_after.year - 5, -1):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue  # Feb 29 in a common year, or a day that never exists
        if candidate <= not_after:
            return candidate
    return None


def _is_meta(line: str) -> bool:
    return line in SEPARATOR_LINES or bool(AUTHORS_LINE_RE.match(line) or DATE_LINE_RE.match(line))


def parse(data: Input, source: str = "<listing>", today: date | None = None) -> Iterator[Parsed]:
    """Papers of one listing page. `today` is the import day (resolves the page's date)."""
    raw = as_stream(data).read(MAX_PAGE_BYTES + 1)
    check_not_binary(raw[:8192], source)
    if len(raw) > MAX_PAGE_BYTES:
        raise ParseError(
            source, "size", f"a listing page over {MAX_PAGE_BYTES:,} bytes; split it into pages"
        )
    import_day = today or date.today()

    lines: list[tuple[int, str]] = []
    for number, line in decode_lines(raw, source):
        if isinstance(line, RecordError):
            yield line
            lines.append((number, "\ufffd"))  # keeps the entry that held it from importing
            continue
        stripped = line.strip()
        if stripped:
            lines.append((number, stripped))
    if not lines:
        raise ParseError(source, "line 1", "no text")

    page_day = import_day
    index = 0
    # The banner and the page's date come before the first entry.
    while index < len(lines):
        text = lines[index][1]
        if text.lower() in BANNER_LINES:
            index += 1
            continue
        match = DATE_LINE_RE.match(text)
        if match and not match.group("upvotes"):
            resolved = _match_day(match, import_day)
            page_day = resolved or import_day
            index += 1
            continue
        break

    while index < len(lines):
        number, title = lines[index]
        if _is_meta(title):
            yield RecordError(
                source, f"line {number}", f"unexpected {title!r} where a title should be"
            )
            index += 1
            continue
        if index + 1 >= len(lines) or _is_meta(lines[index + 1][1]):
            yield RecordError(source, f"line {number}", f"entry {title[:60]!r} has no abstract")
            index += 1
            while index < len(lines) and _is_meta(lines[index][1]):
                index += 1
            continue
        abstract = lines[index + 1][1]
        index += 2
        author_count: int | None = None
        published: date | None = None
        upvotes = 0
        while index < len(lines) and _is_meta(lines[index][1]):
            text = lines[index][1]
            authors = AUTHORS_LINE_RE.match(text)
            when = DATE_LINE_RE.match(text)
            if authors:
                author_count = int(authors.group("count"))
            elif when:
                published = _match_day(when, page_day)
                upvotes = int(when.group("upvotes") or 0)
            index += 1
        if "\ufffd" in title or "\ufffd" in abstract:
            yield RecordError(source, f"line {number}", "entry contains undecodable bytes; skipped")
            continue
        if len(title) > MAX_TITLE_CHARS:
            yield RecordError(
                source, f"line {number}", f"title of {len(title)} characters: page is garbled here"
            )
            continue
        if len(abstract) > MAX_ABSTRACT_CHARS:
            yield RecordError(
                source,
                f"line {number}",
                f"entry of {len(abstract):,} characters exceeds the "
                f"{MAX_ABSTRACT_CHARS:,}-character limit of one entry; skipped",
            )
            continue
        yield Paper(
            title=title,
            abstract=abstract,
            author_count=author_count,
            published=published,
            upvotes=upvotes,
            code_urls=extract_code_urls(abstract),
            sources=[f"{FORMAT}:{source.rsplit('/', 1)[-1]}"],
        )


def _match_day(match: re.Match[str], not_after: date) -> date | None:
    month = _MONTHS[match.group("month")[:3].lower()]
    year = int(match.group("year")) if match.group("year") else None
    return resolve_day(month, int(match.group("day")), year, not_after)
