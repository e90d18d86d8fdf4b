"""Signing in and out (single-use links by mail, sessions, API tokens), readers' public
pages and the account page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urlencode

from paperwire.digest.addresses import normalise_email
from paperwire.errors import UserError
from paperwire.models import FeedEntry, Subscription, User
from paperwire.tokens import issue_api_token, subscription_token
from paperwire.web.security import API_TOKEN_PREFIX, hash_token, new_token
from paperwire.web.services import Services
from paperwire.web.usecases.feed import mark_voted

# A handle a reader chooses: 3-30 of a-z, 0-9, "_" and "-" (it is a path segment and an
# @mention; HANDLE in discussion.markup matches every such handle).
HANDLE_RULE = re.compile(r"[a-z0-9_-]{3,30}")
# Words a reader could use to pass for the site or its staff.
RESERVED_HANDLES = frozenset(
    {
        "admin",
        "administrator",
        "curator",
        "curators",
        "moderator",
        "paperwire",
        "root",
        "staff",
        "support",
        "system",
        "everyone",
        "here",
    }
)
SIGNIN_MINUTES = 15
SESSION_LIFETIME = timedelta(days=30)
SIGNIN_PER_ADDRESS = 5  # links per address per SIGNIN_MINUTES, across all workers


def check_email(email: str) -> str:
    """A plausible address, lower-cased; UserError otherwise."""
    try:
        return normalise_email(email)
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def send_signin_link(services: Services, email: str, next_path: str) -> None:
    """Email a single-use sign-in link valid for SIGNIN_MINUTES minutes."""
    email = check_email(email)
    now = services.clock()
    window = timedelta(minutes=SIGNIN_MINUTES)
    if not services.store.hit_limit("signin-address", email, SIGNIN_PER_ADDRESS, window, now):
        raise UserError("too many sign-in links for this address; try again later", 429)
    token = new_token()
    services.store.add_login_token(
        hash_token(token), email, now, now + timedelta(minutes=SIGNIN_MINUTES)
    )
    # Links are built from the configured base URL, never from the request's Host.
    base = services.settings.base_url.rstrip("/")
    link = f"{base}/signin/confirm?{urlencode({'token': token, 'next': next_path})}"
    message = EmailMessage()
    message["To"] = email
    message["Subject"] = "Your paperwire sign-in link"
    message.set_content(
        f"Open this link to sign in to paperwire:\n\n{link}\n\n"
        f"It works once, for {SIGNIN_MINUTES} minutes. If you did not ask for it, ignore "
        "this message: nothing happens without the link.\n"
    )
    services.mailer.send(message)


def signin_link_address(services: Services, token: str) -> str | None:
    """The address a sign-in link would sign in as (shown before it is used, so that a
    forwarded link does not sign its opener in as someone else unawares); None when the
    link is used, expired or unknown."""
    if not token or len(token) > 128:
        return None
    return services.store.login_token_email(hash_token(token), services.clock())


def complete_signin(services: Services, token: str) -> tuple[User, str]:
    """Spend a sign-in link; returns the user and a new session token. UserError when
    the link is unknown, used or expired."""
    now = services.clock()
    email = services.store.use_login_token(hash_token(token), now) if token else None
    if email is None:
        raise UserError("this sign-in link is used, expired or unknown; ask for a new one", 400)
    user = services.store.get_or_create_user(email, now)
    session = new_token()
    services.store.add_session(hash_token(session), user.id, now, now + SESSION_LIFETIME)
    return user, session


def sign_out(services: Services, session: str | None) -> None:
    """End a browser session (nothing to do without one)."""
    if session:
        services.store.delete_session(hash_token(session))


def session_user(services: Services, session: str) -> User | None:
    """The reader a session cookie belongs to, if it is current."""
    if not session or len(session) > 128:
        return None
    return services.store.session_user(hash_token(session), services.clock())


def token_user(services: Services, token: str) -> User:
    """The owner of a personal API token; UserError(401) for an unknown or revoked one."""
    user = services.store.api_token_user(hash_token(token))
    if user is None:
        raise UserError("unknown or revoked API token", 401)
    return user


@dataclass
class Profile:
    """A reader's public page: their submissions and upvotes."""

    person: User
    submitted: list[FeedEntry]
    upvoted: list[FeedEntry]


def profile(services: Services, handle: str, viewer: User | None) -> Profile:
    """The public page of a reader by handle; UserError(404) when unknown."""
    person = services.store.get_user_by_handle(handle)
    if person is None:
        raise UserError(f"no reader called {handle[:60]!r}", 404)
    return _profile(services, person, viewer)


def _profile(services: Services, person: User, viewer: User | None) -> Profile:
    submitted = services.store.user_submissions(person.id, viewer=viewer)
    upvoted = services.store.user_upvoted(person.id, viewer=viewer)
    mark_voted(services, submitted + upvoted, viewer)
    return Profile(person, submitted, upvoted)


@dataclass
class Account:
    """What the account page shows a reader about themselves."""

    profile: Profile
    tokens: list[tuple[str, str, str]]  # (id, name, created)
    subscriptions: list[tuple[Subscription, str]]  # with each one's manage token


def account(services: Services, reader: User) -> Account:
    """The reader's submissions, upvotes, API tokens and digest subscriptions."""
    return Account(
        _profile(services, reader, reader),
        services.store.list_api_tokens(reader.id),
        [
            (sub, subscription_token(services.secret, sub.id, services.clock().date()))
            for sub in services.store.subscriptions_of(reader.email)
        ],
    )


def create_api_token(services: Services, reader: User, name: str) -> str:
    """A new personal API token (returned once; only its hash is kept)."""
    return issue_api_token(services.store, reader.id, name, services.clock())


def fresh_api_token(services: Services, reader: User, token: str) -> str | None:
    """A token just created, to show once: only if it is a current token of this reader
    (a cookie left from someone else's session shows nothing)."""
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > 128:
        return None
    owner = services.store.api_token_user(hash_token(token))
    return token if owner is not None and owner.id == reader.id else None


def revoke_api_token(services: Services, reader: User, token_id: str) -> None:
    """Revoke one of the reader's own tokens (another reader's id changes nothing)."""
    services.store.delete_api_token(reader.id, token_id)


def check_handle(wanted: str) -> str:
    """A handle as typed, folded to lower case, if it keeps HANDLE_RULE and is not
    reserved; UserError naming it and the rule otherwise."""
    handle = wanted.strip().lower()
    if not HANDLE_RULE.fullmatch(handle):
        raise UserError(f"handle {wanted[:40]!r}: use 3 to 30 of a-z, 0-9, '_' and '-'", 400)
    if handle in RESERVED_HANDLES:
        raise UserError(f"handle {handle!r} is reserved; choose another", 400)
    return handle


def change_handle(services: Services, reader: User, wanted: str) -> User:
    """Give the reader the public handle they chose (folded to lower case, then
    HANDLE_RULE, not reserved, not another reader's); UserError naming the handle and
    the rule otherwise. The old handle is free at once and /users/<old> answers 404:
    no redirect, so a new handle is never tied to the old one in public."""
    handle = check_handle(wanted)
    if handle == reader.handle:
        return reader
    changed = services.store.set_handle(reader.id, handle)
    if changed is None:
        raise UserError(f"handle {handle!r} is taken; choose another", 409)
    services.pages.clear()  # pages that name the reader show the new handle
    return changed
