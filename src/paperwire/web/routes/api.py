"""The JSON API, ``/api/v1``. Lists answer ``{"data": [...], "next": cursor}``; errors
are RFC 9457 problem details; writes take a personal API token (``Authorization:
Bearer pw_…``) or a browser session with its ``X-CSRF-Token``. Schemas: web.schemas."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from paperwire import ranking
from paperwire.errors import UserError
from paperwire.models import FeedEntry, SavedSearch, User
from paperwire.search.hybrid import Mode
from paperwire.search.results import plain
from paperwire.store.base import FeedOrder
from paperwire.web.cursors import CursorQuery, decode_cursor, encode_cursor
from paperwire.web.deps import (
    ApiUserDep,
    CategoryQuery,
    ServicesDep,
    YearQuery,
    api_caller,
    client_id,
    rate_limit,
)
from paperwire.web.schemas import (
    ERRORS,
    DailyOut,
    Hit,
    Me,
    PaperOut,
    PaperPage,
    SearchPage,
    SubmissionIn,
    SubmissionOut,
    SubscriptionIn,
    SubscriptionOut,
    TrendingItem,
    TrendingList,
    VoteIn,
    VoteOut,
    paper_out,
)
from paperwire.web.usecases import feed, papers, subscriptions
from paperwire.web.usecases import search as search_cases
from paperwire.web.usecases.search import SearchRequest

router = APIRouter(prefix="/api/v1", tags=["api"])

KeyPath = Annotated[str, Path(max_length=300, description="Paper key or arXiv id")]


def _out(request: Request, entry: FeedEntry) -> PaperOut:
    return paper_out(request.app.state.services.settings.base_url, entry)


def _offset(cursor: str | None) -> int:
    return min(decode_cursor(cursor), feed.MAX_PAGE * 100)


@router.get("/papers", response_model=PaperPage, responses=ERRORS)
def list_papers(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PaperPage:
    """Every paper, in the order they were stored; follow `next` for more."""
    rows = papers.recent_papers(services, decode_cursor(cursor), limit + 1, user)
    more = len(rows) > limit
    rows = rows[:limit]
    return PaperPage(
        data=[_out(request, entry) for _, entry in rows],
        next=encode_cursor(rows[-1][0]) if more and rows else None,
    )


@router.get("/papers/{key:path}/similar", response_model=PaperPage, responses=ERRORS)
def similar_papers(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    key: KeyPath,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> PaperPage:
    """The papers nearest in meaning to one paper; 503 (saying how) while it, or every
    other paper, has no vector yet."""
    papers.paper_entry(services, key, None)  # 404 for an unknown paper
    entries = papers.similar_entries(services, key, limit, explain=True)
    feed.mark_voted(services, entries, user)
    return PaperPage(data=[_out(request, e) for e in entries], next=None)


@router.put("/papers/{key:path}/vote", response_model=VoteOut, responses=ERRORS)
def put_vote(
    request: Request,
    services: ServicesDep,
    reader: Annotated[User, Depends(api_caller("vote"))],
    key: KeyPath,
    body: VoteIn,
) -> VoteOut:
    """Cast or withdraw the caller's upvote (idempotent)."""
    rate_limit(services, request, "vote", f"user:{reader.id}")
    voted, total = papers.vote(services, reader, key, body.vote)
    return VoteOut(key=key, voted=voted, upvotes=total)


@router.get("/papers/{key:path}", response_model=PaperOut, responses=ERRORS)
def get_paper(request: Request, services: ServicesDep, user: ApiUserDep, key: KeyPath) -> PaperOut:
    """One paper by key or arXiv id."""
    return _out(request, papers.paper_entry(services, key, user))


@router.get("/search", response_model=SearchPage, responses=ERRORS)
def search(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    mode: Mode = "hybrid",
    category: CategoryQuery = None,
    year_from: YearQuery = None,
    year_to: YearQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: CursorQuery = None,
) -> SearchPage:
    """Keyword, meaning or hybrid search with filters (the query language of the site).

    Results are served up to rank 1,000 and no further: the last page
    stops there (its `next` is null) and a cursor past it is refused with 400. Ranking a
    deeper page costs the work of every page before it; narrow the query instead."""
    offset = _offset(cursor)
    if offset >= search_cases.MAX_SEARCH_RESULTS:
        raise UserError(
            f"cursor {cursor!r}: search results are served up to the first "
            f"{search_cases.MAX_SEARCH_RESULTS:,}; narrow the query to see others"
        )
    limit = min(limit, search_cases.MAX_SEARCH_RESULTS - offset)
    page_request = SearchRequest(q, mode, category, year_from, year_to, 1, limit + offset)
    result = search_cases.run_search(services, page_request, user)
    hits = list(zip(result.hits, result.entries, strict=True))[offset:]
    more = result.has_more and offset + limit < search_cases.MAX_SEARCH_RESULTS
    return SearchPage(
        data=[
            Hit(paper=_out(request, entry), score=hit.score, snippet=plain(hit.snippet))
            for hit, entry in hits
        ],
        next=encode_cursor(offset + limit) if more else None,
    )


@router.get("/daily", response_model=DailyOut, responses=ERRORS)
def daily(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    date_: Annotated[date | None, Query(alias="date")] = None,
    view: feed.View = "day",
    sort: FeedOrder = "upvotes",
    cursor: CursorQuery = None,
) -> DailyOut:
    """The papers listed for a day (today by default), its week or its month."""
    page = _offset(cursor) + 1
    listed = feed.daily(services, date_ or services.clock().date(), view, sort, page, user)
    return DailyOut(
        data=[_out(request, e) for e in listed.entries],
        first=listed.first,
        last=listed.last,
        total=listed.total,
        next=encode_cursor(page) if page < listed.pages else None,
    )


@router.get("/trending", response_model=TrendingList, responses=ERRORS)
def trending(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 30,
) -> TrendingList:
    """Papers of the last week by upvotes with time decay."""
    ranked = feed.trending(services, limit, user)
    return TrendingList(
        data=[TrendingItem(paper=_out(request, e), score=s) for e, s in ranked],
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
    reader: Annotated[User, Depends(api_caller("submit papers"))],
    body: SubmissionIn,
) -> SubmissionOut:
    """Add a paper to today's feed by arXiv id or URL (200 if it was listed already)."""
    rate_limit(services, request, "submit", f"user:{reader.id}")
    entry, created = papers.submit(services, reader, body.arxiv)
    if not created:
        response.status_code = 200
    return SubmissionOut(paper=_out(request, entry), created=created)


@router.get("/me", response_model=Me, responses=ERRORS)
def me(reader: Annotated[User, Depends(api_caller("see your account"))]) -> Me:
    """The caller's account."""
    return Me(handle=reader.handle, email=reader.email, is_curator=reader.is_curator)


@router.post("/subscriptions", response_model=SubscriptionOut, status_code=202, responses=ERRORS)
def create_subscription(
    request: Request, services: ServicesDep, user: ApiUserDep, body: SubscriptionIn
) -> SubscriptionOut:
    """Subscribe an address to digests; a confirmation email is sent (double opt-in)."""
    rate_limit(services, request, "subscribe")
    searches = [
        SavedSearch(s.query, s.mode, s.category, s.year_from, s.year_to) for s in body.searches
    ]
    made, _ = subscriptions.start_subscription(
        services,
        email=body.email,
        frequency=body.frequency,
        trending=body.trending,
        searches=searches,
        user=user,
        requester=client_id(request),
        recommended=body.recommended,
        profile_id=body.collection,
    )
    return SubscriptionOut(
        status="active" if made.status == "active" else "pending", email=made.email
    )
