"""Atom feeds (RFC 4287): today's papers, trending, and any search. Built with
ElementTree, so every title and abstract is escaped as XML; ids and links come from the
configured base URL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from paperwire.models import FeedEntry
from paperwire.presentation import author_line, paper_url
from paperwire.search.hybrid import Mode
from paperwire.texmath import html, plain
from paperwire.web import usecases
from paperwire.web.deps import CategoryQuery, ServicesDep, YearQuery
from paperwire.web.render import with_query
from paperwire.web.schemas import ERRORS
from paperwire.web.usecases import SearchRequest
from paperwire.xmltext import xml_safe

router = APIRouter(prefix="/feeds", tags=["feeds"])
ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
FEED_SIZE = 50
RESPONSES = {200: {"content": {"application/atom+xml": {}}, "description": "An Atom feed"}} | ERRORS
ET.register_namespace("", ATOM)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry_time(entry: FeedEntry, fallback: datetime) -> datetime:
    if entry.submission is not None:
        return entry.submission.submitted_at
    if entry.paper.published is not None:
        return datetime.combine(entry.paper.published, time(), UTC)
    return fallback


def atom(
    request: Request, title: str, self_path: str, alternate: str, entries: list[FeedEntry]
) -> Response:
    """An Atom document of entries."""
    services = request.app.state.services
    base = services.settings.base_url.rstrip("/")
    now = services.clock()
    feed = ET.Element(f"{{{ATOM}}}feed")

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        safe = {name: xml_safe(value) for name, value in attrs.items()}
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", safe)
        if text is not None:
            element.text = xml_safe(text)  # whatever is stored or asked for
        return element

    add(feed, "id", base + self_path)
    add(feed, "title", title)
    times = [_entry_time(e, now) for e in entries]
    add(feed, "updated", _stamp(max(times) if times else now))
    add(feed, "link", rel="self", type="application/atom+xml", href=base + self_path)
    add(feed, "link", rel="alternate", type="text/html", href=base + alternate)
    add(feed, "generator", "paperwire")
    for entry, moment in zip(entries, times, strict=True):
        paper = entry.paper
        item = add(feed, "entry")
        link = base + paper_url(paper.key)
        add(item, "id", link)
        add(item, "title", plain(paper.title))
        add(item, "updated", _stamp(moment))
        if paper.published:
            add(item, "published", _stamp(datetime.combine(paper.published, time(), UTC)))
        add(item, "link", rel="alternate", type="text/html", href=link)
        if paper.arxiv_url:
            add(item, "link", rel="related", href=paper.arxiv_url, title="arXiv")
        author = add(item, "author")
        add(author, "name", author_line(paper) or "unknown authors")
        for category in paper.categories:
            add(item, "category", term=category)
        # HTML, so that formulas arrive as MathML (escaped once more by ElementTree).
        summary = html(paper.abstract) if paper.abstract else "No abstract known."
        upvotes = f"{entry.upvotes} upvote{'s' if entry.upvotes != 1 else ''}"
        add(item, "summary", f"<p>{summary}</p><p>{upvotes}</p>", type="html")
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type=MEDIA_TYPE)


@router.get("/daily.atom", response_class=Response, responses=RESPONSES)
def daily_feed(request: Request, services: ServicesDep) -> Response:
    """The day the home page shows (today, or early in the day the latest day with
    papers), most upvoted first."""
    day = usecases.home_day(services)
    entries = usecases.daily(services, day, "day", "upvotes", 1, None).entries
    return atom(request, "paperwire: daily papers", "/feeds/daily.atom", "/daily", entries)


@router.get("/trending.atom", response_class=Response, responses=RESPONSES)
def trending_feed(request: Request, services: ServicesDep) -> Response:
    """Trending papers."""
    entries = [entry for entry, _ in usecases.trending(services, FEED_SIZE, None)]
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
    result = usecases.run_search(services, wanted, None)
    params = {
        "q": q, "mode": mode, "category": category, "year_from": year_from, "year_to": year_to,
    }  # fmt: skip
    return atom(
        request,
        f"paperwire: {q}",
        with_query("/feeds/search.atom", **params),
        with_query("/search", **params),
        result.entries,
    )
