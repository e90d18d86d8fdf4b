"""The Store interface every engine implements, and the values it hands back.

Nothing outside ``store/`` writes SQL: callers speak in Papers, parsed queries
(:class:`paperwire.search.query.KeywordQuery`) and these result records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from paperwire.models import Paper

if TYPE_CHECKING:
    from paperwire.search.query import KeywordQuery


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


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of a snippet; `hit` marks words that matched the query."""

    text: str
    hit: bool = False


@dataclass(slots=True)
class SearchHit:
    """One keyword-search result: the paper, its score (higher is better) and snippets."""

    paper: Paper
    score: float
    title: list[Fragment] = field(default_factory=list)
    snippet: list[Fragment] = field(default_factory=list)


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

    def keyword_search(self, query: KeywordQuery, limit: int, offset: int = 0) -> list[SearchHit]:
        """BM25-ranked papers matching a parsed keyword query, best first."""
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
