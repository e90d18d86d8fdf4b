"""What reaches the daily feed from a harvest. Rule "all": every new paper (of the
source's categories, for arXiv); rule "search": only the new papers matching a saved
keyword search — every word of the query in the title or abstract (stemmed as the keyword
index stems) and the query's filters and exclusions passed, as digests match; rule
"similar": the top N new papers by closeness in meaning to what the community upvoted
(the ranking is the deployment's: it holds the model, see Deployment.rank_by_upvoted).

A paper is new when its first version is at most NEW_WITHIN_DAYS older than the day it
was harvested for: arXiv's OAI-PMH lists a paper again on the day of each new version or
metadata fix, and an old paper updated today is not today's news. Hugging Face lists
what its community submitted that day, old papers included, so it is all new there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from paperwire import querylang
from paperwire.models import Paper
from paperwire.querylang import KeywordQuery, parse_query, stem, words_of
from paperwire.sources.config import SourceConfig

NEW_WITHIN_DAYS = 7
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
