"""The API's list cursors: opaque to callers (``id:<n>`` in URL-safe base64), checked on
the way back in — a cursor this API did not give out is a 400 naming it, and no value
past what a database integer holds ever reaches a query."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import Query

from paperwire.errors import UserError

CursorQuery = Annotated[str | None, Query(max_length=64)]


def encode_cursor(value: int) -> str:
    """The cursor that continues after position `value`."""
    return base64.urlsafe_b64encode(f"id:{value}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The position a cursor continues after (0 without one); UserError when it is not one
    this API gave out."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("id:"):
            raise ValueError(text)
        value = int(text[3:])
        if not 0 <= value < 2**63:  # what a database integer holds
            raise ValueError(text)
        return value
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"cursor {cursor[:40]!r} is not one this API gave out") from exc
