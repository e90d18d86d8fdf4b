"""Which days a run harvests, whether a harvested day counts as complete, and how far
the cursor may move.

The cursor is the last day up to which every day was fully harvested: it moves only over
an unbroken run of complete days that are over (today is still filling up), so a day that
failed or looked short holds it back and is harvested again by the next run (a gap is
back-filled, nothing is skipped). A day looks short — suspect — when upstream's list is
shorter than the count upstream itself announced, or when a weekday brings in less than a
quarter of the source's recent median: the two ways third-party feeds were seen to break
(a partly updated list collapsing a feed to one item; yesterday's batch served again as if
it were a quiet day). A suspect day seen MAX_ATTEMPTS times with the same answer is
accepted, with a note: some days really are quiet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from paperwire.store.sources import SourceDay

MAX_ATTEMPTS = 3
SHORT_FRACTION = 0.25
HISTORY_DAYS = 20  # recent complete weekdays the median is taken over
MIN_HISTORY = 3  # below this, there is no "usual" to compare with


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a harvested day is recorded."""

    status: str  # 'done' | 'suspect' | 'failed'
    note: str | None = None


def first_day(cursor: date | None, start: date | None, today: date, backfill_days: int) -> date:
    """The first day a run looks at: the one after the cursor, else the configured start,
    else `backfill_days` before today."""
    if cursor is not None:
        return cursor + timedelta(days=1)
    return start or today - timedelta(days=backfill_days)


def days_to_harvest(
    cursor: date | None,
    start: date | None,
    today: date,
    recorded: list[SourceDay],
    backfill_days: int,
) -> list[date]:
    """Every day from the first day through today, except days already complete and
    read after they were over (a day read while it was today is read again: its list
    was still growing)."""
    final = {d.day for d in recorded if d.final}
    day = first_day(cursor, start, today, backfill_days)
    days = []
    while day <= today:
        if day not in final:
            days.append(day)
        day += timedelta(days=1)
    return days


def usual_count(recorded: list[SourceDay], before: date) -> float | None:
    """The median record count of the recent complete weekdays before a day (None when
    there are too few to say what is usual)."""
    counts = [
        d.records for d in recorded if d.status == "done" and d.day < before and d.day.weekday() < 5
    ][-HISTORY_DAYS:]
    if len(counts) < MIN_HISTORY:
        return None
    return float(median(counts))


def judge(
    day: date,
    records: int,
    stated: int | None,
    garbled: str | None,
    usual: float | None,
    attempts_before: int,
    today: date,
) -> Verdict:
    """The verdict on one harvested day (see the module's rule). Today is never called
    short: its list is still filling up, and it is read again once it is over."""
    if garbled:
        return Verdict("failed", garbled)
    if day >= today:
        return Verdict("done", "still filling up")
    problem = None
    if stated is not None and records < stated:
        problem = f"upstream listed {records} of the {stated} records it announced"
    elif day.weekday() < 5 and usual is not None and records < SHORT_FRACTION * usual:
        problem = f"{records} records on a weekday; the recent median is {usual:g}"
    if problem is None:
        return Verdict("done")
    if attempts_before + 1 >= MAX_ATTEMPTS:
        return Verdict("done", f"accepted after {attempts_before + 1} attempts: {problem}")
    return Verdict("suspect", problem)


def advance(
    cursor: date | None, first: date, today: date, recorded: list[SourceDay]
) -> date | None:
    """The new cursor: past every complete day from `first` on, stopping at the first day
    that is not complete or not over yet."""
    status = {d.day: d.status for d in recorded}
    day, moved = first, cursor
    while day < today and status.get(day) == "done":
        moved = day
        day += timedelta(days=1)
    return moved
