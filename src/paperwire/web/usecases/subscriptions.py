"""Digest subscriptions: signing up (double opt-in), confirming, the signed manage link,
changing and stopping."""

from __future__ import annotations

from paperwire.digest.subscribe import (
    SubscriptionError,
    TooManyConfirmationsError,
    check_profile,
    confirm,
    subscribe,
    validate,
)
from paperwire.errors import UserError
from paperwire.models import SavedSearch, Subscription, User
from paperwire.tokens import read_subscription_token, subscription_token
from paperwire.web.services import Services


def start_subscription(
    services: Services,
    *,
    email: str,
    frequency: str,
    trending: bool,
    searches: list[SavedSearch],
    user: User | None,
    requester: str | None = None,
    recommended: bool = False,
    profile_id: int | None = None,
) -> tuple[Subscription, str | None]:
    """Store a sign-up and mail its confirmation link (a signed-in reader's own address
    is active at once). Returns it with its manage token when active; UserError when
    the request is not one that can be kept, 429 past the confirmation-mail limits
    (per address, and per `requester`: the client's address)."""
    try:
        made = subscribe(
            services.store,
            services.mailer,
            services.settings,
            services.clock(),
            email=email,
            frequency=frequency,
            trending=trending,
            searches=searches,
            user=user,
            requester=requester,
            recommended=recommended,
            profile_id=profile_id,
        )
    except TooManyConfirmationsError as exc:
        raise UserError(str(exc), 429) from exc
    except SubscriptionError as exc:
        raise UserError(str(exc)) from exc
    today = services.clock().date()
    token = subscription_token(services.secret, made.id, today) if made.status == "active" else None
    return made, token


def confirm_subscription(services: Services, token: str) -> tuple[Subscription, str]:
    """Activate a subscription by its confirmation link; returns it with its manage token."""
    made = confirm(services.store, token, services.clock())
    if made is None:
        raise UserError("this confirmation link is used, expired or unknown; subscribe again")
    return made, subscription_token(services.secret, made.id, services.clock().date())


def owned_subscription(services: Services, token: str, allow_expired: bool = False) -> Subscription:
    """The subscription a signed, unexpired manage link names (`allow_expired`: any
    genuine link, for unsubscribing); UserError(404) otherwise."""
    subscription_id = read_subscription_token(
        services.secret, token, services.clock().date(), allow_expired
    )
    subscription = services.store.get_subscription(subscription_id) if subscription_id else None
    if subscription is None:
        raise UserError(
            "this subscription link is not valid or has expired; "
            "your latest digest has a fresh one",
            404,
        )
    return subscription


def subscription_owner(services: Services, subscription: Subscription) -> User | None:
    """The reader whose own address a subscription is (who may get recommendations)."""
    owner = services.store.get_user(subscription.user_id) if subscription.user_id else None
    return owner if owner is not None and owner.email == subscription.email else None


def change_subscription(
    services: Services,
    token: str,
    frequency: str,
    trending: bool,
    searches: list[SavedSearch],
    recommended: bool = False,
    profile_id: int | None = None,
) -> tuple[Subscription, list[SavedSearch]]:
    """Save a manage form; returns the subscription as stored and the searches kept.
    UserError (with the subscription unchanged) for choices that cannot be kept."""
    subscription = owned_subscription(services, token)
    try:
        _, kept = validate(subscription.email, frequency, trending, searches, recommended)
        if recommended:  # the form sends its collection choice whether or not it is ticked
            check_profile(services.store, subscription_owner(services, subscription), profile_id)
    except SubscriptionError as exc:
        raise UserError(str(exc)) from exc
    services.store.update_subscription(
        subscription.id,
        frequency=frequency,
        trending=trending,
        searches=kept,
        recommended=recommended,
        profile_id=profile_id if recommended else None,
    )
    return services.store.get_subscription(subscription.id) or subscription, kept


def unsubscribe(services: Services, token: str) -> Subscription:
    """Stop a subscription by its signed link, however old (doing it twice is harmless)."""
    subscription = owned_subscription(services, token, allow_expired=True)
    services.store.unsubscribe(subscription.id)
    return subscription
