"""The Store every engine is, and the values it hands back.

Nothing outside ``store/`` writes SQL: callers speak in Papers and these records. The
search indexes beside a store follow its change feed (:meth:`Store.changes`).

The SQL both engines share is written once, in the table modules the Store is made of
(papers.py, accounts.py, feed.py, digests.py, collections.py, comments.py, channels.py, …); an
engine supplies
connections (``read``, ``write``), migrations and its dialect (store/dialect.py), and
whatever only it does."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from paperwire.store.accounts import AccountTables
from paperwire.store.channels import ChannelTables
from paperwire.store.collections import CollectionTables
from paperwire.store.comments import CommentTables
from paperwire.store.digests import DigestTables
from paperwire.store.feed import FeedTables
from paperwire.store.limits import LimitTables
from paperwire.store.papers import PaperTables
from paperwire.store.people import PeopleTables
from paperwire.store.records import (
    Changes,
    FeedOrder,
    StoreError,
    StoreStats,
    UpsertResult,
    VectorChanges,
)
from paperwire.store.sources import SourceTables
from paperwire.store.trust import ReaderLink, TrustTables
from paperwire.store.upstream import UpstreamTables

if TYPE_CHECKING:  # only for the annotations: opening a store needs neither
    import numpy as np
    import numpy.typing as npt

    from paperwire.querylang import KeywordQuery


class NativeSearch(Protocol):
    """Keyword and vector search answered by the database itself."""

    def fulltext(self, query: KeywordQuery, limit: int, offset: int = 0) -> list[tuple[int, float]]:
        """(paper id, score) best first, papers holding any of the words (store/pg_search.py)."""
        ...

    def nearest(
        self,
        model: str,
        vector: npt.NDArray[np.float32],
        k: int,
        where: KeywordQuery | None = None,
        among: list[int] | None = None,
    ) -> list[tuple[int, float]]:
        """(paper id, cosine similarity) of about the k nearest papers, best first (of
        those passing `where`'s filters and exclusions, when given; exactly, of the
        papers `among`, when given)."""
        ...


class OnlineBackup(Protocol):
    """A store that copies its own database while it runs (SQLite's online backup)."""

    path: Path

    def backup_to(self, target: Path) -> int:
        """Write a consistent copy to `target`; its size in bytes (StoreError if not)."""
        ...


class Store(
    TrustTables,
    PaperTables,
    AccountTables,
    FeedTables,
    DigestTables,
    LimitTables,
    SourceTables,
    CollectionTables,
    CommentTables,
    ChannelTables,
    PeopleTables,
    UpstreamTables,
):
    """Where papers live. Engines: SQLite (default) and PostgreSQL."""

    url: str

    @abstractmethod
    def migrate(self) -> list[int]:
        """Apply the migrations the database lacks; returns the versions applied."""

    @abstractmethod
    def index_dir(self, name: str) -> Path:
        """The folder where the index `name` of this store lives."""

    @abstractmethod
    def close(self) -> None:
        """Release every connection."""

    @property
    def native_search(self) -> NativeSearch | None:
        """The store's own keyword and vector search, where its engine has them (None:
        the indexes are kept beside the store)."""
        return None

    @property
    def online_backup(self) -> OnlineBackup | None:
        """The store's own copy of itself while it runs, where its engine makes one (None:
        the engine's own tool backs it up, as pg_dump does PostgreSQL)."""
        return None

    def schema_version(self) -> int:
        """The last migration applied."""
        with self.read() as conn:
            return int(conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0])

    def applied_migrations(self) -> set[int]:
        """Every migration applied to this database."""
        with self.read() as conn:
            return {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}

    def reset_identities(self, tables: list[str]) -> None:
        """Move each table's identity past the ids a move inserted explicitly (nothing
        to do where the engine does it itself: see Dialect.reset_identity)."""
        if not self.dialect.reset_identity:
            return
        with self.write() as conn:
            for table in tables:
                conn.execute(self.dialect.reset_identity.format(table=table))

    def after_transfer(self) -> None:
        """After a move filled this store: derive what the move did not copy (nothing
        here; the indexes beside the store rebuild from the change feed)."""


__all__ = [
    "Changes",
    "FeedOrder",
    "NativeSearch",
    "ReaderLink",
    "Store",
    "StoreError",
    "StoreStats",
    "UpsertResult",
    "VectorChanges",
]
