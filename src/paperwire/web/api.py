"""The JSON API, ``/api/v1``. Lists answer ``{"data": [...], "next": cursor}``; errors
are RFC 9457 problem details; writes take a personal API token (``Authorization:
Bearer pw_…``) or a browser session with its ``X-CSRF-Token``."""

from __future__ import annotations

import base64
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from paperwire.digest.subscribe import SubscriptionError, subscribe
from paperwire.models import FeedEntry, SavedSearch
from paperwire.presentation import paper_url
from paperwire.search.hybrid import Mode
from paperwire.search.results import plain
from paperwire.store.base import FeedOrder
from paperwire.web import views
from paperwire.web.deps import ApiUserDep, ServicesDep, rate_limit, require
from paperwire.web.views import SearchRequest, UserError

router = APIRouter(prefix="/api/v1", tags=["api"])

PROBLEM = {"content": {"application/problem+json": {}}, "description": "Problem details"}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 404: PROBLEM, 413: PROBLEM, 422: PROBLEM,
    429: PROBLEM, 502: PROBLEM, 503: PROBLEM,
}  # fmt: skip
KeyPath = Annotated[str, Path(max_length=300, description="Paper key or arXiv id")]


class Listing(BaseModel):
    """Where a paper is listed in the daily feed."""

    day: date
    submitter: str | None = Field(description="Handle of the submitter; null if imported")
    hidden: bool


class PaperOut(BaseModel):
    """A paper with its community data."""

    key: str
    arxiv_id: str | None
    title: str
    abstract: str
    authors: list[str]
    author_count: int | None
    published: date | None
    categories: list[str]
    doi: str | None
    url: str = Field(description="The paper's page on this site")
    arxiv_url: str | None
    pdf_url: str | None
    code_urls: list[str]
    upvotes: int
    voted: bool = Field(description="Whether the caller has upvoted it")
    listed: Listing | None


class PaperPage(BaseModel):
    """A page of papers and the cursor of the next page (null at the end)."""

    data: list[PaperOut]
    next: str | None


class Hit(BaseModel):
    """A search result."""

    paper: PaperOut
    score: float
    snippet: str


class SearchPage(BaseModel):
    """Search results and the offset of the next page."""

    data: list[Hit]
    next: str | None


class TrendingItem(BaseModel):
    """A trending paper and its decayed score."""

    paper: PaperOut
    score: float


class TrendingList(BaseModel):
    """Trending papers, best first, and how they are ranked."""

    data: list[TrendingItem]
    formula: str


class DailyOut(BaseModel):
    """The papers listed on a day (or week, or month)."""

    data: list[PaperOut]
    first: date
    last: date
    total: int
    next: str | None


class VoteIn(BaseModel):
    """Cast (true) or withdraw (false) an upvote."""

    vote: bool = True


class VoteOut(BaseModel):
    """The caller's vote and the paper's total."""

    key: str
    voted: bool
    upvotes: int


class SubmissionIn(BaseModel):
    """A paper to add to today's feed."""

    arxiv: str = Field(min_length=1, max_length=300, examples=["2401.12345"])


class SubmissionOut(BaseModel):
    """The listed paper, and whether this request listed it."""

    paper: PaperOut
    created: bool


class Me(BaseModel):
    """The caller's account."""

    handle: str
    email: str
    is_curator: bool


def paper_out(request: Request, entry: FeedEntry) -> PaperOut:
    """The API form of an entry."""
    paper = entry.paper
    base = request.app.state.services.settings.base_url.rstrip("/")
    listing = entry.submission
    return PaperOut(
        key=paper.key,
        arxiv_id=paper.arxiv_id,
        title=paper.title,
        abstract=paper.abstract,
        authors=[author.name for author in paper.authors],
        author_count=paper.n_authors,
        published=paper.published,
        categories=paper.categories,
        doi=paper.doi,
        url=base + paper_url(paper.key),
        arxiv_url=paper.arxiv_url,
        pdf_url=paper.pdf_url,
        code_urls=paper.code_urls,
        upvotes=entry.upvotes,
        voted=entry.voted,
        listed=Listing(day=listing.day, submitter=listing.submitter, hidden=listing.hidden)
        if listing
        else None,
    )


def _cursor(value: int) -> str:
    return base64.urlsafe_b64encode(f"id:{value}".encode()).decode().rstrip("=")


def _uncursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("id:"):
            raise ValueError(text)
        value = int(text[3:])
        if value < 0:
            raise ValueError(text)
        return value
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"cursor {cursor[:40]!r} is not one this API gave out") from exc


def _offset(cursor: str | None) -> int:
    return min(_uncursor(cursor), views.MAX_PAGE * 100)


@router.get("/papers", response_model=PaperPage, responses=ERRORS)
def list_papers(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PaperPage:
    """Every paper, in the order they were stored; follow `next` for more."""
    rows = services.store.page_papers(_uncursor(cursor), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    entries = [entry for _, entry in rows]
    views.mark_voted(services, entries, user)
    return PaperPage(
        data=[paper_out(request, e) for e in entries],
        next=_cursor(rows[-1][0]) if more and rows else None,
    )


@router.get("/papers/{key:path}/similar", response_model=PaperPage, responses=ERRORS)
def similar_papers(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    key: KeyPath,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> PaperPage:
    """The papers nearest in meaning to one paper."""
    views.paper_entry(services, key, None)  # 404 for an unknown paper
    entries = views.similar_entries(services, key, limit)
    views.mark_voted(services, entries, user)
    return PaperPage(data=[paper_out(request, e) for e in entries], next=None)


@router.put("/papers/{key:path}/vote", response_model=VoteOut, responses=ERRORS)
def put_vote(
    request: Request, services: ServicesDep, user: ApiUserDep, key: KeyPath, body: VoteIn
) -> VoteOut:
    """Cast or withdraw the caller's upvote (idempotent)."""
    reader = require(user, "vote")
    rate_limit(services, request, "vote", f"user:{reader.id}")
    voted, total = views.vote(services, reader, key, body.vote)
    return VoteOut(key=key, voted=voted, upvotes=total)


@router.get("/papers/{key:path}", response_model=PaperOut, responses=ERRORS)
def get_paper(request: Request, services: ServicesDep, user: ApiUserDep, key: KeyPath) -> PaperOut:
    """One paper by key or arXiv id."""
    return paper_out(request, views.paper_entry(services, key, user))


@router.get("/search", response_model=SearchPage, responses=ERRORS)
def search(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    mode: Mode = "hybrid",
    category: Annotated[str | None, Query(max_length=30)] = None,
    year_from: Annotated[int | None, Query(ge=1900, le=2999)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2999)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> SearchPage:
    """Keyword, meaning or hybrid search with filters (the query language of the site)."""
    offset = _offset(cursor)
    page_request = SearchRequest(q, mode, category, year_from, year_to, 1, limit + offset)
    result = views.run_search(services, page_request, user)
    hits = list(zip(result.hits, result.entries, strict=True))[offset:]
    return SearchPage(
        data=[
            Hit(paper=paper_out(request, entry), score=hit.score, snippet=plain(hit.snippet))
            for hit, entry in hits
        ],
        next=_cursor(offset + limit) if result.has_more else None,
    )


@router.get("/daily", response_model=DailyOut, responses=ERRORS)
def daily(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    date_: Annotated[date | None, Query(alias="date")] = None,
    view: views.View = "day",
    sort: FeedOrder = "upvotes",
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> DailyOut:
    """The papers listed for a day (today by default), its week or its month."""
    page = _offset(cursor) + 1
    feed = views.daily(services, date_ or services.clock().date(), view, sort, page, user)
    return DailyOut(
        data=[paper_out(request, e) for e in feed.entries],
        first=feed.first,
        last=feed.last,
        total=feed.total,
        next=_cursor(page) if page < feed.pages else None,
    )


@router.get("/trending", response_model=TrendingList, responses=ERRORS)
def trending(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 30,
) -> TrendingList:
    """Papers of the last week by upvotes with time decay."""
    from paperwire import ranking

    ranked = views.trending(services, limit, user)
    return TrendingList(
        data=[TrendingItem(paper=paper_out(request, e), score=s) for e, s in ranked],
        formula=ranking.FORMULA,
    )


@router.post(
    "/submissions",
    response_model=SubmissionOut,
    status_code=201,
    responses={**ERRORS, 200: {"model": SubmissionOut, "description": "Listed already"}},
)
def submit(
    request: Request,
    response: Response,
    services: ServicesDep,
    user: ApiUserDep,
    body: SubmissionIn,
) -> SubmissionOut:
    """Add a paper to today's feed by arXiv id or URL (200 if it was listed already)."""
    reader = require(user, "submit papers")
    rate_limit(services, request, "submit", f"user:{reader.id}")
    entry, created = views.submit(services, reader, body.arxiv)
    if not created:
        response.status_code = 200
    return SubmissionOut(paper=paper_out(request, entry), created=created)


@router.get("/me", response_model=Me, responses=ERRORS)
def me(user: ApiUserDep) -> Me:
    """The caller's account."""
    reader = require(user, "see your account")
    return Me(handle=reader.handle, email=reader.email, is_curator=reader.is_curator)


class SavedSearchIn(BaseModel):
    """A saved search: new papers matching it are mailed."""

    query: str = Field(min_length=1, max_length=500)
    mode: Mode = "hybrid"
    category: str | None = Field(default=None, max_length=30)
    year_from: int | None = Field(default=None, ge=1900, le=2999)
    year_to: int | None = Field(default=None, ge=1900, le=2999)


class SubscriptionIn(BaseModel):
    """A digest subscription: trending papers and/or saved searches, daily or weekly."""

    email: str = Field(min_length=3, max_length=254)
    frequency: Literal["daily", "weekly"] = "daily"
    trending: bool = True
    searches: list[SavedSearchIn] = Field(default_factory=list, max_length=10)


class SubscriptionOut(BaseModel):
    """Pending: a confirmation link was mailed. Active: the caller's own address."""

    status: Literal["pending", "active"]
    email: str


@router.post("/subscriptions", response_model=SubscriptionOut, status_code=202, responses=ERRORS)
def create_subscription(
    request: Request, services: ServicesDep, user: ApiUserDep, body: SubscriptionIn
) -> SubscriptionOut:
    """Subscribe an address to digests; a confirmation email is sent (double opt-in)."""
    rate_limit(services, request, "subscribe")
    searches = [
        SavedSearch(s.query, s.mode, s.category, s.year_from, s.year_to) for s in body.searches
    ]
    try:
        made = subscribe(
            services.store, services.mailer, services.settings, services.clock(),
            body.email, body.frequency, body.trending, searches, user,
        )  # fmt: skip
    except SubscriptionError as exc:
        raise UserError(str(exc)) from exc
    return SubscriptionOut(
        status="active" if made.status == "active" else "pending", email=made.email
    )
