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
from paperwire.search.embed import Embedder, paper_text
from paperwire.search.lexical import NAMES, LexicalIndex, keyword_search, query_stems, stem
from paperwire.search.native import StoreKeywordIndex, StoreVectorIndex
from paperwire.search.query import Filters, KeywordQuery, parse_query
from paperwire.search.results import SearchHit, highlight, snippet
from paperwire.search.vectors import VectorIndex, from_bytes, to_bytes
from paperwire.store.base import Store

_EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="paperwire-leg")

Mode = Literal["hybrid", "lexical", "semantic"]
Fusion = Literal["convex", "rrf"]
MODES: tuple[Mode, ...] = ("hybrid", "lexical", "semantic")
# Weight of the meaning leg, chosen on the dev queries of eval/judgments.json.
DEFAULT_ALPHA = 0.7
RRF_K = 60
LEG_DEPTH = 100
# Below this cosine a paper is not "about" the query at all (MiniLM puts unrelated texts
# at 0.0-0.15): the meaning leg leaves it out, so nonsense finds nothing.
MIN_COSINE = 0.2
# Two versions of one paper embed almost identically; they are one paper, not "similar".
DUPLICATE_COSINE = 0.97


@dataclass
class SearchEngine:
    """Everything a query needs: the store and the indexes beside it."""

    store: Store
    lexical: LexicalIndex | StoreKeywordIndex
    vectors: VectorIndex | StoreVectorIndex | None = None
    embedder: Embedder | None = None
    alpha: float = DEFAULT_ALPHA

    def ready_for_meaning(self) -> bool:
        """True when the meaning leg can run (a model and a non-empty vector index)."""
        if self.vectors is None or self.embedder is None:
            return False
        self.vectors.sync(self.store)
        return self.vectors.has_any()


def _words_of(paper: Paper) -> set[str]:
    return {stem(w) for w in f"{paper.title} {paper.abstract}".split()} | {
        w.strip(".,;:()[]") for w in f"{paper.title} {paper.abstract}".lower().split()
    }


def words_of(paper: Paper) -> set[str]:
    """The stemmed (and plain) words of a paper's title and abstract."""
    return _words_of(paper)


def passes(paper: Paper, query: KeywordQuery) -> bool:
    """The query's filters and exclusions, checked on one paper (for the meaning leg; the
    keyword index applies the same rules itself)."""
    filters: Filters = query.filters
    year = paper.published.year if paper.published else None
    if filters.year_from is not None and (year is None or year < filters.year_from):
        return False
    if filters.year_to is not None and (year is None or year > filters.year_to):
        return False
    if filters.categories:
        mine = {c.lower() for c in paper.categories} | {
            c.lower().split(".")[0] for c in paper.categories
        }
        if not any(c.lower() in mine for c in filters.categories):
            return False
    if filters.authors:
        names = set(NAMES.analyze(" ".join(a.name for a in paper.authors)))
        if not all(set(NAMES.analyze(" ".join(name))) <= names for name in filters.authors):
            return False
    if query.negative:
        words = _words_of(paper)
        for term in query.negative:
            if all(stem(w) in words for w in term.words):
                return False
    return True


def _normalise(scores: dict[int, float], floor: float) -> dict[int, float]:
    if not scores:
        return {}
    top = max(scores.values())
    span = top - floor
    if span <= 0:
        return {pid: 1.0 for pid in scores}
    return {pid: (score - floor) / span for pid, score in scores.items()}


def fuse(
    lexical: list[tuple[int, float]],
    semantic: list[tuple[int, float]],
    fusion: Fusion = "convex",
    alpha: float = DEFAULT_ALPHA,
) -> list[tuple[int, float]]:
    """One ranking from the two legs' (id, score) lists."""
    fused: dict[int, float] = {}
    if fusion == "rrf":
        for ranking in (lexical, semantic):
            for rank, (pid, _) in enumerate(ranking, start=1):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank)
    else:
        lex = _normalise(dict(lexical), floor=0.0)
        sem = _normalise(dict(semantic), floor=0.0)
        for pid in lex.keys() | sem.keys():
            fused[pid] = alpha * sem.get(pid, 0.0) + (1 - alpha) * lex.get(pid, 0.0)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def _semantic_leg(engine: SearchEngine, query: KeywordQuery, depth: int) -> list[tuple[int, float]]:
    assert engine.vectors is not None and engine.embedder is not None
    vector = engine.embedder.embed([query.free_text])[0]
    needs_check = query.filters.active or bool(query.negative)

    def keep(ids: list[int]) -> set[int]:
        papers = engine.store.get_papers(ids)
        return {pid for pid, paper in papers.items() if passes(paper, query)}

    found = engine.vectors.search(vector, depth, keep=keep if needs_check else None)
    return [(pid, score) for pid, score in found if score >= MIN_COSINE]


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
            ranked = fuse(lexical_leg.result(), semantic, fusion, engine.alpha)[offset:want]
        return _hits(engine.store, query, ranked)


def _timed_keyword_leg(
    engine: SearchEngine, query: KeywordQuery, depth: int
) -> list[tuple[int, float]]:
    with SEARCH_SECONDS.labels("keyword").time():
        found: list[tuple[int, float]] = engine.lexical.search(query, depth, 0, True)
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
        if pid in papers
    ]


def similar(engine: SearchEngine, key: str, limit: int = 10) -> list[SearchHit]:
    """The papers nearest in meaning to one paper (itself and near-identical versions of
    it excluded, near-duplicates among the results merged). KeyError if unknown."""
    if engine.vectors is None or engine.embedder is None:
        raise RuntimeError("similar papers need an embedding model")
    ids = engine.store.paper_ids([key])
    if key not in ids:
        raise KeyError(key)
    pid = ids[key]
    stored = engine.store.get_vectors(engine.vectors.model, [pid])
    if pid in stored:
        vector = from_bytes([stored[pid]])[0]
    else:  # not embedded yet: embed it now, and keep the vector
        paper = engine.store.get_papers([pid])[pid]
        vector = from_bytes(embed_and_save(engine.store, engine.embedder, [(pid, paper)]))[0]
    engine.vectors.sync(engine.store)
    neighbours = engine.vectors.search(vector, limit * 2 + 5, exclude={pid})
    kept: list[tuple[int, float]] = []
    kept_vectors: list[np.ndarray] = []
    all_vectors = engine.store.get_vectors(engine.vectors.model, [n for n, _ in neighbours])
    for neighbour, score in neighbours:
        if score >= DUPLICATE_COSINE:
            continue  # another version of the same paper
        mine = from_bytes([all_vectors[neighbour]])[0]
        if any(float(mine @ other) >= DUPLICATE_COSINE for other in kept_vectors):
            continue
        kept.append((neighbour, score))
        kept_vectors.append(mine)
        if len(kept) == limit:
            break
    papers = engine.store.get_papers([n for n, _ in kept])
    return [
        SearchHit(
            papers[n],
            s,
            highlight(papers[n].title, lambda _w: False),
            snippet(papers[n].abstract, lambda _w: False),
        )
        for n, s in kept
        if n in papers
    ]


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
