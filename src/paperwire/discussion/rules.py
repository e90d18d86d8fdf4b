"""What a comment must pass before it is stored, each rule with its reason:

- a size limit (markup.MAX_CHARS, 10,000 characters) and no empty text;
- the same text as the writer's previous comment is refused (a double submit, or a
  flood of one message);
- an account younger than NEW_ACCOUNT_AGE writes at most NEW_ACCOUNT_COMMENTS comments
  and no links (the cheapest spam is a fresh account with a link);
- rate limits per reader and per client address, counted by the store's atomic
  ``hit_limit`` (migration 0007), so every worker shares them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from paperwire.discussion.markup import MAX_CHARS
from paperwire.errors import UserError
from paperwire.store.base import Store

NEW_ACCOUNT_AGE = timedelta(days=1)
NEW_ACCOUNT_COMMENTS = 3
PER_USER = (10, timedelta(minutes=10))  # comments (and edits) per reader per window
PER_ADDRESS = (30, timedelta(minutes=10))  # per client address, all readers behind it
_LINK = re.compile(r"(?i)(https?://|mailto:|www\.|\]\s*\()")


@dataclass(frozen=True)
class Writer:
    """Who is writing: their account id and the client address the request came from."""

    user_id: int
    address: str


def check_text(body: str) -> str:
    """The text to store (outer space trimmed); UserError naming what is wrong."""
    text = body.strip()
    if not text:
        raise UserError("comment: the text is empty")
    if len(text) > MAX_CHARS:
        raise UserError(
            f"comment: {len(text):,} characters, over the limit of {MAX_CHARS:,}; shorten it"
        )
    return text


def check_writer(store: Store, writer: Writer, text: str, now: datetime, editing: bool) -> None:
    """UserError (429 for limits) when this reader may not post `text` now."""
    count, window = PER_USER
    if not store.hit_limit("comment-user", str(writer.user_id), count, window, now):
        raise UserError("comment: too many comments just now; try again in a few minutes", 429)
    count, window = PER_ADDRESS
    if not store.hit_limit("comment-address", writer.address, count, window, now):
        raise UserError("comment: too many comments from this address; try again later", 429)
    created = store.user_created_at(writer.user_id)
    young = created if created is not None and now - created < NEW_ACCOUNT_AGE else None
    if young is not None and _LINK.search(text):
        raise UserError("comment: accounts younger than a day cannot post links yet")
    if editing:
        return
    if young is not None and store.comments_by_user_since(writer.user_id, young) >= (
        NEW_ACCOUNT_COMMENTS
    ):
        raise UserError(
            f"comment: accounts younger than a day post at most {NEW_ACCOUNT_COMMENTS} comments",
            429,
        )
    if store.last_comment_body(writer.user_id) == text:
        raise UserError("comment: the same text as your previous comment")
