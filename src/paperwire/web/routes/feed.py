"""The feed pages: today's papers, any day, week or month, and trending."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire import ranking
from paperwire.store.base import FeedOrder
from paperwire.web.deps import PageQuery, ReaderDep, ServicesDep
from paperwire.web.render import render, with_query
from paperwire.web.responses import cached
from paperwire.web.usecases import feed
from paperwire.web.usecases.feed import View

router = APIRouter(include_in_schema=False)
TRENDING_SHOWN = 50
Layout = Literal["cards", "list"]


@router.get("/", response_class=HTMLResponse)
@router.get("/daily", response_class=HTMLResponse)
def today(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    view: View = "day",
    sort: FeedOrder = "upvotes",
    page: PageQuery = 1,
    day: Annotated[date | None, Query(alias="date")] = None,
    layout: Layout = "cards",
) -> Response:
    """Today's papers, or the latest day with papers when today has none yet; the date
    picker's choice (``?date=``) is sent to its own address."""
    if day is not None:
        return RedirectResponse(
            with_query(
                f"/daily/{day.isoformat()}",
                view=None if view == "day" else view,
                sort=None if sort == "upvotes" else sort,
                layout=None if layout == "cards" else layout,
            ),
            status_code=303,
        )
    home = feed.home_day(services)
    note = home != services.clock().date()
    return _feed(request, services, user, home, view, sort, page, layout, home_note=note)


@router.get("/daily/{day}", response_class=HTMLResponse)
def daily(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    day: date,
    view: View = "day",
    sort: FeedOrder = "upvotes",
    page: PageQuery = 1,
    layout: Layout = "cards",
) -> Response:
    """The papers of a day, week or month, as cards or as a compact list."""
    return _feed(request, services, user, day, view, sort, page, layout)


def _feed(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    day: date,
    view: View,
    sort: FeedOrder,
    page: int,
    layout: Layout,
    home_note: bool = False,
) -> Response:
    """One page of a feed; a page past the last answers 404 naming how many there are
    (never "page 99 of 9"). `home_note`: the home page shows an earlier day than today."""

    def build() -> HTMLResponse:
        listed = feed.daily(services, day, view, sort, page, user)
        if page > listed.pages:
            raise HTTPException(
                404,
                f"There is no page {page} of the {view} of {day.isoformat()}: it has "
                f"{listed.pages} page{'s' if listed.pages != 1 else ''}.",
            )
        return render(request, "daily.html", page=listed, layout=layout, home_note=home_note)

    return cached(request, services, build, view=view, sort=sort, page=page, layout=layout)


@router.get("/trending", response_class=HTMLResponse)
def trending(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    sort: Literal["trending", "discussed"] = "trending",
) -> Response:
    """Upvotes with time decay (or, sort=discussed, the same week by comments)."""

    def build() -> HTMLResponse:
        ranked = feed.trending(services, TRENDING_SHOWN, user, sort)
        return render(
            request,
            "trending.html",
            ranked=ranked,
            sort=sort,
            formula=ranking.FORMULA,
            window_days=ranking.WINDOW_DAYS,
        )

    return cached(request, services, build, sort=sort)
