"""Who gets what: the trending papers of the moment, and the new papers that match each
saved search — with a relevance floor, so that a weak match is not mailed.

A new paper matches a saved search when it passes the search's filters and exclusions
and (by mode) contains every word of the query (keywords), or lies within cosine
MIN_COSINE of the query's embedding (meaning); hybrid takes either. Unlike a results
page, a digest has no "top 10 whatever their quality": scores normalised per query say
nothing about absolute relevance, so the floor is on the raw signals.

"Recommended for you" (opt-in, for a subscription with an account): the new papers of
the window ranked for the reader's chosen collection by recommend.model — never one in
the collection, dismissed or already seen (the papers mailed are marked seen when the
digest is queued: digest.run) — each with why.

One Selector serves a whole run: trending is ranked once, the new papers of a window
are loaded (with their vectors) once per distinct window, each distinct query is
embedded once, in batches, and the recommender's corpus is built once (its features are
kept per store state)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from paperwire.models import FeedEntry, Paper, SavedSearch, Subscription
from paperwire.people.follows import MAX_FOLLOWED_ITEMS, follows_match, why
from paperwire.querylang import (
    KeywordQuery,
    QueryError,
    matches,
    parse_query,
    stem,
    with_filters,
    words_of,
)
from paperwire.ranking import rank_trending, window_start
from paperwire.search.embed import Embedder
from paperwire.search.hybrid import embed_and_save
from paperwire.search.vectors import from_bytes
from paperwire.store.base import Store

if TYPE_CHECKING:
    from paperwire.recommend.corpus import Corpus

# MiniLM cosines: unrelated texts 0.0-0.15, same topic 0.3-0.5, near paraphrase > 0.6.
MIN_COSINE = 0.40
PER_SEARCH = 10
PER_RECOMMENDATION = 5
MAX_NEW_PAPERS = 50_000
QUERY_CACHE = 20_000


@dataclass
class DigestItem:
    """One paper in a digest, and why it is there."""

    entry: FeedEntry
    reason: str


@dataclass
class DigestContent:
    """A subscriber's digest before it is rendered."""

    trending: list[DigestItem] = field(default_factory=list)
    searches: list[tuple[SavedSearch, list[DigestItem]]] = field(default_factory=list)
    recommended: list[DigestItem] = field(default_factory=list)
    profile_name: str = ""
    recommended_ids: list[int] = field(default_factory=list)  # marked seen when queued
    # New papers of the authors, organizations and topics the reader follows (issue 29).
    followed: list[DigestItem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when there is nothing to send."""
        return (
            not self.trending
            and not self.recommended
            and not self.followed
            and not any(items for _, items in self.searches)
        )

    @property
    def size(self) -> int:
        """How many papers the digest lists."""
        return (
            len(self.trending)
            + len(self.recommended)
            + len(self.followed)
            + sum(len(items) for _, items in self.searches)
        )


@dataclass
class _NewPapers:
    """The papers added in one window, with what matching needs."""

    ids: list[int]
    papers: list[Paper]
    postings: dict[str, set[int]]  # word (stemmed or plain) -> rows containing it
    vectors: npt.NDArray[np.float32] | None  # rows for `has_vector` papers
    has_vector: npt.NDArray[np.bool_]


def saved_query(search: SavedSearch) -> KeywordQuery:
    """The parsed query of a saved search (QueryError if it has nothing to match)."""
    return parse_query(
        with_filters(search.query, search.category, search.year_from, search.year_to)
    )


class Selector:
    """Chooses the content of every digest of one run."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        model: str | None,
        now: datetime,
        trending_count: int = 10,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.model = model
        self.now = now
        ranked = rank_trending(store.listed_since(window_start(now)), now)
        self._trending = [entry for entry, _ in ranked[:trending_count]]
        self._windows: dict[datetime, _NewPapers] = {}
        self._queries: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._corpus: Corpus | None = None

    # -- shared work ------------------------------------------------------------

    def prepare(self, subscriptions: list[Subscription]) -> None:
        """Embed, in one batch, the queries of these subscriptions not embedded yet."""
        if self.embedder is None:
            return
        wanted = []
        for subscription in subscriptions:
            for search in subscription.searches:
                if search.mode != "lexical" and search.query not in self._queries:
                    wanted.append(search.query)
        wanted = list(dict.fromkeys(wanted))
        for start in range(0, len(wanted), 256):
            chunk = wanted[start : start + 256]
            for text, vector in zip(chunk, self.embedder.embed(chunk), strict=True):
                self._queries[text] = vector
        while len(self._queries) > QUERY_CACHE:
            self._queries.popitem(last=False)

    def _new_papers(self, start: datetime) -> _NewPapers:
        found = self._windows.get(start)
        if found is not None:
            return found
        rows = self.store.papers_added(start, self.now, MAX_NEW_PAPERS)
        ids = [pid for pid, _, _ in rows]
        papers = [paper for _, _, paper in rows]
        vectors = None
        has_vector = np.zeros(len(ids), dtype=bool)
        if self.embedder is not None and self.model is not None and ids:
            stored = self.store.get_vectors(self.model, ids)
            missing = [i for i, pid in enumerate(ids) if pid not in stored]
            if missing:  # added since the last embedding run: embed them now, and keep them
                batch = [(ids[i], papers[i]) for i in missing]
                blobs = embed_and_save(self.store, self.embedder, batch)
                stored.update({ids[i]: blob for i, blob in zip(missing, blobs, strict=True)})
            has_vector[:] = [pid in stored for pid in ids]
            vectors = from_bytes([stored[pid] for pid in ids if pid in stored])
        postings: dict[str, set[int]] = {}
        for row, paper in enumerate(papers):
            for word in words_of(paper):
                postings.setdefault(word, set()).add(row)
        found = _NewPapers(ids, papers, postings, vectors, has_vector)
        if len(self._windows) > 8:  # a run meets few distinct windows; keep memory flat
            self._windows.clear()
        self._windows[start] = found
        return found

    # -- per subscriber ---------------------------------------------------------

    def content(self, subscription: Subscription, start: datetime) -> DigestContent:
        """The digest of one subscriber: trending (if asked) and new matches since
        `start` for each saved search."""
        digest = DigestContent()
        if subscription.trending:
            digest.trending = [DigestItem(entry, "trending") for entry in self._trending]
        if subscription.searches:
            new = self._new_papers(start)
            for search in subscription.searches:
                digest.searches.append((search, self._matches(search, new)))
        if subscription.recommended and subscription.user_id is not None:
            self._recommend(subscription.user_id, subscription.profile_id, start, digest)
        if subscription.user_id is not None:
            digest.followed = self._followed(subscription.user_id, start)
        return digest

    def _followed(self, user_id: int, start: datetime) -> list[DigestItem]:
        """New papers under what the reader follows (people.follows.follows_match)."""
        follows = self.store.follows(user_id)
        if not follows:
            return []
        new = self._new_papers(start)
        chosen = [(p, m) for p in new.papers if (m := follows_match(follows, p))]
        chosen = chosen[:MAX_FOLLOWED_ITEMS]
        entries = self.store.entries([p for p, _ in chosen])
        return [DigestItem(e, why(m)) for e, (_, m) in zip(entries, chosen, strict=True)]

    def _recommend(
        self, user_id: int, profile_id: int | None, start: datetime, digest: DigestContent
    ) -> None:
        collection_id = profile_id or self.store.first_collection_id(user_id)
        collection = self.store.get_collection(user_id, collection_id) if collection_id else None
        if collection is None:  # deleted, or not theirs: nothing, rather than a guess
            return
        new = self._new_papers(start)
        if not new.ids:
            return
        # Imported here: the recommender loads scikit-learn and SciPy (6 s of a loaded
        # 2-core machine's time), which a run without a For-you reader never needs.
        from paperwire.recommend.corpus import cached_corpus
        from paperwire.recommend.profile import profile_recommendations

        if self._corpus is None:
            self._corpus = cached_corpus(self.store, self.model or "", wait=True)
        recs = profile_recommendations(
            self.store, self._corpus, user_id, collection.id, PER_RECOMMENDATION, new.ids
        )
        by_id = dict(zip(new.ids, new.papers, strict=True))
        chosen = [r for r in recs if r.paper_id in by_id]
        entries = self.store.entries([by_id[r.paper_id] for r in chosen])
        digest.recommended = [
            DigestItem(entry, r.why) for entry, r in zip(entries, chosen, strict=True)
        ]
        digest.recommended_ids = [r.paper_id for r in chosen]
        digest.profile_name = collection.name

    def _matches(self, search: SavedSearch, new: _NewPapers) -> list[DigestItem]:
        if not new.ids:
            return []
        try:
            query = saved_query(search)
        except QueryError:
            return []
        scores = np.full(len(new.ids), -1.0, dtype=np.float32)
        vector = self._queries.get(search.query)
        close: set[int] = set()
        if search.mode != "lexical" and vector is not None and new.vectors is not None:
            scores[new.has_vector] = new.vectors @ vector
            close = set(np.flatnonzero(scores >= MIN_COSINE).tolist())
        worded = _word_matches(query, new.postings) if search.mode != "semantic" else set()
        found: list[tuple[float, int, str]] = []
        for i in close | worded:
            if not matches(new.papers[i], query):
                continue
            by_words = i in worded
            reason = "matches the words" if by_words else f"close in meaning ({scores[i]:.2f})"
            # Rank word matches with their meaning score; a word match alone counts as 1.
            found.append((float(scores[i]) + (1.0 if by_words else 0.0), i, reason))
        found.sort(key=lambda item: (-item[0], item[1]))
        chosen = found[:PER_SEARCH]
        entries = self.store.entries([new.papers[i] for _, i, _ in chosen])
        return [
            DigestItem(entry, reason) for entry, (_, _, reason) in zip(entries, chosen, strict=True)
        ]


def _word_matches(query: KeywordQuery, postings: dict[str, set[int]]) -> set[int]:
    """Rows holding every word of every positive term (stemmed, as the index does)."""
    rows: set[int] | None = None
    for term in query.positive:
        for word in term.words:
            holding = postings.get(stem(word), set()) | postings.get(word.lower(), set())
            rows = holding if rows is None else rows & holding
            if not rows:
                return set()
    return rows or set()
