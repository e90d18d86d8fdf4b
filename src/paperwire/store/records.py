"""The values a store hands back (and its error), apart from the Store itself so the
table modules that build them need not import the class they make up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from paperwire.models import Paper

# "code": the "With code" tab: papers with a code link only, most GitHub stars first.
FeedOrder = Literal["upvotes", "newest", "discussed", "code"]


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
class PaperText:
    """What the keyword index holds of a paper (read without building a Paper)."""

    id: int
    title: str
    abstract: str
    authors: list[str]  # the names
    categories: list[str]
    published: date | None
    confirmed: bool
    topics: list[str]  # keyword slugs (the stored topics column; topics.topics_column)
    has_code: bool  # a code link is known


@dataclass(slots=True)
class TextChanges:
    """:class:`Changes` with each paper as the keyword index reads it (PaperText)."""

    papers: list[PaperText]
    position: tuple[int, int]
    deleted: list[int]
    tombstone_seq: int


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
