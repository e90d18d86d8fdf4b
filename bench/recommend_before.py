"""The ranking as it was before the speed work (commit be15252, src/paperwire/recommend/
model.py, verbatim below this paragraph): bench/recommend_bench.py times it beside the
present code in the same run.

Ranking the candidates for one profile, and saying why.

The rule: with at least MIN_FOR_MODEL positives, a logistic regression over each paper's
tf-idf terms and its MiniLM vector, trained on the profile's papers (positive) against the
reader's "not interested" papers (negative, weighted NEGATIVE_WEIGHT) and a fixed sample of
other papers (weak negatives, as arxiv-sanity-lite trains its SVM against every other
paper); with fewer, the centroid (Rocchio): closeness to the positives' mean less a share
of closeness to the negatives' mean. Never a positive, a dismissed or a seen paper. Each
result names the profile paper it is closest to and the shared terms that weigh most."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from paperwire.recommend.corpus import Corpus

MIN_FOR_MODEL = 3
NEGATIVE_WEIGHT = 5.0
BACKGROUND = 2000
# The vector's weight beside the tf-idf terms (both L2-normalised per paper).
VECTOR_WEIGHT = 1.0
ROCCHIO_NEGATIVE = 0.5
TOP_TERMS = 3
LR_C = 10.0


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One recommended paper, its score and the reasons."""

    paper_id: int
    key: str
    title: str
    score: float
    close_to_key: str | None
    close_to_title: str | None
    terms: list[str]
    method: str

    @property
    def why(self) -> str:
        """The reasons in one sentence."""
        parts = []
        if self.close_to_title:
            parts.append(f"close to “{self.close_to_title}”")
        if self.terms:
            parts.append("shared terms: " + ", ".join(self.terms))
        return "; ".join(parts) or "similar to your profile"


def _features(corpus: Corpus, rows: list[int] | slice) -> sparse.csr_matrix:
    vectors = corpus.vectors[rows] * VECTOR_WEIGHT
    return sparse.hstack([corpus.terms[rows], sparse.csr_matrix(vectors)], format="csr")


def _mean(matrix: sparse.csr_matrix | npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return np.asarray(matrix.mean(axis=0), dtype=np.float32).ravel()


def weights(
    corpus: Corpus, positives: list[int], negatives: list[int]
) -> tuple[npt.NDArray[np.float32], float, str]:
    """The linear scorer of a profile over [terms | vector] and its intercept, by the
    rule above; `positives` and `negatives` are corpus rows."""
    n_terms = corpus.terms.shape[1]
    if len(positives) < MIN_FOR_MODEL:
        w = _mean(_features(corpus, positives))
        if negatives:
            w = w - ROCCHIO_NEGATIVE * _mean(_features(corpus, negatives))
        # Cosine-like: each block of the centroid on the unit sphere.
        for block in (slice(0, n_terms), slice(n_terms, None)):
            norm = float(np.linalg.norm(w[block]))
            if norm > 0:
                w[block] /= norm
        return w.astype(np.float32), 0.0, "centroid"
    taken = set(positives) | set(negatives)
    rng = np.random.default_rng(len(corpus))
    pool = rng.permutation(len(corpus))[: BACKGROUND + len(taken)]
    background = [int(i) for i in pool if int(i) not in taken][:BACKGROUND]
    rows = positives + negatives + background
    labels = np.array([1] * len(positives) + [0] * (len(negatives) + len(background)))
    sample_weight = np.array(
        [1.0] * len(positives) + [NEGATIVE_WEIGHT] * len(negatives) + [1.0] * len(background)
    )
    if len(set(labels.tolist())) < 2:  # a corpus of the profile's papers only
        return weights(corpus, positives[: MIN_FOR_MODEL - 1], negatives)
    model = LogisticRegression(C=LR_C, class_weight="balanced", max_iter=300)
    model.fit(_features(corpus, rows), labels, sample_weight=sample_weight)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0]), "model"


def scores(corpus: Corpus, w: npt.NDArray[np.float32], intercept: float) -> npt.NDArray[np.float32]:
    """Every candidate's score: terms · w_terms + vector · w_vector + intercept."""
    n_terms = corpus.terms.shape[1]
    found = corpus.terms @ w[:n_terms] + (corpus.vectors @ w[n_terms:]) * VECTOR_WEIGHT
    return np.asarray(found, dtype=np.float32).ravel() + np.float32(intercept)


def recommend(
    corpus: Corpus,
    positive_ids: list[int],
    negative_ids: list[int],
    exclude_ids: set[int],
    limit: int,
) -> list[Recommendation]:
    """The best `limit` candidates for a profile, best first, each explained. Positives,
    negatives and `exclude_ids` (seen papers) are never among them."""
    positives = corpus.rows(positive_ids)
    negatives = corpus.rows(negative_ids)
    if not positives or limit <= 0:
        return []
    w, intercept, method = weights(corpus, positives, negatives)
    found = scores(corpus, w, intercept)
    banned = set(positives) | set(negatives) | set(corpus.rows(list(exclude_ids)))
    if banned:
        found[list(banned)] = -np.inf
    count = min(limit, len(corpus) - len(banned))
    if count <= 0:
        return []
    best = np.argpartition(-found, count - 1)[:count]
    best = best[np.argsort(-found[best], kind="stable")]
    return _explain(corpus, [int(i) for i in best], found, positives, w, method)


def _explain(
    corpus: Corpus,
    rows: list[int],
    found: npt.NDArray[np.float32],
    positives: list[int],
    w: npt.NDArray[np.float32],
    method: str,
) -> list[Recommendation]:
    n_terms = corpus.terms.shape[1]
    # Closest profile paper: by meaning where both have vectors, else by terms.
    by_terms = (corpus.terms[rows] @ corpus.terms[positives].T).toarray()
    by_meaning = corpus.vectors[rows] @ corpus.vectors[positives].T
    both = np.outer(corpus.has_vector[rows], corpus.has_vector[positives])
    closeness = np.where(both, by_meaning, by_terms)
    in_profile = np.asarray(corpus.terms[positives].sum(axis=0)).ravel() > 0
    results = []
    for index, row in enumerate(rows):
        nearest = positives[int(np.argmax(closeness[index]))] if positives else None
        start, stop = corpus.terms.indptr[row], corpus.terms.indptr[row + 1]
        cols = corpus.terms.indices[start:stop]
        weight = corpus.terms.data[start:stop] * w[:n_terms][cols]
        keep = (weight > 0) & in_profile[cols]
        order = np.argsort(-weight[keep])[:TOP_TERMS]
        terms = [str(corpus.vocabulary[c]) for c in cols[keep][order]]
        results.append(
            Recommendation(
                paper_id=int(corpus.ids[row]),
                key=corpus.keys[row],
                title=corpus.titles[row],
                score=round(float(found[row]), 4),
                close_to_key=corpus.keys[nearest] if nearest is not None else None,
                close_to_title=corpus.titles[nearest] if nearest is not None else None,
                terms=terms,
                method=method,
            )
        )
    return results
