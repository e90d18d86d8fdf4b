"""The daily feed: a day, week or month of listings, the home page's day, trending, and
which of them a reader has upvoted."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, get_args

from paperwire.errors import UserError
from paperwire.models import FeedEntry, User
from paperwire.ranking import rank_trending, window_start
from paperwire.store.base import FeedOrder
from paperwire.web.services import Services

View = Literal["day", "week", "month"]
VIEWS: tuple[View, ...] = get_args(View)
PAGE_SIZE = 30
MAX_PAGE = 1000


def day_range(day: date, view: View) -> tuple[date, date]:
    """The first and last day a view of `day` covers (weeks start on Monday)."""
    if view == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=6)
    if view == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    return day, day


@dataclass(kw_only=True)
class DailyPage:
    """One page of the feed for a day, week or month."""

    day: date
    view: View
    order: FeedOrder
    first: date
    last: date
    entries: list[FeedEntry]
    total: int
    page: int
    pages: int
    earlier: date | None
    later: date | None


def daily(
    services: Services, day: date, view: View, order: FeedOrder, page: int, user: User | None
) -> DailyPage:
    """The papers listed for a day (or its week or month), PAGE_SIZE a page."""
    try:
        first, last = day_range(day, view)
    except OverflowError as exc:
        raise UserError(
            f"{day.isoformat()}: its {view} runs past the calendar's end (years 1 to 9999)"
        ) from exc
    page = max(1, min(page, MAX_PAGE))
    entries, total = services.store.feed(first, last, order, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    mark_voted(services, entries, user)
    if view == "day":
        earlier, later = services.store.adjacent_days(day)
    else:  # the neighbouring week or month (none past the calendar's ends)
        earlier = day_range(first - timedelta(days=1), view)[0] if first > date.min else None
        later = last + timedelta(days=1) if last < date.max else None
    if later is not None and later > services.clock().date():
        later = None  # nothing is listed in the future: no link into it
    return DailyPage(
        day=day,
        view=view,
        order=order,
        first=first,
        last=last,
        entries=entries,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        earlier=earlier,
        later=later,
    )


def home_day(services: Services) -> date:
    """The day the home page shows: today, or (early in the day, or on a quiet site)
    the latest day with papers, so the first page a reader sees is never empty."""
    today = services.clock().date()
    if services.store.feed(today, today, "upvotes", 1, 0)[1]:
        return today
    earlier, _ = services.store.adjacent_days(today)
    return earlier or today


def trending(
    services: Services,
    limit: int,
    user: User | None,
    order: Literal["trending", "discussed"] = "trending",
) -> list[tuple[FeedEntry, float]]:
    """The listings of the last week by decayed upvotes (ranking.py), best first; with
    order "discussed", the whole week's listings by comments (equal counts in trending
    order), each still with its trending score."""
    now = services.clock()
    ranked = rank_trending(services.store.listed_since(window_start(now)), now)
    if order == "discussed":  # a stable sort keeps the trending order among equals
        ranked.sort(key=lambda pair: -pair[0].comments)
    ranked = ranked[:limit]
    mark_voted(services, [entry for entry, _ in ranked], user)
    return ranked


def mark_voted(services: Services, entries: list[FeedEntry], user: User | None) -> None:
    """Set `voted` on the entries this user has upvoted."""
    if user is None or not entries:
        return
    mine = services.store.voted_keys(user.id, [e.paper.key for e in entries])
    for entry in entries:
        entry.voted = entry.paper.key in mine
