"""Digest periods: the key that makes a digest unique per subscriber (the outbox's
UNIQUE (subscription, period)) and the span of time a first digest looks back over."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

Frequency = Literal["daily", "weekly"]
FREQUENCIES: tuple[Frequency, ...] = ("daily", "weekly")
SPAN = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
# A subscription that has not had a digest for long looks back at most this far.
MAX_LOOKBACK = timedelta(days=14)


def period_key(frequency: Frequency, now: datetime) -> str:
    """'daily:2026-11-23' or 'weekly:2026-W48' (ISO week) for the time of a run."""
    if frequency == "daily":
        return f"daily:{now.date().isoformat()}"
    year, week, _ = now.isocalendar()
    return f"weekly:{year}-W{week:02d}"


def window_start(frequency: Frequency, covered_until: datetime | None, now: datetime) -> datetime:
    """Where a digest's "new papers" begin: after what the last digest covered, else one
    period back; never more than MAX_LOOKBACK."""
    start = covered_until if covered_until is not None else now - SPAN[frequency]
    return max(start, now - MAX_LOOKBACK)
