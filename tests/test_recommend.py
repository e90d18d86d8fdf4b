"""The ranking of a profile (recommend.model) on small corpora: never a positive, a
dismissed or a seen paper, best first, each result explained by a profile paper and
shared terms; the linear model from 3 papers, the centroid below; negatives push their
neighbours down; the corpus follows the store's writes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.models import Paper
from paperwire.recommend.corpus import build_corpus, cached_corpus
from paperwire.recommend.model import MIN_FOR_MODEL, recommend

TOPICS = {
    "graphs": "graph neural networks message passing node classification",
    "quant": "quantization low-bit weights large language models inference",
    "diffusion": "diffusion models denoising image generation score matching",
}


def corpus_of(n_per_topic: int = 8, with_vectors: bool = True):
    rng = np.random.default_rng(3)
    texts, ids, centres = [], [], {t: rng.standard_normal(384) for t in TOPICS}
    vectors = []
    for t, words in TOPICS.items():
        for i in range(n_per_topic):
            ids.append(len(ids) + 1)
            texts.append(f"{t} paper {i}: {words} variant{i}")
            vectors.append(centres[t] + 0.3 * rng.standard_normal(384))
    matrix = np.asarray(vectors, dtype=np.float32)
    has = np.full(len(ids), with_vectors)
    if not with_vectors:
        matrix[:] = 0
    return build_corpus(ids, [f"k{i}" for i in ids], texts, texts, matrix, has)


def test_the_model_ranks_the_profiles_topic_first_and_explains():
    corpus = corpus_of()
    graphs = [1, 2, 3]  # the first three of topic "graphs" (ids 1..8)
    recs = recommend(corpus, graphs, [], set(), 5)
    assert recs[0].method == "model"
    assert all(1 <= r.paper_id <= 8 for r in recs)
    assert all(r.close_to_key in {"k1", "k2", "k3"} for r in recs)
    assert recs[0].why.startswith("close to “graphs paper") and "graph" in " ".join(recs[0].terms)
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)


def test_one_paper_uses_the_centroid_and_terms_alone_work():
    corpus = corpus_of(with_vectors=False)
    recs = recommend(corpus, [9], [], set(), 3)
    assert recs[0].method == "centroid" and all(9 <= r.paper_id <= 16 for r in recs)
    assert recs[0].close_to_key == "k9"


def test_dismissed_papers_push_their_neighbours_down():
    corpus = corpus_of()

    def gap(profile: list[int], dismissed: list[int]) -> float:
        """How far the rest of the quant topic (13-16) scores below the graphs (3-8)."""
        scores = {r.paper_id: r.score for r in recommend(corpus, profile, dismissed, set(), 24)}
        graphs = np.mean([scores[p] for p in range(3, 9)])
        quant = np.mean([scores[p] for p in range(13, 17)])
        return float(graphs - quant)

    # The centroid (2 papers: two topics in one profile), then the model (4 papers).
    assert gap([1, 9], [10, 11, 12]) > gap([1, 9], []) + 0.05
    assert gap([1, 2, 9, 10], [11, 12]) > gap([1, 2, 9, 10], []) + 0.05


@settings(max_examples=60, deadline=None)
@given(
    positives=st.sets(st.integers(1, 24), min_size=1, max_size=8),
    negatives=st.sets(st.integers(1, 24), max_size=5),
    seen=st.sets(st.integers(1, 30), max_size=5),
    limit=st.integers(1, 30),
)
def test_never_a_profile_dismissed_or_seen_paper(positives, negatives, seen, limit):
    corpus = CORPUS
    negatives = negatives - positives
    recs = recommend(corpus, sorted(positives), sorted(negatives), seen, limit)
    got = [r.paper_id for r in recs]
    assert not set(got) & (positives | negatives | seen)
    assert (
        len(got)
        == len(set(got))
        == min(limit, 24 - len(positives | negatives | (seen & set(range(1, 25)))))
    )
    assert all(
        r.method == ("model" if len(positives) >= MIN_FOR_MODEL else "centroid") for r in recs
    )


CORPUS = corpus_of()


def test_the_corpus_follows_the_stores_writes(store):
    store.upsert_papers([Paper("Graph networks", "Message passing on graphs.")])
    first = cached_corpus(store, "minilm")
    assert cached_corpus(store, "minilm") is first  # kept while nothing is written
    store.upsert_papers([Paper("Graph attention", "Attention over graph neighbours.")])
    second = cached_corpus(store, "minilm")
    assert len(second) == 2 and second is not first
    ids = store.paper_ids(["graph-networks"])
    recs = recommend(second, list(ids.values()), [], set(), 5)
    assert [r.key for r in recs] == ["graph-attention"] and "graph" in recs[0].terms
    assert recs[0].why == "close to “Graph networks”; shared terms: graph"


def test_the_dual_newton_solver_is_scikit_learns_logistic_regression():
    """recommend.kernel fits the objective of LogisticRegression(C, class_weight=
    "balanced", sample_weight) from the kernel alone: the same weights, up to the tiny
    regularisation of the intercept."""
    from sklearn.linear_model import LogisticRegression

    from paperwire.recommend.kernel import class_weights, fit_dual

    rng = np.random.default_rng(5)
    x = rng.standard_normal((60, 12))
    labels = (x[:, 0] + 0.5 * rng.standard_normal(60) > 0.8).astype(int)
    sample = np.where(labels == 1, 1.0, rng.choice([1.0, 5.0], 60))
    for c in (0.1, 1.0, 10.0):
        dual, intercept = fit_dual(x @ x.T, labels, c * sample * class_weights(labels, sample))
        ours = x.T @ dual
        reference = LogisticRegression(C=c, class_weight="balanced", tol=1e-10, max_iter=10_000)
        reference.fit(x, labels, sample_weight=sample)
        assert np.allclose(ours, reference.coef_[0], atol=0.02 * np.abs(ours).max()), c
        assert abs(intercept - reference.intercept_[0]) < 0.05 * max(1.0, abs(intercept)), c
