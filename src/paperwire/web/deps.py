"""Dependencies the routes declare: the services, the reader (by session cookie or API
token), the CSRF check for every form that changes state, rate limits, and the form and
query fields every route shares (defined once here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Form, Query, Request

from paperwire.errors import UserError
from paperwire.models import User
from paperwire.web.security import API_TOKEN_PREFIX, CSRF_HEADER, SESSION_COOKIE, csrf_valid
from paperwire.web.services import Services
from paperwire.web.usecases import accounts, feed, people

# Fields several routes take.
CsrfField = Annotated[str, Form(max_length=128)]
NextField = Annotated[str, Form(max_length=2000)]
NextQuery = Annotated[str, Query(max_length=2000)]
PageQuery = Annotated[int, Query(ge=1, le=feed.MAX_PAGE)]
ListPageQuery = Annotated[int, Query(ge=1, le=people.MAX_PAGE)]  # a person's, topic's list
CategoryQuery = Annotated[str | None, Query(max_length=30)]
YearQuery = Annotated[int | None, Query(ge=1900, le=2999)]


def get_services(request: Request) -> Services:
    """The process's Services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def session_user(request: Request, services: ServicesDep) -> User | None:
    """The signed-in reader of a browser session, if any."""
    user = accounts.session_user(services, request.cookies.get(SESSION_COOKIE, ""))
    request.state.user = user
    return user


def api_user(request: Request, services: ServicesDep) -> User | None:
    """The caller of an API route: a personal token (``Authorization: Bearer pw_…``),
    else the browser session (whose unsafe requests must carry X-CSRF-Token)."""
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(API_TOKEN_PREFIX) or len(token) > 128:
            raise UserError("Authorization must be 'Bearer pw_…' (a personal API token)", 401)
        owner = accounts.token_user(services, token)
        request.state.user = owner
        return owner
    user = session_user(request, services)
    if user is not None and request.method not in {"GET", "HEAD", "OPTIONS"}:
        check_csrf(request, services, request.headers.get(CSRF_HEADER))
    return user


ReaderDep = Annotated[User | None, Depends(session_user)]
ApiUserDep = Annotated[User | None, Depends(api_user)]


def require(user: User | None, what: str = "do this") -> User:
    """The user, or 401 for an anonymous caller."""
    if user is None:
        raise UserError(f"sign in to {what}", 401)
    return user


def signed_in(what: str) -> Callable[[User | None], User]:
    """A dependency: the signed-in reader of a page, or 401 ("sign in to WHAT")."""

    def reader(user: ReaderDep) -> User:
        return require(user, what)

    return reader


def api_caller(what: str) -> Callable[[User | None], User]:
    """A dependency: the API caller, or 401 ("sign in to WHAT")."""

    def caller(user: ApiUserDep) -> User:
        return require(user, what)

    return caller


def check_csrf(request: Request, services: Services, token: str | None) -> None:
    """403 unless the token is this browser's CSRF token."""
    binding = getattr(request.state, "csrf_binding", None)
    if not csrf_valid(services.secret, binding, token):
        raise UserError("the form has expired or came from another site; reload the page", 403)


def csrf_checked(request: Request, services: ServicesDep, csrf_token: CsrfField = "") -> None:
    """Every form that changes state declares this: 403 unless its csrf_token field is
    this browser's CSRF token. Runs before the route and before its own fields."""
    check_csrf(request, services, csrf_token)


CsrfChecked = Annotated[None, Depends(csrf_checked)]


class RateLimitedError(UserError):
    """Too many requests; `retry_after` seconds to wait."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many requests; try again in {int(retry_after) + 1} seconds", 429)
        self.retry_after = int(retry_after) + 1


def client_id(request: Request) -> str:
    """The client's address as the server saw it (X-Forwarded-For counts only from the
    configured trusted proxies: see `serve`)."""
    return request.client.host if request.client else "unknown"


def rate_limit(services: Services, request: Request, action: str, who: str | None = None) -> None:
    """429 with Retry-After when a client goes past an action's limit."""
    client = who or client_id(request)
    wait = services.limiter.hit(action, client)
    if wait > 0:
        raise RateLimitedError(wait)
