"""Email addresses as paperwire accepts them."""

from __future__ import annotations

import re
import unicodedata

_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,63}$")


def _unprintable(char: str) -> bool:
    # Cc controls (NUL, \x01, …), Cf formats (the bidi overrides and isolates, zero-width
    # characters), Cs/Co/Cn, and U+FFFD (what a decoder left of bytes it could not read):
    # none belongs in an address, and each would be written raw into a To: header.
    return char == "\ufffd" or unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}


def normalise_email(email: str) -> str:
    """A plausible address, lower-cased; ValueError (naming it) otherwise — including
    any control, format (bidi), unassigned character or U+FFFD."""
    email = email.strip()
    if len(email) > 254 or not _EMAIL.match(email) or any(map(_unprintable, email)):
        raise ValueError(f"{email[:80]!r} is not an email address")
    return email.lower()
