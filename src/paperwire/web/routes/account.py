"""Accounts: signing in by emailed link and out, the account page with its API tokens,
and readers' public pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from paperwire.errors import UserError
from paperwire.models import User
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
from paperwire.web.security import CSRF_COOKIE, SESSION_COOKIE, new_token, safe_next
from paperwire.web.services import Services
from paperwire.web.usecases import accounts, channels, collections, comments, export

router = APIRouter(include_in_schema=False)


@router.get("/users/{handle}", response_class=HTMLResponse)
def user_page(request: Request, services: ServicesDep, user: ReaderDep, handle: str) -> Response:
    """A reader's submissions and upvotes."""
    found = accounts.profile(services, handle, user)
    return render(
        request,
        "user.html",
        person=found.person,
        submitted=found.submitted,
        upvoted=found.upvoted,
    )


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
        accounts.send_signin_link(services, email, safe_next(next))
    except UserError as exc:
        return render(
            request,
            "signin.html",
            status=exc.status,
            error=str(exc),
            email=email,
            next=safe_next(next),
        )
    return render(request, "signin_sent.html", email=email.strip())


@router.get("/signin/confirm", response_class=HTMLResponse)
def signin_confirm_form(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    token: Annotated[str, Query(max_length=128)] = "",
    next: NextQuery = "/",
) -> Response:
    """The page a sign-in link opens: one button, so that a link scanner does not spend
    it, and the address it signs in as."""
    email = accounts.signin_link_address(services, token)
    return render(request, "signin_confirm.html", token=token, next=safe_next(next), email=email)


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
    try:
        _user, session = accounts.complete_signin(services, token)
    except UserError as exc:  # a used or expired link: offer a new one on the spot
        return render(
            request,
            "signin.html",
            status=exc.status,
            error=str(exc),
            next=safe_next(next),
        )
    response = back(next, "signed-in")
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=services.settings.https,
        samesite="lax",
    )
    # A new CSRF cookie with the new session: no token from before signing in is valid.
    response.set_cookie(
        CSRF_COOKIE,
        new_token(),
        max_age=31536000,
        httponly=True,
        secure=services.settings.https,
        samesite="lax",
    )
    return response


@router.post("/signout")
def signout(request: Request, services: ServicesDep, _: CsrfChecked) -> Response:
    """End the session."""
    accounts.sign_out(services, request.cookies.get(SESSION_COOKIE))
    response = back("/", "signed-out")
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


# -- the account page -----------------------------------------------------------------


def _account(
    request: Request,
    services: Services,
    reader: User,
    new: str | None = None,
    status: int = 200,
    **extra: object,
) -> HTMLResponse:
    mine = accounts.account(services, reader)
    return render(
        request,
        "account.html",
        status=status,
        channels=channels.reader_channels(services, reader),
        collections=collections.collections(services, reader),
        **extra,
        person=reader,
        submitted=mine.profile.submitted,
        upvoted=mine.profile.upvoted,
        tokens=mine.tokens,
        subscriptions=mine.subscriptions,
        feedback=collections.feedback(services, reader),
        comment_mail=comments.mail_enabled(services, reader),
        new_token=new,
    )


NEW_TOKEN_COOKIE = "pw_new_token"


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, services: ServicesDep, user: ReaderDep) -> Response:
    """The reader's submissions, upvotes and API tokens; a token just created is shown
    once (it comes from a short-lived cookie the creating POST set, then cleared)."""
    if user is None:
        return RedirectResponse(with_query("/signin", next="/account"), status_code=303)
    fresh = accounts.fresh_api_token(services, user, request.cookies.get(NEW_TOKEN_COOKIE, ""))
    response = _account(request, services, user, new=fresh)
    if NEW_TOKEN_COOKIE in request.cookies:
        response.delete_cookie(NEW_TOKEN_COOKIE, path="/account", httponly=True, samesite="strict")
    return response


@router.get("/account/export.json")
def export_my_data(
    services: ServicesDep, reader: Annotated[User, Depends(signed_in("download your data"))]
) -> Response:
    """Everything stored about the signed-in reader, as one JSON file to download."""
    data = export.reader_data(services, reader)
    return JSONResponse(
        data,
        headers={"Content-Disposition": 'attachment; filename="paperwire-my-data.json"'},
    )


@router.post("/account/tokens")
def create_token(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("create tokens"))],
    name: Annotated[str, Form(min_length=1, max_length=60)] = "token",
) -> Response:
    """Create a personal API token, then redirect (post/redirect/get: a reload does not
    make a second one); the account page shows the token once."""
    rate_limit(services, request, "token", f"user:{reader.id}")
    token = accounts.create_api_token(services, reader, name)
    response = back("/account", "token-created")
    response.set_cookie(
        NEW_TOKEN_COOKIE,
        token,
        max_age=300,
        path="/account",
        httponly=True,
        secure=services.settings.https,
        samesite="strict",
    )
    return response


@router.post("/account/handle", response_class=HTMLResponse)
def change_handle(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("choose a handle"))],
    handle: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Choose one's public handle; an error comes back beside the field, the text kept."""
    try:
        accounts.change_handle(services, reader, handle)
    except UserError as exc:
        return _account(
            request, services, reader, status=exc.status, handle_error=str(exc), handle_typed=handle
        )
    return back("/account", "handle-changed", "handle-heading")


@router.post("/account/tokens/revoke")
def revoke_token(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("revoke tokens"))],
    token_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Revoke a personal API token."""
    accounts.revoke_api_token(services, reader, token_id)
    return back("/account", "token-revoked")


@router.post("/account/channels", response_class=HTMLResponse)
def add_channel(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("add channels"))],
    name: Annotated[str, Form(max_length=60)] = "",
    target: Annotated[str, Form(max_length=2000)] = "",
    frequency: Annotated[str, Form(max_length=10)] = "daily",
    what: Annotated[str, Form(max_length=20)] = "for-you",
    query: Annotated[str, Form(max_length=500)] = "",
    collection: Annotated[int | None, Form(ge=1, le=collections.MAX_ID)] = None,
) -> Response:
    """Add one of the reader's channels; a webhook's signing secret is shown this once."""
    rate_limit(services, request, "subscribe", f"user:{reader.id}")
    try:
        channel, secret = channels.add(
            services, reader, name.strip(), target, frequency, what, query, collection
        )
    except UserError as exc:
        return _account(request, services, reader, status=exc.status, channel_error=str(exc))
    return _account(request, services, reader, channel_added=channel.name, channel_secret=secret)


@router.post("/account/channels/remove")
def remove_channel(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("remove channels"))],
    name: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """Remove one of the reader's channels."""
    channels.remove(services, reader, name)
    return back("/account", "channel-removed")
