"""Accounts: signing in by emailed link and out, the account page with its API tokens,
and readers' public pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire.errors import UserError
from paperwire.models import User
from paperwire.web import collections_usecases, usecases
from paperwire.web.deps import (
    CsrfChecked,
    NextField,
    NextQuery,
    ReaderDep,
    ServicesDep,
    rate_limit,
    signed_in,
)
from paperwire.web.render import render, with_query
from paperwire.web.responses import back
from paperwire.web.security import SESSION_COOKIE, safe_next
from paperwire.web.services import Services

router = APIRouter(include_in_schema=False)


@router.get("/users/{handle}", response_class=HTMLResponse)
def user_page(request: Request, services: ServicesDep, user: ReaderDep, handle: str) -> Response:
    """A reader's submissions and upvotes."""
    found = usecases.profile(services, handle, user)
    return render(
        request, "user.html", person=found.person, submitted=found.submitted,
        upvoted=found.upvoted,
    )  # fmt: skip


# -- signing in and out ---------------------------------------------------------------


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, user: ReaderDep, next: NextQuery = "/") -> Response:
    """Ask for a sign-in link."""
    return render(request, "signin.html", next=safe_next(next))


@router.post("/signin", response_class=HTMLResponse)
def signin(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    _: CsrfChecked,
    email: Annotated[str, Form(max_length=320)] = "",
    next: NextField = "/",
) -> Response:
    """Email a single-use sign-in link."""
    rate_limit(services, request, "signin")
    try:
        usecases.send_signin_link(services, email, safe_next(next))
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
    next: NextQuery = "/",
) -> Response:
    """The page a sign-in link opens: one button, so that a link scanner does not spend it."""
    return render(request, "signin_confirm.html", token=token, next=safe_next(next))


@router.post("/signin/confirm")
def signin_confirm(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    token: Annotated[str, Form(max_length=128)] = "",
    next: NextField = "/",
) -> Response:
    """Spend the link and start a session."""
    rate_limit(services, request, "signin")
    _user, session = usecases.complete_signin(services, token)
    response = back(next, "signed-in")
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(usecases.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=services.settings.https,
        samesite="lax",
    )
    return response


@router.post("/signout")
def signout(request: Request, services: ServicesDep, _: CsrfChecked) -> Response:
    """End the session."""
    usecases.sign_out(services, request.cookies.get(SESSION_COOKIE))
    response = back("/", "signed-out")
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


# -- the account page -----------------------------------------------------------------


def _account(
    request: Request, services: Services, reader: User, new: str | None = None
) -> HTMLResponse:
    mine = usecases.account(services, reader)
    return render(
        request,
        "account.html",
        person=reader,
        submitted=mine.profile.submitted,
        upvoted=mine.profile.upvoted,
        tokens=mine.tokens,
        subscriptions=mine.subscriptions,
        feedback=collections_usecases.feedback(services, reader),
        new_token=new,
    )


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, services: ServicesDep, user: ReaderDep) -> Response:
    """The reader's submissions, upvotes and API tokens."""
    if user is None:
        return RedirectResponse(with_query("/signin", next="/account"), status_code=303)
    return _account(request, services, user)


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("create tokens"))],
    name: Annotated[str, Form(min_length=1, max_length=60)] = "token",
) -> Response:
    """Create a personal API token (shown once)."""
    rate_limit(services, request, "token", f"user:{reader.id}")
    token = usecases.create_api_token(services, reader, name)
    return _account(request, services, reader, new=token)


@router.post("/account/tokens/revoke")
def revoke_token(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("revoke tokens"))],
    token_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Revoke a personal API token."""
    usecases.revoke_api_token(services, reader, token_id)
    return back("/account", "token-revoked")
