"""What reaches the daily feed from a harvest. Rule "all": every new paper (of the
source's categories, for arXiv); rule "search": only the new papers matching a saved
keyword search — every word of the query in the title or abstract (stemmed as the keyword
index stems) and the query's filters and exclusions passed, as digests match; rule
"similar": the top N new papers by closeness in meaning to what the community upvoted
(:func:`rank_by_upvoted`, given the deployment's model).

A paper is new when its first version is at most NEW_WITHIN_DAYS older than the day it
was harvested for: arXiv's OAI-PMH lists a paper again on the day of each new version or
metadata fix, and an old paper updated today is not today's news. Hugging Face lists
what its community submitted that day, old papers included, so it is all new there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

from paperwire import querylang
from paperwire.models import Paper
from paperwire.querylang import KeywordQuery, parse_query, stem, words_of
from paperwire.sources.config import SourceConfig

if TYPE_CHECKING:  # only for the annotations: the rules load neither the model nor a store
    from paperwire.search.embed import Embedder
    from paperwire.store.base import Store

NEW_WITHIN_DAYS = 7
# Rule "similar" compares new papers with the vectors of this many most upvoted papers.
UPVOTED_SAMPLE = 500
# Ranks papers by closeness to what was upvoted, best first, keeping the top n.
Ranker = Callable[[list[Paper], int], list[Paper]]


def matches(paper: Paper, query: KeywordQuery) -> bool:
    """True when a paper holds every word of the query's positive terms and passes its
    filters."""
    words = words_of(paper)
    for term in query.positive:
        for word in term.words:
            if stem(word) not in words and word.lower() not in words:
                return False
    return querylang.matches(paper, query)


def for_feed(
    config: SourceConfig, papers: list[Paper], day: date, rank: Ranker | None = None
) -> list[Paper]:
    """The papers of one harvested day that the source's rule lists on the feed, in
    upstream order or, for "similar", best first (QueryError for a saved search with
    nothing to match; ValueError for "similar" without a ranker)."""
    chosen = papers
    if config.kind == "arxiv":
        wanted = set(config.categories)
        oldest = day - timedelta(days=NEW_WITHIN_DAYS)
        chosen = [
            p
            for p in chosen
            if wanted.intersection(p.categories) and (p.published is None or p.published >= oldest)
        ]
    if config.rule == "search" and config.query:
        query = parse_query(config.query)
        chosen = [p for p in chosen if matches(p, query)]
    if config.rule == "similar":
        if rank is None:
            raise ValueError("rule 'similar' needs the embedding model (a ranker)")
        chosen = rank(chosen, config.top_n)
    return chosen


def rank_by_upvoted(
    store: Store, embedder: Embedder | None, papers: list[Paper], top_n: int
) -> list[Paper]:
    """The `top_n` papers closest in meaning to what the community upvoted, best
    first: cosine to the mean of the stored vectors of the UPVOTED_SAMPLE most
    upvoted papers (votes cast here). With no upvoted paper embedded yet there is
    nothing to be close to, and the papers keep upstream's order (for Hugging Face:
    its own community's). RuntimeError without an embedding model."""
    import numpy as np

    from paperwire.search.embed import paper_text
    from paperwire.search.vectors import from_bytes

    if not papers:
        return []
    if embedder is None:
        raise RuntimeError("rule 'similar' needs an embedding model")
    liked = store.most_upvoted_ids(UPVOTED_SAMPLE)
    stored = store.get_vectors(embedder.name, liked)
    if not stored:
        return papers[:top_n]
    centre = from_bytes(list(stored.values())).mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    scores = embedder.embed([paper_text(p) for p in papers]) @ centre
    order = np.argsort(-scores, kind="stable")[:top_n]
    return [papers[int(i)] for i in order]
