"""The Store interface every engine implements, and the values it hands back.

Nothing outside ``store/`` writes SQL: callers speak in Papers and these records. The
search indexes beside a store follow its change feed (:meth:`Store.changes`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal, Protocol

from paperwire.models import FeedEntry, OutboxItem, Paper, SavedSearch, Subscription, User

FeedOrder = Literal["upvotes", "newest"]


class StoreError(Exception):
    """A store could not be opened or used; the message is fit for a user."""


@dataclass(slots=True)
class UpsertResult:
    """What one batch of upserts did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: UpsertResult) -> None:
        """Accumulate another batch's counts."""
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass(slots=True)
class Changes:
    """What changed in a store after a position: the feed the indexes follow."""

    papers: list[tuple[int, Paper]]  # (internal id, paper), in change order
    position: tuple[int, int]  # (seq, id) of the last paper listed
    deleted: list[int]  # internal ids removed
    tombstone_seq: int  # seq of the last deletion listed


@dataclass(slots=True)
class VectorChanges:
    """Vectors written after a position, and papers removed (for the vector index)."""

    vectors: list[tuple[int, bytes]]  # (paper id, float32 bytes)
    position: tuple[int, int]  # (seq, paper id) of the last vector listed
    deleted: list[int]
    tombstone_seq: int


@dataclass(slots=True)
class StoreStats:
    """Counts for ``paperwire stats``."""

    papers: int
    with_arxiv_id: int
    with_abstract: int
    earliest: str | None
    latest: str | None
    by_source: dict[str, int]
    top_categories: list[tuple[str, int]]
    size_bytes: int | None


class Store(Protocol):
    """Where papers live. Engines: SQLite (default) and PostgreSQL."""

    url: str

    def upsert_papers(self, papers: Iterable[Paper]) -> UpsertResult:
        """Insert or merge a batch in one transaction (the identity rule of models.py)."""
        ...

    def delete_papers(self, arxiv_ids: Iterable[str]) -> int:
        """Remove papers the source reports deleted; returns how many were removed."""
        ...

    def get_paper(self, key: str) -> Paper | None:
        """A paper by key, arXiv id, or a key it was known by before it gained one."""
        ...

    def iter_papers(self, batch_size: int = 1000) -> Iterator[Paper]:
        """Every paper, in insertion order, read in batches."""
        ...

    def count_papers(self) -> int:
        """How many papers are stored."""
        ...

    def current_seq(self) -> int:
        """The number of the last committed write batch."""
        ...

    def changes(self, after: tuple[int, int], tombstones_after: int, limit: int) -> Changes:
        """Papers changed and removed after a position (for indexes kept beside the store)."""
        ...

    def get_papers(self, ids: list[int]) -> dict[int, Paper]:
        """Papers by internal id (as the indexes return them)."""
        ...

    def papers_to_embed(self, model: str, after_id: int, limit: int) -> list[tuple[int, Paper]]:
        """Papers lacking a current vector from `model`, by id after `after_id`."""
        ...

    def count_to_embed(self, model: str) -> int:
        """How many papers lack a current vector from `model`."""
        ...

    def save_vectors(self, model: str, vectors: list[tuple[int, Paper, bytes]]) -> None:
        """Store a batch of embeddings."""
        ...

    def vector_backfill(self, pending: int) -> AbstractContextManager[None]:
        """Around saving `pending` vectors in many batches: an engine whose vector index
        is faster built than grown may set it aside and build it once at the end."""
        ...

    def vector_changes(
        self, model: str, after: tuple[int, int], tombstones_after: int, limit: int
    ) -> VectorChanges:
        """Vectors written and papers removed after a position (for the vector index)."""
        ...

    def get_vectors(self, model: str, ids: list[int]) -> dict[int, bytes]:
        """Stored vectors by paper id."""
        ...

    def has_vectors(self, model: str) -> bool:
        """True when some paper has a vector from `model`."""
        ...

    def count_vectors(self, model: str) -> int:
        """How many papers have a vector from `model`."""
        ...

    def paper_ids(self, keys: list[str]) -> dict[str, int]:
        """Internal ids by key."""
        ...

    def index_dir(self, name: str) -> Path:
        """The folder where the index `name` of this store lives."""
        ...

    def stats(self) -> StoreStats:
        """Counts for the stats command."""
        ...

    def get_state(self, name: str) -> str | None:
        """A named piece of resumable state (a harvest's resumption token)."""
        ...

    def set_state(self, name: str, value: str | None) -> None:
        """Save (or, with None, clear) a named piece of state."""
        ...

    # -- the community: accounts, sign-in, votes, the daily feed -----------------

    def get_or_create_user(self, email: str, now: datetime) -> User:
        """The account of an address, created on first sign-in."""
        ...

    def get_user(self, user_id: int) -> User | None:
        """An account by id."""
        ...

    def get_user_by_handle(self, handle: str) -> User | None:
        """An account by its public handle."""
        ...

    def set_curator(self, email: str, is_curator: bool) -> User | None:
        """Grant or take back the curator role."""
        ...

    def add_login_token(
        self, token_hash: str, email: str, now: datetime, expires: datetime
    ) -> None:
        """Record a sign-in link by the hash of its token."""
        ...

    def count_login_tokens_since(self, email: str, since: datetime) -> int:
        """Sign-in links sent to an address since a time."""
        ...

    def use_login_token(self, token_hash: str, now: datetime) -> str | None:
        """Spend a sign-in link once: its address, or None if used, expired or unknown."""
        ...

    def add_session(self, token_hash: str, user_id: int, now: datetime, expires: datetime) -> None:
        """Record a session by the hash of its cookie."""
        ...

    def session_user(self, token_hash: str, now: datetime) -> User | None:
        """The account of a live session."""
        ...

    def delete_session(self, token_hash: str) -> None:
        """End a session."""
        ...

    def add_api_token(self, token_hash: str, user_id: int, name: str, now: datetime) -> None:
        """Record a personal API token by its hash."""
        ...

    def api_token_user(self, token_hash: str) -> User | None:
        """The account of a personal API token."""
        ...

    def list_api_tokens(self, user_id: int) -> list[tuple[str, str, str]]:
        """A user's tokens as (hash prefix, name, created)."""
        ...

    def delete_api_token(self, user_id: int, hash_prefix: str) -> bool:
        """Revoke a token by the hash prefix shown to its owner."""
        ...

    def set_vote(
        self, user_id: int, key: str, vote: bool | None, now: datetime
    ) -> tuple[bool, int]:
        """Cast, withdraw or toggle (None) an upvote: (voted now, total). KeyError if unknown."""
        ...

    def voted_keys(self, user_id: int, keys: list[str]) -> set[str]:
        """Which of these papers the user upvoted."""
        ...

    def submit(
        self, key: str, day: date, user_id: int | None, now: datetime
    ) -> tuple[FeedEntry, bool]:
        """List a paper on a day's feed unless listed already: (entry, new?)."""
        ...

    def submit_many(self, keys: list[str], day: date, now: datetime) -> int:
        """List imported papers on a day's feed; returns how many were new."""
        ...

    def entry(self, key: str) -> FeedEntry | None:
        """One paper with its upvotes and listing."""
        ...

    def entries(self, papers: list[Paper]) -> list[FeedEntry]:
        """Feed entries for papers in hand, same order."""
        ...

    def feed(
        self,
        first: date,
        last: date,
        order: FeedOrder = "upvotes",
        limit: int = 30,
        offset: int = 0,
        include_hidden: bool = False,
    ) -> tuple[list[FeedEntry], int]:
        """Papers listed on the days first..last, and how many in all."""
        ...

    def listed_since(self, since: datetime) -> list[FeedEntry]:
        """Visible listings made since a time (trending candidates)."""
        ...

    def adjacent_days(self, day: date) -> tuple[date | None, date | None]:
        """The nearest earlier and later days with listings."""
        ...

    def hide_submission(self, key: str, curator_id: int, hidden: bool) -> bool:
        """Hide or show a listing; False if the paper is not listed."""
        ...

    def user_submissions(self, user_id: int, limit: int = 100) -> list[FeedEntry]:
        """What a user submitted, newest first."""
        ...

    def user_upvoted(self, user_id: int, limit: int = 100) -> list[FeedEntry]:
        """What a user upvoted, newest vote first."""
        ...

    def page_papers(self, after_id: int, limit: int) -> list[tuple[int, FeedEntry]]:
        """Papers in insertion order after an internal id (cursor paging)."""
        ...

    # -- digests: subscriptions and the outbox --------------------------------------

    def add_subscription(
        self,
        subscription: Subscription,
        confirm_token_hash: str | None,
        confirm_expires: datetime | None,
    ) -> int:
        """Store a subscription with its saved searches; returns its id."""
        ...

    def confirm_subscription(self, token_hash: str, now: datetime) -> Subscription | None:
        """Spend a confirmation link once; the now active subscription, or None."""
        ...

    def get_subscription(self, subscription_id: int) -> Subscription | None:
        """A subscription by id."""
        ...

    def subscriptions_of(self, email: str) -> list[Subscription]:
        """The confirmed subscriptions of an address."""
        ...

    def update_subscription(
        self, subscription_id: int, frequency: str, trending: bool, searches: list[SavedSearch]
    ) -> bool:
        """Change what a subscription receives."""
        ...

    def unsubscribe(self, subscription_id: int) -> bool:
        """Stop a subscription."""
        ...

    def due_subscriptions(
        self, frequency: str, period: str, after_id: int, limit: int
    ) -> list[Subscription]:
        """Active subscriptions that have not had `period` yet, by id."""
        ...

    def papers_added(
        self, start: datetime, end: datetime, limit: int
    ) -> list[tuple[int, datetime, Paper]]:
        """Papers added to the store in [start, end), oldest first."""
        ...

    def record_digest(
        self, subscription_id: int, period: str, covered_until: datetime, message: OutboxItem | None
    ) -> bool:
        """Mark a period composed, queueing its message (if any) in the same transaction."""
        ...

    def claim_outbox(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxItem]:
        """Claim due messages (or ones whose sender's lease ran out)."""
        ...

    def mark_sent(self, outbox_id: int, now: datetime) -> None:
        """A message was accepted by the SMTP server."""
        ...

    def mark_retry(self, outbox_id: int, next_attempt: datetime, error: str) -> None:
        """A temporary failure: try again later."""
        ...

    def mark_failed(self, outbox_id: int, error: str, permanent: bool) -> bool:
        """A message given up on; True when its subscription was paused."""
        ...

    def outbox_counts(self) -> dict[str, int]:
        """Messages in the outbox by status."""
        ...

    def close(self) -> None:
        """Release every connection."""
        ...
