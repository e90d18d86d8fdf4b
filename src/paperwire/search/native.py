"""Indexes kept by the store itself (PostgreSQL: tsvector + GIN, pgvector HNSW), with the
interface of the indexes kept beside a store (lexical.LexicalIndex, vectors.VectorIndex),
so hybrid search, similar papers and the keyword leg run unchanged on either. Which kind a
store gets is decided by what it declares it can do (`Store.native_search`), not by its
engine's name.

Keyword search defaults to the tantivy index beside the store on every engine: measured at
100k and 1M papers (bench/RESULTS.md §8), PostgreSQL's ts_rank_cd must read the tsvector of
every row holding a common word, while tantivy's block-max WAND stops early. The database's
own index (`PAPERWIRE_KEYWORD_INDEX=database`) keeps no local files and is exact at every
commit: the choice for stateless web nodes over a small or rare-word corpus."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from paperwire.config import KeywordPlacement
from paperwire.querylang import KeywordQuery
from paperwire.search.lexical import LexicalIndex
from paperwire.search.subset import Subset
from paperwire.search.vectors import EXACT_MAX, VectorIndex
from paperwire.store.base import NativeSearch, Store

# Candidates asked of the store's vector index when filters drop some; HNSW scans return
# at most this many (pgvector's ef_search ceiling).
MAX_POOL = 1000


class StoreKeywordIndex:
    """Keyword search answered by the store (always current: the database indexes each
    row as it is written)."""

    def __init__(self, store: NativeSearch) -> None:
        self.store = store
        self.path = None

    def is_current(self, store: Store) -> bool:
        """Always: nothing to catch up with."""
        return True

    def sync(self, store: Store, progress: Callable[[int], object] | None = None) -> int:
        """Nothing to do."""
        return 0

    def update(self, store: Store, progress: Callable[[int], object] | None = None) -> int:
        """Nothing to do."""
        return 0

    def lag(self, store: Store) -> int:
        """Never behind."""
        return 0

    def rebuild(self, store: Store, progress: Callable[[int], object] | None = None) -> int:
        """Nothing to rebuild: the database keeps its index."""
        return 0

    def search(self, query: KeywordQuery, limit: int, offset: int = 0) -> list[tuple[int, float]]:
        """(paper id, score) best first (see store/pg_search.py)."""
        return self.store.fulltext(query, limit, offset)


class StoreVectorIndex:
    """Nearest neighbours answered by the store's vector index."""

    def __init__(self, store: Store, model: str) -> None:
        search = store.native_search
        if search is None:
            raise ValueError(f"{type(store).__name__} has no vector index of its own")
        self.store = search
        self._counts = store  # the same store, seen as a Store (for count_vectors)
        self.model = model

    def sync(self, store: Store, progress: Callable[[int], object] | None = None) -> int:
        """Nothing to do: vectors are indexed as they are saved."""
        return 0

    def __len__(self) -> int:
        return self._counts.count_vectors(self.model)

    def has_any(self) -> bool:
        """True when the store holds a vector of this model (asked before every search
        by meaning: an EXISTS, where counting a million rows takes a tenth of a second)."""
        return self._counts.has_vectors(self.model)

    def search(
        self,
        query: npt.NDArray[np.float32],
        k: int,
        keep: Callable[[list[int]], set[int]] | None = None,
        exclude: set[int] | None = None,
        where: KeywordQuery | None = None,
        subset: Subset | None = None,
    ) -> list[tuple[int, float]]:
        """(paper id, cosine) of the k nearest papers passing `keep`, best first. `where`,
        the query whose filters `keep` applies, goes into the database's scan (papers
        failing it are never candidates; store/pg_search.nearest); without it the
        candidate pool grows while `keep` leaves too few. `subset`, the papers the filter
        passes as the keyword index beside the store counts them, answers a filter none
        pass without asking the database, and one up to EXACT_MAX pass by scoring those
        rows exactly."""
        exclude = exclude or set()
        if subset is not None and subset.count <= EXACT_MAX:
            among = [int(pid) for pid in subset.ids() if int(pid) not in exclude]
            nearest = self.store.nearest(self.model, query, k, among=among)
            return nearest[:k]
        if where is not None:
            nearest = self.store.nearest(self.model, query, k + len(exclude), where)
            found = [(pid, score) for pid, score in nearest if pid not in exclude]
            allowed = keep([pid for pid, _ in found]) if keep is not None else None
            return [pair for pair in found if allowed is None or pair[0] in allowed][:k]
        # Unfiltered, k (plus what is excluded) is enough: the store re-scores a wider
        # candidate set itself. Filters start wider, as they drop some.
        pool = min(MAX_POOL, k + len(exclude) if keep is None else max(k * 4, 100))
        while True:
            nearest = self.store.nearest(self.model, query, pool)
            found = [(pid, score) for pid, score in nearest if pid not in exclude]
            if keep is None:
                passed = found
            else:
                allowed = keep([pid for pid, _ in found])
                passed = [(pid, score) for pid, score in found if pid in allowed]
            if len(passed) >= k or pool >= MAX_POOL or len(found) + len(exclude) < pool:
                return passed[:k]
            pool = min(MAX_POOL, pool * 4)


def check_placement(store: Store, placement: KeywordPlacement) -> None:
    """ValueError when the keyword index asked for cannot be had with this store."""
    if placement == "database" and store.native_search is None:
        raise ValueError(
            "PAPERWIRE_KEYWORD_INDEX=database needs a database with its own full-text "
            "index (PostgreSQL); this store keeps its keyword index beside it"
        )


def keyword_index(
    store: Store, placement: KeywordPlacement = "beside"
) -> LexicalIndex | StoreKeywordIndex:
    """The keyword index for a store: a tantivy index beside it, or, when asked for and
    the store has one, its own (ValueError when it has none)."""
    check_placement(store, placement)
    search = store.native_search
    if placement == "database" and search is not None:
        return StoreKeywordIndex(search)
    return LexicalIndex.for_store(store)


def vector_index(store: Store, model: str) -> VectorIndex | StoreVectorIndex:
    """The vector index for a store and model: its own, or a file beside it."""
    if store.native_search is not None:
        return StoreVectorIndex(store, model)
    return VectorIndex.for_store(store, model)


# The two kinds of each index, as callers hold them.
KeywordIndex = LexicalIndex | StoreKeywordIndex
VectorIndexLike = VectorIndex | StoreVectorIndex
