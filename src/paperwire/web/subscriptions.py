"""Digest subscriptions on the site: the sign-up form (linked from every page), the
confirmation link's page, the manage page and one-click unsubscribe. The manage and
unsubscribe links carry a signed token, so they work without signing in; unsubscribing
takes one POST, as RFC 8058 mail clients send it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from paperwire.digest.subscribe import SubscriptionError, confirm, subscribe, validate
from paperwire.models import SavedSearch, Subscription
from paperwire.tokens import read_subscription_token, subscription_token
from paperwire.web.deps import ReaderDep, ServicesDep, check_csrf, rate_limit
from paperwire.web.render import render
from paperwire.web.services import Services
from paperwire.web.views import UserError

router = APIRouter(include_in_schema=False)
SEARCH_FIELDS = 3
CsrfField = Annotated[str, Form(max_length=128)]
Mode = Literal["hybrid", "lexical", "semantic"]


def _searches(queries: list[str], modes: list[str]) -> list[SavedSearch]:
    modes = modes + ["hybrid"] * (len(queries) - len(modes))
    return [SavedSearch(q.strip(), m) for q, m in zip(queries, modes, strict=False) if q.strip()]


def _owned(services: Services, token: str) -> Subscription:
    subscription_id = read_subscription_token(services.secret, token)
    subscription = services.store.get_subscription(subscription_id) if subscription_id else None
    if subscription is None:
        raise UserError("this subscription link is not valid", 404)
    return subscription


def _manage_page(
    request: Request,
    subscription: Subscription,
    token: str,
    searches: list[SavedSearch],
    status: int = 200,
    **extra: object,
) -> HTMLResponse:
    """The manage page, with a field for each search and a few empty ones."""
    return render(
        request, "manage.html", status=status, subscription=subscription, token=token,
        searches=searches, fields=max(SEARCH_FIELDS, len(searches)), **extra,
    )  # fmt: skip


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(
    request: Request, user: ReaderDep, email: Annotated[str, Query(max_length=254)] = ""
) -> Response:
    """The sign-up form."""
    return render(
        request, "subscribe.html", email=email or (user.email if user else ""),
        frequency="daily", trending=True, searches=[], fields=SEARCH_FIELDS,
    )  # fmt: skip


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe_submit(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    csrf_token: CsrfField = "",
    email: Annotated[str, Form(max_length=320)] = "",
    frequency: Annotated[str, Form(max_length=10)] = "daily",
    trending: Annotated[bool, Form()] = False,
    query: Annotated[list[str] | None, Form()] = None,
    mode: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Store a sign-up and send its confirmation link."""
    check_csrf(request, services, csrf_token)
    rate_limit(services, request, "subscribe")
    searches = _searches((query or [])[:SEARCH_FIELDS], mode or [])
    try:
        made = subscribe(
            services.store, services.mailer, services.settings, services.clock(),
            email, frequency, trending, searches, user,
        )  # fmt: skip
    except SubscriptionError as exc:
        return render(
            request, "subscribe.html", status=400, error=str(exc), email=email,
            frequency=frequency, trending=trending, searches=searches, fields=SEARCH_FIELDS,
        )  # fmt: skip
    if made.status == "active":
        token = subscription_token(services.secret, made.id)
        return render(request, "subscribed.html", subscription=made, token=token)
    return render(request, "subscribe_sent.html", email=made.email)


@router.get("/subscriptions/confirm", response_class=HTMLResponse)
def confirm_form(
    request: Request, user: ReaderDep, token: Annotated[str, Query(max_length=128)] = ""
) -> Response:
    """The page a confirmation link opens: one button (mail scanners open links)."""
    return render(request, "subscription_confirm.html", token=token)


@router.post("/subscriptions/confirm", response_class=HTMLResponse)
def confirm_submit(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    csrf_token: CsrfField = "",
    token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Activate the subscription."""
    check_csrf(request, services, csrf_token)
    made = confirm(services.store, token, services.clock())
    if made is None:
        raise UserError("this confirmation link is used, expired or unknown; subscribe again")
    token = subscription_token(services.secret, made.id)
    return render(request, "subscribed.html", subscription=made, token=token)


@router.get("/subscriptions/{token}", response_class=HTMLResponse)
def manage(request: Request, services: ServicesDep, user: ReaderDep, token: str) -> Response:
    """Change the frequency, trending and saved searches of a subscription."""
    subscription = _owned(services, token)
    return _manage_page(request, subscription, token, subscription.searches)


@router.post("/subscriptions/{token}", response_class=HTMLResponse)
def manage_submit(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    token: str,
    csrf_token: CsrfField = "",
    frequency: Annotated[str, Form(max_length=10)] = "daily",
    trending: Annotated[bool, Form()] = False,
    query: Annotated[list[str] | None, Form()] = None,
    mode: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Save the changes."""
    check_csrf(request, services, csrf_token)
    subscription = _owned(services, token)
    searches = _searches((query or [])[:10], mode or [])
    try:
        _, kept = validate(subscription.email, frequency, trending, searches)
    except SubscriptionError as exc:
        return _manage_page(request, subscription, token, searches, 400, error=str(exc))
    services.store.update_subscription(subscription.id, frequency, trending, kept)
    updated = services.store.get_subscription(subscription.id) or subscription
    return _manage_page(request, updated, token, kept, saved=True)


@router.get("/subscriptions/{token}/unsubscribe", response_class=HTMLResponse)
def unsubscribe_form(
    request: Request, services: ServicesDep, user: ReaderDep, token: str
) -> Response:
    """The unsubscribe link's page: one button."""
    return render(request, "unsubscribe.html", subscription=_owned(services, token), token=token)


@router.post("/subscriptions/{token}/unsubscribe", response_class=HTMLResponse)
def unsubscribe(request: Request, services: ServicesDep, token: str) -> Response:
    """One-click unsubscribe (RFC 8058): the signed token is the authority, no session
    or CSRF token is needed, and doing it twice is harmless."""
    subscription = _owned(services, token)
    services.store.unsubscribe(subscription.id)
    return render(request, "unsubscribed.html", subscription=subscription, token=token)
