"""The day each seed paper was listed on its source site (data/seed-days.tsv).

The five seed listing pages (data/SOURCES.md) give days in two ways: four carry one day
for the whole page ("Mar 18"), the fifth gives each paper its own day under its author
count ("Aug 8, 2023", "Jun 16") and its page day ("Nov 25") to the papers without one.
A paper on several pages is listed on the earliest of its days.

**The year.** The site omits the year of a day in its current year. The pages state years
up to 2024 (the latest "Dec 3, 2024") and omit it for "Oct 24", "Jun 16", ... so they were
saved in 2025 at the earliest; :data:`SAVED_YEAR` is that year, and a day given without a
year is the latest such day of it not after the page's own day. The file marks each such
day as inferred (its ``stated`` column keeps the text the page gave), and the import says
how many it inferred.

`python -m paperwire.seeddays PAGE...` writes the file from the pages."""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

from paperwire.ingest.listing import (
    AUTHORS_LINE_RE,
    BANNER_LINES,
    DATE_LINE_RE,
    SEPARATOR_LINES,
    resolve_day,
)
from paperwire.models import title_key

SEED_DAYS = "seed-days.tsv"
# The year the seed pages were saved in (the earliest consistent with the years they state).
SAVED_YEAR = 2025
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


@dataclass(frozen=True, slots=True)
class SeedDay:
    """A seed paper's listing day; `stated` is the day as its page wrote it."""

    key: str
    day: date
    stated: str
    page: str

    @property
    def year_inferred(self) -> bool:
        """True when the page gave no year (the year is :data:`SAVED_YEAR`'s rule)."""
        return not re.search(r"\d{4}", self.stated)


def _day(text: str, not_after: date) -> tuple[date, str] | None:
    match = DATE_LINE_RE.match(text)
    if match is None:
        return None
    month = _MONTHS.index(match.group("month")[:3].lower()) + 1
    year = int(match.group("year")) if match.group("year") else None
    day = resolve_day(month, int(match.group("day")), year, not_after)
    stated = text if match.group("upvotes") is None else text.rsplit(" ", 1)[0]
    return (day, stated) if day is not None else None


def page_days(text: str, page: str) -> list[SeedDay]:
    """Each entry of one saved listing page with the day it was listed: its own day
    when the page gives one under the entry, else the page's day."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    year_end = date(SAVED_YEAR, 12, 31)
    index = 0
    page_day: tuple[date, str] | None = None
    while index < len(lines):
        if lines[index].lower() in BANNER_LINES:
            index += 1
            continue
        found = _day(lines[index], year_end)
        if found is not None and page_day is None:
            page_day = found
            index += 1
            continue
        break
    if page_day is None:
        raise ValueError(f"{page}: no page day before the first entry")
    out: list[SeedDay] = []
    while index + 1 < len(lines):
        title = lines[index]
        index += 2  # the title and its abstract
        own: tuple[date, str] | None = None
        while index < len(lines) and (
            lines[index] in SEPARATOR_LINES
            or AUTHORS_LINE_RE.match(lines[index])
            or DATE_LINE_RE.match(lines[index])
        ):
            own = _day(lines[index], page_day[0]) or own
            index += 1
        day, stated = own or page_day
        out.append(SeedDay(title_key(title), day, stated, page))
    return out


def earliest(days: Iterable[SeedDay]) -> dict[str, SeedDay]:
    """One day per paper: the earliest it was listed on."""
    best: dict[str, SeedDay] = {}
    for item in days:
        if item.key not in best or item.day < best[item.key].day:
            best[item.key] = item
    return best


@lru_cache(maxsize=1)
def seed_days() -> dict[str, SeedDay]:
    """The shipped file: each seed paper's key to its listing day."""
    text = resources.files("paperwire.data").joinpath(SEED_DAYS).read_text("utf-8")
    rows = csv.DictReader(io.StringIO(text), delimiter="\t")
    return {
        row["key"]: SeedDay(row["key"], date.fromisoformat(row["day"]), row["stated"], row["page"])
        for row in rows
    }


def write_tsv(days: dict[str, SeedDay]) -> str:
    """The file's text, one row per paper in key order."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(["key", "day", "stated", "page"])
    for key in sorted(days):
        item = days[key]
        writer.writerow([key, item.day.isoformat(), item.stated, item.page])
    return out.getvalue()


def main(paths: list[str]) -> None:
    """Print the file for the given saved pages."""
    found: list[SeedDay] = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            found.extend(page_days(handle.read(), path.rsplit("/", 1)[-1]))
    sys.stdout.write(write_tsv(earliest(found)))


if __name__ == "__main__":
    main(sys.argv[1:])
