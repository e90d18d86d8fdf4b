"""Hybrid search: the keyword (BM25) and meaning (embedding) legs fused into one ranking,
the same filters applied to both; and "similar papers".

Fusion is a convex combination of normalised scores, as Bruch et al. ("An Analysis of
Fusion Functions for Hybrid Retrieval", 2023) recommend over reciprocal-rank fusion:
each leg's scores are min-max normalised between a floor (0 for BM25; 0 for cosine, which
the meaning leg never goes below: it drops papers under MIN_COSINE) and the leg's
observed maximum, then ``alpha * meaning + (1 - alpha) * keywords``, a paper missing from
a leg scoring 0 there. The floors and ``alpha`` were chosen on the dev half of the
evaluation queries only, and are reported on the other half (bench/RESULTS.md); RRF
remains available for comparison (``fusion="rrf"``)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np

from paperwire.metrics import SEARCH_SECONDS
from paperwire.models import Paper
from paperwire.querylang import KeywordQuery, matches, parse_query, ranking_terms, stem
from paperwire.search.embed import Embedder, paper_text
from paperwire.search.lexical import (
    LexicalIndex,
    keyword_search,
    query_stems,
)
from paperwire.search.native import StoreKeywordIndex, StoreVectorIndex
from paperwire.search.results import SearchHit, highlight, snippet
from paperwire.search.vectors import VectorIndex, from_bytes, to_bytes
from paperwire.store.base import Store

_EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="paperwire-leg")

Mode = Literal["hybrid", "lexical", "semantic"]
Fusion = Literal["convex", "rrf"]
MODES: tuple[Mode, ...] = ("hybrid", "lexical", "semantic")
# The old fixed weight of the meaning leg (kept for callers that set one).
DEFAULT_ALPHA = 0.7
RRF_K = 60
LEG_DEPTH = 100
# Below this cosine a paper is not "about" the query at all (MiniLM puts unrelated texts
# at 0.0-0.15): the meaning leg leaves it out, so nonsense finds nothing.
MIN_COSINE = 0.2
# Two versions of one paper embed almost identically; they are one paper, not "similar".
DUPLICATE_COSINE = 0.97


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """How much the meaning leg counts, per query: `short` for queries of fewer than
    `long_from` content words, `long` from there on (a description's words are a poor
    keyword query, a short query's exact words are strong evidence); `norm` is how each
    leg's scores are scaled to 0-1 first ("max": score / top, "minmax": (score - lowest)
    / (top - lowest) over the leg's list). Chosen on the dev half of eval/judgments.json
    (`python eval/run.py --tune`), and chosen again for the 128-piece default model (the
    same weights come first; `eval/fusion128.py`, bench/RESULTS.md §27)."""

    short: float = 0.3
    long: float = 0.7
    long_from: int = 4
    norm: Literal["max", "minmax"] = "minmax"

    def meaning_weight(self, query: KeywordQuery) -> float:
        """The meaning leg's weight for this query."""
        words, phrases = ranking_terms(query)
        return self.long if len(words) + len(phrases) >= self.long_from else self.short


DEFAULT_WEIGHTS = FusionWeights()


@dataclass
class SearchEngine:
    """Everything a query needs: the store and the indexes beside it."""

    store: Store
    lexical: LexicalIndex | StoreKeywordIndex
    vectors: VectorIndex | StoreVectorIndex | None = None
    embedder: Embedder | None = None
    # A fixed weight of the meaning leg for every query; None (the default): per query,
    # from `weights`.
    alpha: float | None = None
    weights: FusionWeights = DEFAULT_WEIGHTS

    def ready_for_meaning(self) -> bool:
        """True when the meaning leg can run (a model and a non-empty vector index)."""
        if self.vectors is None or self.embedder is None:
            return False
        self.vectors.sync(self.store)
        return self.vectors.has_any()


def _normalise(scores: dict[int, float], norm: str) -> dict[int, float]:
    if not scores:
        return {}
    top = max(scores.values())
    floor = min(scores.values()) if norm == "minmax" and len(scores) > 1 else 0.0
    span = top - floor
    if span <= 0:
        return {pid: 1.0 for pid in scores}
    return {pid: (score - floor) / span for pid, score in scores.items()}


def fuse(
    lexical: list[tuple[int, float]],
    semantic: list[tuple[int, float]],
    fusion: Fusion = "convex",
    alpha: float | None = None,
    weights: FusionWeights = DEFAULT_WEIGHTS,
    query: KeywordQuery | None = None,
) -> list[tuple[int, float]]:
    """One ranking from the two legs' (id, score) lists: the convex combination
    ``a * meaning + (1 - a) * keywords`` of normalised scores (a paper missing from a leg
    scores 0 there), ``a`` = `alpha` if given, else the weights' choice for the query."""
    fused: dict[int, float] = {}
    if fusion == "rrf":
        for ranking in (lexical, semantic):
            for rank, (pid, _) in enumerate(ranking, start=1):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank)
    else:
        if alpha is None:
            alpha = weights.meaning_weight(query) if query is not None else weights.short
        lex = _normalise(dict(lexical), weights.norm)
        sem = _normalise(dict(semantic), weights.norm)
        for pid in lex.keys() | sem.keys():
            fused[pid] = alpha * sem.get(pid, 0.0) + (1 - alpha) * lex.get(pid, 0.0)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def _semantic_leg(engine: SearchEngine, query: KeywordQuery, depth: int) -> list[tuple[int, float]]:
    assert engine.vectors is not None and engine.embedder is not None
    vector = engine.embedder.embed([query.free_text])[0]
    return [
        (pid, score)
        for pid, score in _nearest_passing(engine, query, vector, depth)
        if score >= MIN_COSINE
    ]


def _nearest_passing(
    engine: SearchEngine, query: KeywordQuery, vector: np.ndarray, depth: int
) -> list[tuple[int, float]]:
    """The `depth` papers nearest the vector that pass the query's filters and exclusions.
    ``matches`` stays the rule of what passes; the filter also goes into the vector search
    itself (the database's scan, or the papers the keyword index says pass), so that a
    narrow filter is not a walk over every vector (issue 25)."""
    assert engine.vectors is not None
    if not (query.filters.active or query.negative):
        return engine.vectors.search(vector, depth)

    def keep(ids: list[int]) -> set[int]:
        papers = engine.store.get_papers(ids)
        return {pid for pid, paper in papers.items() if matches(paper, query)}

    subset = None
    if isinstance(engine.lexical, LexicalIndex):  # the keyword index beside the store
        if not engine.lexical.is_current(engine.store):
            engine.lexical.sync(engine.store)
        subset = engine.lexical.subset(query)
    if isinstance(engine.vectors, StoreVectorIndex):
        return engine.vectors.search(vector, depth, keep=keep, where=query, subset=subset)
    return engine.vectors.search(vector, depth, keep=keep, subset=subset)


def search(
    engine: SearchEngine,
    text: str | KeywordQuery,
    mode: Mode = "hybrid",
    limit: int = 20,
    offset: int = 0,
    fusion: Fusion = "convex",
) -> list[SearchHit]:
    """Papers for a query in one of the three modes, best first. Without a model or
    vectors the meaning leg is skipped and the keyword leg answers alone."""
    query = parse_query(text) if isinstance(text, str) else text
    with SEARCH_SECONDS.labels("total").time():
        if mode == "lexical" or not query.free_text or not engine.ready_for_meaning():
            with SEARCH_SECONDS.labels("keyword").time():
                return keyword_search(
                    engine.store, engine.lexical, query, limit=limit, offset=offset
                )
        want = limit + offset
        depth = max(LEG_DEPTH, want)
        if mode == "semantic":
            ranked = _timed_semantic_leg(engine, query, depth)[offset:want]
        else:
            if not engine.lexical.is_current(engine.store):
                engine.lexical.sync(engine.store)
            # The keyword leg runs on another thread while this one embeds the query and
            # scans the vectors (tantivy and faiss release the GIL): the legs overlap on
            # two cores.
            lexical_leg = _EXECUTOR.submit(_timed_keyword_leg, engine, query, depth)
            semantic = _timed_semantic_leg(engine, query, depth)
            ranked = fuse(
                lexical_leg.result(), semantic, fusion, engine.alpha, engine.weights, query
            )[offset:want]
        return _hits(engine.store, query, ranked)


def _timed_keyword_leg(
    engine: SearchEngine, query: KeywordQuery, depth: int
) -> list[tuple[int, float]]:
    with SEARCH_SECONDS.labels("keyword").time():
        found: list[tuple[int, float]] = engine.lexical.search(query, depth)
        return found


def _timed_semantic_leg(
    engine: SearchEngine, query: KeywordQuery, depth: int
) -> list[tuple[int, float]]:
    with SEARCH_SECONDS.labels("meaning").time():
        return _semantic_leg(engine, query, depth)


def _hits(store: Store, query: KeywordQuery, ranked: list[tuple[int, float]]) -> list[SearchHit]:
    papers = store.get_papers([pid for pid, _ in ranked])
    stems = query_stems(query)

    def is_hit(word: str) -> bool:
        return stem(word) in stems

    return [
        SearchHit(
            papers[pid],
            score,
            highlight(papers[pid].title, is_hit),
            snippet(papers[pid].abstract, is_hit),
        )
        for pid, score in ranked
        if pid in papers and papers[pid].confirmed  # never an unconfirmed paper (issue 25)
    ]


class NotEmbeddedError(LookupError):
    """Nothing can be found near a paper yet: it, or every other paper, has no vector."""


HOW_TO_EMBED = (
    "run `paperwire embed` (a running `paperwire serve` embeds new papers in the background)"
)


def similar(
    engine: SearchEngine,
    key: str,
    limit: int = 10,
    current: Callable[[], SearchEngine] | None = None,
) -> list[SearchHit]:
    """The papers nearest in meaning to one paper (itself and near-identical versions of
    it excluded, near-duplicates among the results merged). `key` is any form the store's
    lookup reads (store.papers.find_row). KeyError if unknown; NotEmbeddedError when the
    paper has no vector yet, or no other paper has one (the vectors are made by
    `paperwire embed` or a running serve, never here: a model load per request is
    seconds).

    `current`: the engine search reads now (Parts.engine), asked once after the answer.
    A request that chose its engine before the earlier model of a change was marked
    retiring reads that model while its rows are removed (on PostgreSQL the search itself
    reads them): the paper's vector, or its neighbours', may be gone. When `current` then
    reads another model, the answer is made again with it, so it is never one of a
    model half removed."""
    if engine.vectors is None or engine.embedder is None:
        raise RuntimeError("similar papers need an embedding model")
    pid = engine.store.find_paper_id(key)
    if pid is None:
        raise KeyError(key)
    model = engine.vectors.model
    try:
        kept: list[tuple[int, float]] | None = _nearest_to(engine, key, pid, limit)
        missing: NotEmbeddedError | None = None
    except NotEmbeddedError as exc:
        kept, missing = None, exc
    if current is not None:
        now = current()
        if now is not engine and now.vectors is not None and now.vectors.model != model:
            engine, kept = now, _nearest_to(now, key, pid, limit)
    if kept is None:
        assert missing is not None
        raise missing
    papers = engine.store.get_papers([n for n, _ in kept])
    return [
        SearchHit(
            papers[n],
            s,
            highlight(papers[n].title, lambda _w: False),
            snippet(papers[n].abstract, lambda _w: False),
        )
        for n, s in kept
        if n in papers and papers[n].confirmed
    ]


def _nearest_to(engine: SearchEngine, key: str, pid: int, limit: int) -> list[tuple[int, float]]:
    """(paper id, cosine) of the `limit` nearest papers to paper `pid` by the engine's
    model, versions of it and near-duplicates of each other left out; a neighbour whose
    vector is gone by the time it is read (its paper deleted, or its model being removed)
    is left out too."""
    assert engine.vectors is not None
    model = engine.vectors.model
    stored = engine.store.get_vectors(model, [pid])
    if pid not in stored:
        raise NotEmbeddedError(
            f"paper {key!r} has no vector yet, so nothing can be found near it: {HOW_TO_EMBED}"
        )
    vector = from_bytes([stored[pid]])[0]
    engine.vectors.sync(engine.store)
    neighbours = engine.vectors.search(vector, limit * 2 + 5, exclude={pid})
    if not neighbours:
        raise NotEmbeddedError(
            f"no other paper has a vector yet, so nothing can be found near {key!r}: {HOW_TO_EMBED}"
        )
    kept: list[tuple[int, float]] = []
    kept_vectors: list[np.ndarray] = []
    all_vectors = engine.store.get_vectors(model, [n for n, _ in neighbours])
    for neighbour, score in neighbours:
        if score >= DUPLICATE_COSINE or neighbour not in all_vectors:
            continue  # another version of the same paper, or its vector gone since
        mine = from_bytes([all_vectors[neighbour]])[0]
        if any(float(mine @ other) >= DUPLICATE_COSINE for other in kept_vectors):
            continue
        kept.append((neighbour, score))
        kept_vectors.append(mine)
        if len(kept) == limit:
            break
    return kept


EmbedProgress = Callable[[int], object]


def embed_and_save(
    store: Store, embedder: Embedder, papers: list[tuple[int, Paper]]
) -> list[bytes]:
    """Embed papers (internal id, paper) and store their vectors in one transaction;
    returns the float32 bytes, in the same order."""
    if not papers:
        return []
    blobs = to_bytes(embedder.embed([paper_text(paper) for _, paper in papers]))
    store.save_vectors(
        embedder.name,
        [(pid, paper, blob) for (pid, paper), blob in zip(papers, blobs, strict=True)],
    )
    return blobs


def embed_pending(
    store: Store,
    embedder: Embedder,
    progress: EmbedProgress | None = None,
    batch_size: int = 64,
    limit: int | None = None,
) -> int:
    """Embed every paper that lacks a current vector (at most `limit` of them), a batch per
    transaction (so an interrupted run keeps what it did and the next one resumes).
    Returns how many."""
    done = 0
    after = 0
    pending_count = store.count_to_embed(embedder.name)
    with store.vector_backfill(min(pending_count, limit or pending_count)):
        while limit is None or done < limit:
            size = batch_size if limit is None else min(batch_size, limit - done)
            pending = store.papers_to_embed(embedder.name, after, size)
            if not pending:
                return done
            embed_and_save(store, embedder, pending)
            after = pending[-1][0]
            done += len(pending)
            if progress:
                progress(len(pending))
    return done
