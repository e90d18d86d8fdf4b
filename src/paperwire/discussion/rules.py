"""What a comment must pass before it is stored, each rule with its reason:

- a size limit (markup.MAX_CHARS, 10,000 characters) and no empty text, and a limit on
  the HTML it renders to (markup.MAX_HTML_BYTES: formulas multiply a text's size);
- the same text as the writer's previous comment is refused (a double submit, or a
  flood of one message);
- an account younger than NEW_ACCOUNT_AGE writes at most NEW_ACCOUNT_COMMENTS comments
  and no links (the cheapest spam is a fresh account with a link). Links are looked for
  in the rendered HTML, not the Markdown: the source has too many spellings of a link
  (reference-style ``[x][1]`` with ``[1]: http://…``, ``http&#58;//``, ``<https://…>``),
  the output one — an ``<a href>`` other than a mention, or a URL in the text;
- rate limits per reader and per client address, counted by the store's atomic
  ``hit_limit`` (migration 0007), so every worker shares them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser

from paperwire.discussion.markup import MAX_CHARS, MAX_HTML_BYTES
from paperwire.errors import UserError
from paperwire.store.base import Store
from paperwire.store.comments import CommentRefusedError, PostChecks

NEW_ACCOUNT_AGE = timedelta(days=1)
NEW_ACCOUNT_COMMENTS = 3
PER_USER = (10, timedelta(minutes=10))  # comments (and edits) per reader per window
PER_ADDRESS = (30, timedelta(minutes=10))  # per client address, all readers behind it
# A URL in the text a page shows (mail and chat clients link these by themselves).
_URL_TEXT = re.compile(r"(?i)([a-z][a-z0-9+.-]*://|mailto:|\bwww\.)")


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


def check_rendered(html: str) -> None:
    """UserError (422) when a comment's HTML is over markup.MAX_HTML_BYTES."""
    size = len(html.encode("utf-8"))
    if size > MAX_HTML_BYTES:
        raise UserError(
            f"comment: renders to {size:,} bytes of HTML, over the limit of "
            f"{MAX_HTML_BYTES:,} (thousands of formulas?); shorten it",
            422,
        )


class _Links(HTMLParser):
    """The links of a rendered comment: hrefs other than mentions, URLs in the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        href = names.get("href")
        if href is not None and not (tag == "a" and names.get("class") == "mention"):
            self.found.append(href)
        self.found.extend(names[a] or "" for a in ("src", "action") if a in names)

    def handle_data(self, data: str) -> None:
        self.found.extend(m.group(0) for m in _URL_TEXT.finditer(data))


def links(html: str) -> list[str]:
    """Every link a rendered comment shows: an href (mentions of readers aside) or a
    URL in its text."""
    parser = _Links()
    parser.feed(html)
    parser.close()
    return parser.found


def check_rate(store: Store, writer: Writer, now: datetime) -> None:
    """UserError (429) when this reader, or this client address, wrote too much just now
    (counted before anything else, so refused attempts count too)."""
    count, window = PER_USER
    if not store.hit_limit("comment-user", str(writer.user_id), count, window, now):
        raise UserError("comment: too many comments just now; try again in a few minutes", 429)
    count, window = PER_ADDRESS
    if not store.hit_limit("comment-address", writer.address, count, window, now):
        raise UserError("comment: too many comments from this address; try again later", 429)


def check_writer(
    store: Store, writer: Writer, text: str, html: str, now: datetime, editing: bool
) -> None:
    """UserError (429 for counts) when this reader may not post `text`, rendered as
    `html`, now. Call check_rate first."""
    created = store.user_created_at(writer.user_id)
    young = created if created is not None and now - created < NEW_ACCOUNT_AGE else None
    if young is not None and links(html):
        raise UserError("comment: accounts younger than a day cannot post links yet")
    if editing:
        return
    if young is not None and store.comments_by_user_since(writer.user_id, young) >= (
        NEW_ACCOUNT_COMMENTS
    ):
        raise refused(CommentRefusedError("young"))
    if store.last_comment_body(writer.user_id) == text:
        raise refused(CommentRefusedError("repeated"))


def post_checks(store: Store, writer: Writer, now: datetime) -> PostChecks:
    """The rules of check_writer that the store checks again as it writes a new comment
    (store.comments.PostChecks: requests at once each pass check_writer, before any
    of them is written)."""
    created = store.user_created_at(writer.user_id)
    young = created if created is not None and now - created < NEW_ACCOUNT_AGE else None
    return PostChecks(not_repeated=True, since=young, at_most=NEW_ACCOUNT_COMMENTS)


def refused(exc: CommentRefusedError) -> UserError:
    """The reader's error for a comment a PostChecks rule refused."""
    if exc.rule == "young":
        return UserError(
            f"comment: accounts younger than a day post at most {NEW_ACCOUNT_COMMENTS} comments",
            429,
        )
    return UserError("comment: the same text as your previous comment")
