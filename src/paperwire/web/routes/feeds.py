"""Atom feeds (RFC 4287): today's papers, trending, and any search. Built with
ElementTree, so every title and abstract is escaped as XML; ids and links come from the
configured base URL."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from paperwire.models import FeedEntry
from paperwire.presentation import author_line, paper_url
from paperwire.search.hybrid import Mode
from paperwire.texmath import html, plain
from paperwire.web.atom import AtomFeed
from paperwire.web.deps import CategoryQuery, ServicesDep, YearQuery
from paperwire.web.paper_extras import atom_extras
from paperwire.web.render import with_query
from paperwire.web.schemas import ERRORS
from paperwire.web.usecases import feed, search
from paperwire.web.usecases.search import SearchRequest

router = APIRouter(prefix="/feeds", tags=["feeds"])
FEED_SIZE = 50
RESPONSES = {200: {"content": {"application/atom+xml": {}}, "description": "An Atom feed"}} | ERRORS


def _entry_time(entry: FeedEntry, fallback: datetime) -> datetime:
    if entry.submission is not None:
        return entry.submission.submitted_at
    if entry.paper.published is not None:
        return datetime.combine(entry.paper.published, time(), UTC)
    return fallback


def atom(
    request: Request, title: str, self_path: str, alternate: str, entries: list[FeedEntry]
) -> Response:
    """An Atom document of papers: each with its authors, categories, arXiv link and its
    abstract as HTML (formulas as MathML), newest listing time as the feed's update."""
    services = request.app.state.services
    base = services.settings.base_url.rstrip("/")
    now = services.clock()
    times = [_entry_time(e, now) for e in entries]
    document = AtomFeed(base + self_path, title, base + alternate, max(times) if times else now)
    for entry, moment in zip(entries, times, strict=True):
        paper = entry.paper
        published = datetime.combine(paper.published, time(), UTC) if paper.published else None
        item = document.entry(
            base + paper_url(paper.key),
            plain(paper.title),
            moment,
            author_line(paper) or "unknown authors",
            published,
        )
        if paper.arxiv_url:
            document.add(item, "link", rel="related", href=paper.arxiv_url, title="arXiv")
        for category in paper.categories:
            document.add(item, "category", term=category)
        extras = atom_extras(document, item, paper, base)
        # HTML, so that formulas arrive as MathML (escaped once more by ElementTree).
        summary = html(paper.abstract) if paper.abstract else "No abstract known."
        upvotes = f"{entry.upvotes} upvote{'s' if entry.upvotes != 1 else ''}"
        document.add(item, "summary", f"{extras}<p>{summary}</p><p>{upvotes}</p>", type="html")
    return document.response()


@router.get("/daily.atom", response_class=Response, responses=RESPONSES)
def daily_feed(request: Request, services: ServicesDep) -> Response:
    """The day the home page shows (today, or early in the day the latest day with
    papers), most upvoted first."""
    day = feed.home_day(services)
    entries = feed.daily(services, day, "day", "upvotes", 1, None).entries
    return atom(request, "paperwire: daily papers", "/feeds/daily.atom", "/daily", entries)


@router.get("/trending.atom", response_class=Response, responses=RESPONSES)
def trending_feed(request: Request, services: ServicesDep) -> Response:
    """Trending papers."""
    entries = [entry for entry, _ in feed.trending(services, FEED_SIZE, None)]
    return atom(request, "paperwire: trending papers", "/feeds/trending.atom", "/trending", entries)


@router.get("/search.atom", response_class=Response, responses=RESPONSES)
def search_feed(
    request: Request,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    mode: Mode = "hybrid",
    category: CategoryQuery = None,
    year_from: YearQuery = None,
    year_to: YearQuery = None,
) -> Response:
    """The best matches of a search: subscribe to a query in a feed reader."""
    wanted = SearchRequest(q, mode, category, year_from, year_to, 1, FEED_SIZE)
    result = search.run_search(services, wanted, None)
    params = {
        "q": q,
        "mode": mode,
        "category": category,
        "year_from": year_from,
        "year_to": year_to,
    }
    return atom(
        request,
        f"paperwire: {q}",
        with_query("/feeds/search.atom", **params),
        with_query("/search", **params),
        result.entries,
    )
