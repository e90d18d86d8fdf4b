"""Secrets by the book: random tokens stored only as hashes, HMAC-bound CSRF tokens,
cookie flags, and redirects that stay on this site."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from paperwire.tokens import API_TOKEN_PREFIX, hash_token, new_token, signing_key

__all__ = ["API_TOKEN_PREFIX", "hash_token", "new_token", "signing_key"]

SESSION_COOKIE = "pw_session"
CSRF_COOKIE = "pw_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def csrf_binding(csrf_cookie: str, session: str | None) -> str:
    """What a browser's CSRF token is bound to: its CSRF cookie and, once signed in, its
    session too — so a cookie planted by someone else is worth nothing without the
    session, and signing in (a new session, a new cookie) rotates the token."""
    return f"{csrf_cookie}:{session}" if session else csrf_cookie


def csrf_token(secret: str, binding: str) -> str:
    """The CSRF token for a browser: an HMAC of its CSRF cookie, so a page on another
    site can neither read nor forge it."""
    mac = hmac.new(secret.encode("utf-8"), f"csrf:{binding}".encode(), hashlib.sha256)
    return mac.hexdigest()


def csrf_valid(secret: str, binding: str | None, token: str | None) -> bool:
    """True when `token` is the CSRF token of this browser's cookie."""
    if not binding or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, binding), token)


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target only if it is a path on this site (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target
