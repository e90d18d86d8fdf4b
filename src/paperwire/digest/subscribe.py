"""Subscribing with double opt-in: a sign-up is stored pending and a confirmation link
is mailed; nothing else is sent until that link is used (once, within CONFIRM_HOURS).
A signed-in reader subscribing their own address is confirmed already."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode

from paperwire.config import Settings
from paperwire.digest.addresses import normalise_email
from paperwire.digest.compose import confirmation_text
from paperwire.digest.mailer import Mailer
from paperwire.digest.periods import FREQUENCIES
from paperwire.digest.select import saved_query
from paperwire.models import SavedSearch, Subscription, User
from paperwire.querylang import QueryError
from paperwire.search.hybrid import MODES
from paperwire.store.base import Store
from paperwire.tokens import hash_token, new_token

CONFIRM_HOURS = 48
MAX_SEARCHES = 10
# Confirmation mails go to addresses that have not said yes to anything: at most this
# many to one address a day, and from one requester an hour (all workers counted).
CONFIRMS_PER_ADDRESS = (3, timedelta(hours=24))
CONFIRMS_PER_REQUESTER = (10, timedelta(hours=1))


class SubscriptionError(ValueError):
    """A sign-up that cannot be taken as given; the message says why."""


class TooManyConfirmationsError(SubscriptionError):
    """Past the limit of confirmation mails to an address or from a requester."""


def validate(
    email: str,
    frequency: str,
    trending: bool,
    searches: list[SavedSearch],
    recommended: bool = False,
) -> tuple[str, list[SavedSearch]]:
    """The normalised address and the searches worth keeping (blank ones dropped);
    SubscriptionError for anything else."""
    try:
        address = normalise_email(email)
    except ValueError as exc:
        raise SubscriptionError(str(exc)) from exc
    if frequency not in FREQUENCIES:
        raise SubscriptionError(f"frequency {frequency[:20]!r}: daily or weekly")
    kept = [s for s in searches if s.query.strip()]
    if len(kept) > MAX_SEARCHES:
        raise SubscriptionError(f"at most {MAX_SEARCHES} saved searches per subscription")
    for search in kept:
        if search.mode not in MODES:
            raise SubscriptionError(f"search mode {search.mode[:20]!r}: one of {', '.join(MODES)}")
        if len(search.query) > 500:
            raise SubscriptionError("a saved search is at most 500 characters")
        try:
            saved_query(search)
        except QueryError as exc:
            raise SubscriptionError(f"search {search.query[:60]!r}: {exc}") from exc
    if not trending and not kept and not recommended:
        raise SubscriptionError(
            "choose the trending papers, a saved search or recommendations for you"
        )
    return address, kept


def check_profile(store: Store, user: User | None, profile_id: int | None) -> None:
    """Recommendations go only to a reader's own, verified address (they reveal what the
    reader saved), from one of their own collections; SubscriptionError otherwise (the
    same words for another reader's collection as for none)."""
    if user is None:
        raise SubscriptionError(
            "recommendations for you need an account: sign in and subscribe your own address"
        )
    if profile_id is not None and store.get_collection(user.id, profile_id) is None:
        raise SubscriptionError(f"you have no collection {profile_id}")


def subscribe(
    store: Store,
    mailer: Mailer,
    settings: Settings,
    now: datetime,
    *,
    email: str,
    frequency: str,
    trending: bool,
    searches: list[SavedSearch],
    user: User | None = None,
    requester: str | None = None,
    recommended: bool = False,
    profile_id: int | None = None,
) -> Subscription:
    """Store a sign-up and mail its confirmation link (or, for a signed-in reader's own
    address, activate it at once). Confirmation mails are limited per address and per
    `requester` (CONFIRMS_PER_*: TooManyConfirmationsError past them) and quote nothing
    the requester wrote: an unconfirmed address is sent only the site's own words."""
    address, kept = validate(email, frequency, trending, searches, recommended)
    verified = user is not None and user.email == address
    if recommended:  # the form sends its collection choice whether or not it is ticked
        check_profile(store, user if verified else None, profile_id)
    subscription = Subscription(
        id=0,
        email=address,
        frequency=frequency,
        trending=trending,
        searches=kept,
        status="active" if verified else "pending",
        created_at=now,
        confirmed_at=now if verified else None,
        user_id=user.id if user is not None else None,
        recommended=recommended,
        profile_id=profile_id if recommended else None,
    )
    if verified:
        subscription.id = store.add_subscription(subscription, None, None)
        return subscription
    for action, subject, (count, window) in (
        ("confirm-address", address, CONFIRMS_PER_ADDRESS),
        ("confirm-requester", requester, CONFIRMS_PER_REQUESTER),
    ):
        if subject is not None and not store.hit_limit(action, subject, count, window, now):
            raise TooManyConfirmationsError(
                "too many confirmation mails for this address or from this client; try again later"
            )
    token = new_token()
    expires = now + timedelta(hours=CONFIRM_HOURS)
    subscription.id = store.add_subscription(subscription, hash_token(token), expires)
    base = settings.base_url.rstrip("/")
    message = EmailMessage()
    message["To"] = address
    message["Subject"] = "Confirm your paperwire digest"
    message.set_content(
        confirmation_text(
            subscription,
            f"{base}/subscriptions/confirm?{urlencode({'token': token})}",
            CONFIRM_HOURS,
        )
    )
    mailer.send(message)
    return subscription


def confirm(store: Store, token: str, now: datetime) -> Subscription | None:
    """Spend a confirmation link: the subscription, now active, or None."""
    if not token or len(token) > 128:
        return None
    return store.confirm_subscription(hash_token(token), now)
