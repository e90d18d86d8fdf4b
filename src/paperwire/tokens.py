"""Tokens: random ones for links and sessions (stored only as hashes), and signed ones
for subscriptions — the unsubscribe and manage links work without signing in, so the link
itself proves which subscription it is for (HMAC-SHA256 of its id under the deployment's
secret key: it cannot be forged or moved to another subscription). Manage links expire
after MANAGE_DAYS; unsubscribing works with any genuine link, however old."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime, timedelta

from paperwire.config import Settings
from paperwire.store.base import Store


def new_token(prefix: str = "") -> str:
    """A fresh 256-bit random token, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the store keeps of a token: its SHA-256 (a leaked table signs nobody in)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


API_TOKEN_PREFIX = "pw_"  # personal API tokens start so (log redaction and callers see them)
API_TOKEN_NAME_CHARS = 60


def issue_api_token(store: Store, user_id: int, name: str, now: datetime) -> str:
    """A new personal API token for a reader, returned once; only its hash is kept."""
    token = new_token(API_TOKEN_PREFIX)
    store.add_api_token(hash_token(token), user_id, name.strip()[:API_TOKEN_NAME_CHARS], now)
    return token


MANAGE_DAYS = 90  # how long a manage link works; every digest carries a fresh one


def _mac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()[:32]


def subscription_token(secret: str, subscription_id: int, today: date | None = None) -> str:
    """The token of a subscription's manage/unsubscribe links: '<id>.<expiry>.<mac>',
    valid for MANAGE_DAYS from `today` (UTC today by default)."""
    expires = (today or datetime.now(UTC).date()) + timedelta(days=MANAGE_DAYS)
    stamp = expires.strftime("%Y%m%d")
    return f"{subscription_id}.{stamp}.{_mac(secret, f'subscription:{subscription_id}:{stamp}')}"


def read_subscription_token(
    secret: str, token: str, today: date | None = None, allow_expired: bool = False
) -> int | None:
    """The subscription id a genuine token was made for, or None. An expired token (and
    one of the older '<id>.<mac>' form, which never expired) is refused unless
    `allow_expired`: unsubscribing by an old mail's link must keep working, changing a
    subscription by it must not."""
    if len(token) > 80 or not token.isascii():  # compare_digest raises on non-ASCII text
        return None
    parts = token.split(".")
    if not (parts[0].isascii() and parts[0].isdecimal()) or len(parts[0]) > 18:
        return None
    subscription_id = int(parts[0])
    if len(parts) == 2:  # the older form, without an expiry
        genuine = hmac.compare_digest(_mac(secret, f"subscription:{subscription_id}"), parts[1])
        return subscription_id if genuine and allow_expired else None
    if len(parts) != 3 or not (parts[1].isascii() and parts[1].isdecimal() and len(parts[1]) == 8):
        return None
    expected = _mac(secret, f"subscription:{subscription_id}:{parts[1]}")
    if not hmac.compare_digest(expected, parts[2]):
        return None
    try:
        expires = datetime.strptime(parts[1], "%Y%m%d").date()
    except ValueError:
        return None
    if expires < (today or datetime.now(UTC).date()) and not allow_expired:
        return None
    return subscription_id


def signing_key(settings: Settings, store: Store) -> str:
    """The configured secret key, else the one the store made when it was created."""
    if settings.secret_key:
        return settings.secret_key
    key = store.get_state("secret_key")
    if not key:
        raise RuntimeError("the store has no signing key: set PAPERWIRE_SECRET_KEY")
    return key


def comment_mail_token(secret: str, user_id: int) -> str:
    """The token of a reader's one-click "stop reply and mention mail" link:
    '<user id>.<mac>' (it only ever turns mail off, so it does not expire)."""
    return f"{user_id}.{_mac(secret, f'comment-mail:{user_id}')}"


def read_comment_mail_token(secret: str, token: str) -> int | None:
    """The reader a genuine comment-mail token was made for, or None."""
    if len(token) > 80 or not token.isascii():
        return None
    head, _, mac = token.partition(".")
    if not head.isdecimal() or len(head) > 18:
        return None
    expected = _mac(secret, f"comment-mail:{int(head)}")
    return int(head) if hmac.compare_digest(expected, mac) else None
