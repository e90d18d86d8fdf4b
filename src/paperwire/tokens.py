"""Tokens: random ones for links and sessions (stored only as hashes), and signed ones
for subscriptions — the unsubscribe and manage links work without signing in, so the link
itself proves which subscription it is for (HMAC-SHA256 of its id under the deployment's
secret key: it cannot be forged or moved to another subscription)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from paperwire.config import Settings
from paperwire.store.base import Store


def new_token(prefix: str = "") -> str:
    """A fresh 256-bit random token, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the store keeps of a token: its SHA-256 (a leaked table signs nobody in)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def subscription_token(secret: str, subscription_id: int) -> str:
    """The token of a subscription's manage/unsubscribe links: '<id>.<mac>'."""
    mac = hmac.new(secret.encode(), f"subscription:{subscription_id}".encode(), hashlib.sha256)
    return f"{subscription_id}.{mac.hexdigest()[:32]}"


def read_subscription_token(secret: str, token: str) -> int | None:
    """The subscription id a token was made for, or None if it is not genuine."""
    head, _, _ = token.partition(".")
    if not (head.isascii() and head.isdecimal()) or len(head) > 18 or len(token) > 64:
        return None
    subscription_id = int(head)
    if hmac.compare_digest(subscription_token(secret, subscription_id), token):
        return subscription_id
    return None


def signing_key(settings: Settings, store: Store) -> str:
    """The configured secret key, else the one the store made when it was created."""
    if settings.secret_key:
        return settings.secret_key
    key = store.get_state("secret_key")
    if not key:
        raise RuntimeError("the store has no signing key: set PAPERWIRE_SECRET_KEY")
    return key
