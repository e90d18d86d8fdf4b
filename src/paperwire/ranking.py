"""Trending: upvotes with time decay. Pure functions of the entries and the clock.

    score = (upvotes + 1) / (hours since submission + 2) ** GRAVITY

The Hacker News form: the +1 lets a new paper with no votes yet rank by its freshness,
the +2 hours keeps a paper from topping the list in its first minutes on one vote, and
GRAVITY = 1.8 makes age count: a paper listed 24 hours ago needs about three times the
upvotes of one listed 12 hours ago to rank beside it ((26/14)^1.8 = 3.0). Only papers
listed in the last WINDOW_DAYS compete."""

from __future__ import annotations

from datetime import datetime, timedelta

from paperwire.models import FeedEntry

GRAVITY = 1.8
OFFSET_HOURS = 2.0
WINDOW_DAYS = 7
FORMULA = "score = (upvotes + 1) / (hours since submission + 2) ^ 1.8, over the last 7 days"


def trending_score(upvotes: int, submitted_at: datetime, now: datetime) -> float:
    """The decayed score of one listing (see the module docstring)."""
    hours = max(0.0, (now - submitted_at).total_seconds() / 3600)
    return float((max(upvotes, 0) + 1) / (hours + OFFSET_HOURS) ** GRAVITY)


def window_start(now: datetime) -> datetime:
    """The earliest submission time that still competes."""
    return now - timedelta(days=WINDOW_DAYS)


def rank_trending(entries: list[FeedEntry], now: datetime) -> list[tuple[FeedEntry, float]]:
    """Listed entries by trending score, best first (ties: newer first, then key)."""
    scored = [
        (entry, trending_score(entry.upvotes, entry.submission.submitted_at, now))
        for entry in entries
        if entry.submission is not None
    ]
    scored.sort(
        key=lambda pair: (
            -pair[1],
            -pair[0].submission.submitted_at.timestamp() if pair[0].submission else 0.0,
            pair[0].paper.key,
        )
    )
    return scored
