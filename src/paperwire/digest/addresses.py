"""Email addresses as paperwire accepts them."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,63}$")


def normalise_email(email: str) -> str:
    """A plausible address, lower-cased; ValueError (naming it) otherwise."""
    email = email.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError(f"{email[:80]!r} is not an email address")
    return email.lower()
