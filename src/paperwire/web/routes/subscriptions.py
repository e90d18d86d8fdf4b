"""Digest subscriptions on the site: the sign-up form (linked from every page), the
confirmation link's page, the manage page and one-click unsubscribe. The manage and
unsubscribe links carry a signed token, so they work without signing in; unsubscribing
takes one POST, as RFC 8058 mail clients send it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from paperwire.errors import UserError
from paperwire.models import SavedSearch, Subscription, User
from paperwire.store.collections import Collection
from paperwire.web.deps import (
    CsrfChecked,
    NextQuery,
    ReaderDep,
    ServicesDep,
    client_id,
    rate_limit,
)
from paperwire.web.render import render
from paperwire.web.responses import back, hide_banner, set_tldr
from paperwire.web.services import Services
from paperwire.web.usecases import collections, subscriptions

router = APIRouter(include_in_schema=False)
SEARCH_FIELDS = 3
QueriesField = Annotated[list[str] | None, Form()]
ModesField = Annotated[list[str] | None, Form()]
FrequencyField = Annotated[str, Form(max_length=10)]
TrendingField = Annotated[bool, Form()]
RecommendedField = Annotated[bool, Form()]
ProfileField = Annotated[int | None, Form(ge=1, le=2**53)]


def _profiles(services: Services, owner: User | None) -> list[Collection]:
    """The collections a subscriber may take recommendations from (none without an
    account of their own address)."""
    return collections.collections(services, owner) if owner else []


def _searches(queries: list[str], modes: list[str]) -> list[SavedSearch]:
    modes = modes + ["hybrid"] * (len(queries) - len(modes))
    return [SavedSearch(q.strip(), m) for q, m in zip(queries, modes, strict=False) if q.strip()]


def _manage_page(
    request: Request,
    services: Services,
    subscription: Subscription,
    token: str,
    searches: list[SavedSearch],
    status: int = 200,
    **extra: object,
) -> HTMLResponse:
    """The manage page, with a field for each search and a few empty ones, and the
    recommendations choice when the address is its reader's own."""
    owner = subscriptions.subscription_owner(services, subscription)
    return render(
        request,
        "manage.html",
        status=status,
        subscription=subscription,
        token=token,
        searches=searches,
        fields=max(SEARCH_FIELDS, len(searches)),
        profiles=_profiles(services, owner),
        **extra,
    )


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    email: Annotated[str, Query(max_length=254)] = "",
) -> Response:
    """The sign-up form."""
    return render(
        request,
        "subscribe.html",
        email=email or (user.email if user else ""),
        frequency="daily",
        trending=True,
        searches=[],
        fields=SEARCH_FIELDS,
        profiles=_profiles(services, user),
        recommended=False,
        profile_id=None,
    )


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe_submit(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    _: CsrfChecked,
    email: Annotated[str, Form(max_length=320)] = "",
    frequency: FrequencyField = "daily",
    trending: TrendingField = False,
    query: QueriesField = None,
    mode: ModesField = None,
    recommended: RecommendedField = False,
    profile: ProfileField = None,
) -> Response:
    """Store a sign-up and send its confirmation link."""
    rate_limit(services, request, "subscribe")
    searches = _searches((query or [])[:SEARCH_FIELDS], mode or [])
    try:
        made, token = subscriptions.start_subscription(
            services,
            email=email,
            frequency=frequency,
            trending=trending,
            searches=searches,
            user=user,
            requester=client_id(request),
            recommended=recommended,
            profile_id=profile,
        )
    except UserError as exc:
        return render(
            request,
            "subscribe.html",
            status=exc.status,
            error=str(exc),
            email=email,
            frequency=frequency,
            trending=trending,
            searches=searches,
            fields=SEARCH_FIELDS,
            profiles=_profiles(services, user),
            recommended=recommended,
            profile_id=profile,
        )
    https = services.settings.https
    if token is not None:
        page = render(request, "subscribed.html", subscription=made, token=token)
        return hide_banner(page, https)
    return hide_banner(render(request, "subscribe_sent.html", email=made.email), https)


@router.get("/banner/hide")
def banner_hide(services: ServicesDep, next: NextQuery = "/") -> Response:
    """Dismiss the digest banner in this browser, and go back."""
    return hide_banner(back(next), services.settings.https)


@router.get("/prefs/tldr")
def tldr_pref(
    services: ServicesDep,
    show: Annotated[Literal["on", "off"], Query()] = "on",
    next: NextQuery = "/",
) -> Response:
    """Show or hide the one-line TL;DRs on cards in this browser (a cookie, no script),
    and go back."""
    return set_tldr(back(next), show == "on", services.settings.https)


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
    _: CsrfChecked,
    token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Activate the subscription."""
    made, manage_token = subscriptions.confirm_subscription(services, token)
    return render(request, "subscribed.html", subscription=made, token=manage_token)


@router.get("/subscriptions/{token}", response_class=HTMLResponse)
def manage(request: Request, services: ServicesDep, user: ReaderDep, token: str) -> Response:
    """Change the frequency, trending and saved searches of a subscription."""
    subscription = subscriptions.owned_subscription(services, token)
    return _manage_page(request, services, subscription, token, subscription.searches)


@router.post("/subscriptions/{token}", response_class=HTMLResponse)
def manage_submit(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    _: CsrfChecked,
    token: str,
    frequency: FrequencyField = "daily",
    trending: TrendingField = False,
    query: QueriesField = None,
    mode: ModesField = None,
    recommended: RecommendedField = False,
    profile: ProfileField = None,
) -> Response:
    """Save the changes."""
    searches = _searches((query or [])[:10], mode or [])
    try:
        updated, kept = subscriptions.change_subscription(
            services, token, frequency, trending, searches, recommended, profile
        )
    except UserError as exc:
        if exc.status == 404:
            raise
        subscription = subscriptions.owned_subscription(services, token)
        return _manage_page(request, services, subscription, token, searches, 400, error=str(exc))
    return _manage_page(request, services, updated, token, kept, saved=True)


@router.get("/subscriptions/{token}/unsubscribe", response_class=HTMLResponse)
def unsubscribe_form(
    request: Request, services: ServicesDep, user: ReaderDep, token: str
) -> Response:
    """The unsubscribe link's page: one button."""
    subscription = subscriptions.owned_subscription(services, token, allow_expired=True)
    return render(request, "unsubscribe.html", subscription=subscription, token=token)


@router.post("/subscriptions/{token}/unsubscribe", response_class=HTMLResponse)
def unsubscribe(request: Request, services: ServicesDep, token: str) -> Response:
    """One-click unsubscribe (RFC 8058): the signed token is the authority, no session
    or CSRF token is needed, and doing it twice is harmless."""
    subscription = subscriptions.unsubscribe(services, token)
    return render(request, "unsubscribed.html", subscription=subscription, token=token)
