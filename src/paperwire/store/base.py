"""The Store interface every engine implements, and the values it hands back.

Nothing outside ``store/`` writes SQL: callers speak in Papers and these records. The
search indexes beside a store follow its change feed (:meth:`Store.changes`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from paperwire.models import Paper


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

    def vector_changes(
        self, model: str, after: tuple[int, int], tombstones_after: int, limit: int
    ) -> VectorChanges:
        """Vectors written and papers removed after a position (for the vector index)."""
        ...

    def get_vectors(self, model: str, ids: list[int]) -> dict[int, bytes]:
        """Stored vectors by paper id."""
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

    def close(self) -> None:
        """Release every connection."""
        ...
