"""The server-rendered pages. Every one works without JavaScript; every form carries
the CSRF token and every POST answers with a redirect (or the form again, with the
error next to the field)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from paperwire import ranking
from paperwire.presentation import paper_url
from paperwire.search.hybrid import Mode
from paperwire.store.base import FeedOrder
from paperwire.tokens import subscription_token
from paperwire.web import views
from paperwire.web.deps import ReaderDep, ServicesDep, check_csrf, rate_limit, require
from paperwire.web.render import render, with_query
from paperwire.web.security import SESSION_COOKIE, hash_token, new_token, safe_next
from paperwire.web.services import Services
from paperwire.web.views import SearchRequest, UserError

router = APIRouter(include_in_schema=False)

CsrfField = Annotated[str, Form(max_length=128)]
NextField = Annotated[str, Form(max_length=2000)]
TRENDING_SHOWN = 50


def _cached(request: Request, services: Services, build: Callable[[], HTMLResponse]) -> Response:
    """Serve an anonymous page from the page cache (signed-in pages are personal)."""
    if getattr(request.state, "user", None) is not None or SESSION_COOKIE in request.cookies:
        return build()
    key = request.url.path + "?" + request.url.query
    hit = services.pages.get(key)
    if hit is not None:
        return Response(hit[0], media_type=hit[1])
    response = build()
    if response.status_code == 200:
        services.pages.put(key, bytes(response.body), "text/html; charset=utf-8")
    return response


def _back(target: str, notice: str | None = None) -> RedirectResponse:
    url = safe_next(target)
    if notice:
        url += ("&" if "?" in url else "?") + f"notice={notice}"
    return RedirectResponse(url, status_code=303)


# -- reading ------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
@router.get("/daily", response_class=HTMLResponse)
def today(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    view: Literal["day", "week", "month"] = "day",
    sort: FeedOrder = "upvotes",
    page: Annotated[int, Query(ge=1, le=views.MAX_PAGE)] = 1,
) -> Response:
    """Today's papers."""
    return daily(request, services, user, services.clock().date(), view, sort, page)


@router.get("/daily/{day}", response_class=HTMLResponse)
def daily(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    day: date,
    view: Literal["day", "week", "month"] = "day",
    sort: FeedOrder = "upvotes",
    page: Annotated[int, Query(ge=1, le=views.MAX_PAGE)] = 1,
) -> Response:
    """The papers of a day, week or month."""

    def build() -> HTMLResponse:
        feed = views.daily(services, day, view, sort, page, user)
        return render(request, "daily.html", page=feed)

    return _cached(request, services, build)


@router.get("/trending", response_class=HTMLResponse)
def trending(request: Request, services: ServicesDep, user: ReaderDep) -> Response:
    """Upvotes with time decay."""

    def build() -> HTMLResponse:
        return render(
            request,
            "trending.html",
            ranked=views.trending(services, TRENDING_SHOWN, user),
            formula=ranking.FORMULA,
            window_days=ranking.WINDOW_DAYS,
        )

    return _cached(request, services, build)


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    q: Annotated[str, Query(max_length=500)] = "",
    mode: Mode = "hybrid",
    category: Annotated[str | None, Query(max_length=30)] = None,
    year_from: Annotated[int | None, Query(ge=1900, le=2999)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2999)] = None,
    page: Annotated[int, Query(ge=1, le=views.MAX_PAGE)] = 1,
) -> Response:
    """Hybrid search with filters."""
    wanted = SearchRequest(q, mode, category or None, year_from, year_to, page)
    error = None
    try:
        result = views.run_search(services, wanted, user)
    except UserError as exc:
        result, error = views.SearchResult(), str(exc)
    return render(
        request,
        "search.html",
        status=400 if error else 200,
        q=q,
        mode=mode,
        category=category,
        year_from=year_from,
        year_to=year_to,
        page=page,
        page_size=wanted.limit,
        result=result,
        error=error,
    )


@router.get("/papers/{key:path}", response_class=HTMLResponse)
def paper(request: Request, services: ServicesDep, user: ReaderDep, key: str) -> Response:
    """One paper: abstract, links, upvotes, listing, similar papers."""

    def build() -> HTMLResponse:
        entry = views.paper_entry(services, key, user)
        similar = views.similar_entries(services, entry.paper.key)
        views.mark_voted(services, similar, user)
        return render(request, "paper.html", e=entry, similar=similar)

    return _cached(request, services, build)


@router.get("/users/{handle}", response_class=HTMLResponse)
def user_page(request: Request, services: ServicesDep, user: ReaderDep, handle: str) -> Response:
    """A reader's submissions and upvotes."""
    person = services.store.get_user_by_handle(handle)
    if person is None:
        raise UserError(f"no reader called {handle[:60]!r}", 404)
    submitted = services.store.user_submissions(person.id)
    upvoted = services.store.user_upvoted(person.id)
    views.mark_voted(services, submitted + upvoted, user)
    return render(request, "user.html", person=person, submitted=submitted, upvoted=upvoted)


# -- voting, submitting, curating ---------------------------------------------------


@router.post("/papers/{key:path}/vote")
def vote(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    key: str,
    csrf_token: CsrfField = "",
    next: NextField = "/",
) -> Response:
    """Toggle the reader's upvote (JSON for the page's script, else a redirect back)."""
    check_csrf(request, services, csrf_token)
    reader = require(user, "upvote")
    rate_limit(services, request, "vote", f"user:{reader.id}")
    voted, total = views.vote(services, reader, key, None)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"key": key, "voted": voted, "upvotes": total})
    return _back(next)


@router.post("/papers/{key:path}/hide")
def hide(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    key: str,
    csrf_token: CsrfField = "",
    hidden: Annotated[Literal["0", "1"], Form()] = "1",
) -> Response:
    """A curator hides a submission from the feed (or shows it again)."""
    check_csrf(request, services, csrf_token)
    views.hide(services, require(user, "curate"), key, hidden == "1")
    return _back(paper_url(key), "hidden" if hidden == "1" else "shown")


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request, user: ReaderDep) -> Response:
    """The submission form."""
    return render(request, "submit.html")


@router.post("/submit", response_class=HTMLResponse)
def submit(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    csrf_token: CsrfField = "",
    arxiv: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Add a paper to today's feed by arXiv id or URL."""
    check_csrf(request, services, csrf_token)
    reader = require(user, "submit papers")
    rate_limit(services, request, "submit", f"user:{reader.id}")
    try:
        entry, created = views.submit(services, reader, arxiv)
    except UserError as exc:
        return render(request, "submit.html", status=exc.status, error=str(exc), value=arxiv)
    return _back(paper_url(entry.paper.key), "submitted" if created else "listed")


# -- signing in and out ---------------------------------------------------------------


@router.get("/signin", response_class=HTMLResponse)
def signin_form(
    request: Request, user: ReaderDep, next: Annotated[str, Query(max_length=2000)] = "/"
) -> Response:
    """Ask for a sign-in link."""
    return render(request, "signin.html", next=safe_next(next))


@router.post("/signin", response_class=HTMLResponse)
def signin(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    csrf_token: CsrfField = "",
    email: Annotated[str, Form(max_length=320)] = "",
    next: NextField = "/",
) -> Response:
    """Email a single-use sign-in link."""
    check_csrf(request, services, csrf_token)
    rate_limit(services, request, "signin")
    try:
        views.send_signin_link(services, email, safe_next(next))
    except UserError as exc:
        return render(
            request, "signin.html", status=exc.status, error=str(exc), email=email,
            next=safe_next(next),
        )  # fmt: skip
    return render(request, "signin_sent.html", email=email.strip())


@router.get("/signin/confirm", response_class=HTMLResponse)
def signin_confirm_form(
    request: Request,
    user: ReaderDep,
    token: Annotated[str, Query(max_length=128)] = "",
    next: Annotated[str, Query(max_length=2000)] = "/",
) -> Response:
    """The page a sign-in link opens: one button, so that a link scanner does not spend it."""
    return render(request, "signin_confirm.html", token=token, next=safe_next(next))


@router.post("/signin/confirm")
def signin_confirm(
    request: Request,
    services: ServicesDep,
    csrf_token: CsrfField = "",
    token: Annotated[str, Form(max_length=128)] = "",
    next: NextField = "/",
) -> Response:
    """Spend the link and start a session."""
    check_csrf(request, services, csrf_token)
    rate_limit(services, request, "signin")
    _, session = views.complete_signin(services, token)
    response = _back(next, "signed-in")
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(views.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=services.settings.https,
        samesite="lax",
    )
    return response


@router.post("/signout")
def signout(request: Request, services: ServicesDep, csrf_token: CsrfField = "") -> Response:
    """End the session."""
    check_csrf(request, services, csrf_token)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        services.store.delete_session(hash_token(token))
    response = _back("/", "signed-out")
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


# -- the account page -----------------------------------------------------------------


def _account(request: Request, services: Services, new: str | None = None) -> HTMLResponse:
    reader = require(getattr(request.state, "user", None), "see your account")
    submitted = services.store.user_submissions(reader.id)
    upvoted = services.store.user_upvoted(reader.id)
    views.mark_voted(services, submitted + upvoted, reader)
    return render(
        request,
        "account.html",
        person=reader,
        submitted=submitted,
        upvoted=upvoted,
        tokens=services.store.list_api_tokens(reader.id),
        subscriptions=[
            (sub, subscription_token(services.secret, sub.id))
            for sub in services.store.subscriptions_of(reader.email)
        ],
        new_token=new,
    )


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, services: ServicesDep, user: ReaderDep) -> Response:
    """The reader's submissions, upvotes and API tokens."""
    if user is None:
        return RedirectResponse(with_query("/signin", next="/account"), status_code=303)
    return _account(request, services)


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    csrf_token: CsrfField = "",
    name: Annotated[str, Form(min_length=1, max_length=60)] = "token",
) -> Response:
    """Create a personal API token (shown once)."""
    check_csrf(request, services, csrf_token)
    reader = require(user, "create tokens")
    rate_limit(services, request, "token", f"user:{reader.id}")
    token = new_token("pw_")
    services.store.add_api_token(hash_token(token), reader.id, name.strip(), services.clock())
    return _account(request, services, new=token)


@router.post("/account/tokens/revoke")
def revoke_token(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    csrf_token: CsrfField = "",
    token_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Revoke a personal API token."""
    check_csrf(request, services, csrf_token)
    reader = require(user, "revoke tokens")
    services.store.delete_api_token(reader.id, token_id)
    return _back("/account", "token-revoked")
