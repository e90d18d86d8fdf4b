"""Dependencies the routes declare: the services, the reader (by session cookie or API
token), and the CSRF check for anything that changes state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from paperwire.models import User
from paperwire.web.security import (
    API_TOKEN_PREFIX,
    CSRF_HEADER,
    SESSION_COOKIE,
    csrf_valid,
    hash_token,
)
from paperwire.web.services import Services
from paperwire.web.views import UserError


def get_services(request: Request) -> Services:
    """The process's Services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def session_user(request: Request, services: ServicesDep) -> User | None:
    """The signed-in reader of a browser session, if any."""
    token = request.cookies.get(SESSION_COOKIE)
    user = None
    if token and len(token) <= 128:
        user = services.store.session_user(hash_token(token), services.clock())
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
        user = services.store.api_token_user(hash_token(token))
        if user is None:
            raise UserError("unknown or revoked API token", 401)
        request.state.user = user
        return user
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


def check_csrf(request: Request, services: Services, token: str | None) -> None:
    """403 unless the token is this browser's CSRF token."""
    binding = getattr(request.state, "csrf_binding", None)
    if not csrf_valid(services.secret, binding, token):
        raise UserError("the form has expired or came from another site; reload the page", 403)


def rate_limit(services: Services, request: Request, action: str, who: str | None = None) -> None:
    """429 with Retry-After when a client goes past an action's limit."""
    client = who or (request.client.host if request.client else "unknown")
    wait = services.limiter.hit(action, client)
    if wait > 0:
        raise RateLimitedError(wait)


class RateLimitedError(UserError):
    """Too many requests; `retry_after` seconds to wait."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many requests; try again in {int(retry_after) + 1} seconds", 429)
        self.retry_after = int(retry_after) + 1
