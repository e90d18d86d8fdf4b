"""A reader's profile as the recommender takes it, from the store: the collection's
papers (positives) — for the default profile, the Reading list, also the papers the
reader upvoted ("upvote and save" are both positive, issue 16) — the reader's "not
interested" papers (negatives, for every profile) and "seen" papers (never shown again
unless asked). A paper is one id across its versions and sources (the identity rule
merges them), so "seen" holds for all of them. One function for /for-you, the API, the
profile feeds and the digests, so they cannot disagree on what is excluded."""

from __future__ import annotations

from paperwire.recommend.corpus import Corpus
from paperwire.recommend.model import Recommendation, recommend
from paperwire.store.base import Store


def profile_recommendations(
    store: Store,
    corpus: Corpus,
    user_id: int,
    collection_id: int,
    limit: int,
    among_ids: list[int] | None = None,
    show_seen: bool = False,
) -> list[Recommendation]:
    """The best `limit` papers for one of the reader's collections (none for a
    collection they do not own), explained; never one in the collection or dismissed,
    nor one seen unless `show_seen`; `among_ids` limits the candidates."""
    positives = store.collection_paper_ids(user_id, collection_id)
    if positives is None:
        return []
    if collection_id == store.first_collection_id(user_id):
        positives = list(dict.fromkeys(positives + store.upvoted_ids(user_id)))
    if not positives:
        return []
    signals = store.feedback_ids(user_id)
    negatives = [pid for pid, found in signals.items() if "not_interested" in found]
    seen = set() if show_seen else {pid for pid, found in signals.items() if "seen" in found}
    return recommend(corpus, positives, negatives, seen, limit, among_ids)
