"""Ranking the candidates for one profile, and saying why.

The rule: with at least MIN_FOR_MODEL positives, a logistic regression over each paper's
tf-idf terms and its MiniLM vector, trained on the profile's papers (positive) against the
reader's "not interested" papers (negative, weighted NEGATIVE_WEIGHT) and a fixed sample of
other papers (weak negatives, as arxiv-sanity-lite trains its SVM against every other
paper); with fewer, the centroid (Rocchio): closeness to the positives' mean less a share
of closeness to the negatives' mean. Never a positive, a dismissed or a seen paper. Each
result names the profile paper it is closest to and the shared terms that weigh most
(content words only: never a stop word of querylang.STOP_WORDS nor a fragment shorter
than querylang.MIN_CONTENT_CHARS, issue 27).

Speed (issue 16: p95 <= 50 ms over 100k candidates on 2 cores): the regression is solved
over its ~315 training rows (recommend.kernel) against a background whose kernel is kept
with the corpus; the fitted scorer and every candidate's score are kept per (corpus,
positives, negatives), so a page reload or the next page of the same profile only ranks;
scoring is one sparse and one dense matrix-vector product; only the top `limit` are
explained. Measured in bench/RESULTS.md §12."""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from paperwire.querylang import content_word
from paperwire.recommend.corpus import Corpus
from paperwire.recommend.kernel import class_weights, fit_dual, one_thread

MIN_FOR_MODEL = 3
NEGATIVE_WEIGHT = 5.0
# The vector's weight beside the tf-idf terms (both L2-normalised per paper), and the
# regularisation: chosen on the dev topics of eval/recommend_eval.py (a grid of C 0.1-10,
# weight 0-1): weight 0.3 gave nDCG@10 0.477 / 0.670 / 0.686 (1/3/10 seeds) against
# 0.444 / 0.634 / 0.653 at the former weight 1.0; C moved the figures by <= 0.01, and C=1
# converges in 5 Newton steps where C=10 took 7.
VECTOR_WEIGHT = 0.3
ROCCHIO_NEGATIVE = 0.5
TOP_TERMS = 3
LR_C = 1.0
# A profile trains on at most this many of its papers and of the reader's dismissed ones
# (evenly spaced; all of them are still excluded from the results): the fit is cubic in
# the training rows, and 500 papers describe a profile well enough.
MAX_TRAINING = 500
# Fitted profiles kept per process (each ~0.8 MB at 100k candidates).
CACHED_PROFILES = 32


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


@dataclass(frozen=True, slots=True)
class Scorer:
    """A profile's linear scorer over [terms | vector] and how it was made."""

    w: npt.NDArray[np.float32]
    intercept: float
    method: str


def _spread(rows: list[int], most: int) -> list[int]:
    """At most `most` of these rows, evenly spaced (all of them when few)."""
    if len(rows) <= most:
        return rows
    picks = np.linspace(0, len(rows) - 1, most).round().astype(int)
    return [rows[int(i)] for i in picks]


def _centroid(corpus: Corpus, positives: list[int], negatives: list[int]) -> Scorer:
    n_terms = corpus.terms.shape[1]
    w = np.zeros(n_terms + corpus.vectors.shape[1], dtype=np.float32)
    w[:n_terms] = np.asarray(corpus.terms[positives].mean(axis=0)).ravel()
    w[n_terms:] = corpus.vectors[positives].mean(axis=0) * VECTOR_WEIGHT
    if negatives:
        w[:n_terms] -= ROCCHIO_NEGATIVE * np.asarray(corpus.terms[negatives].mean(axis=0)).ravel()
        w[n_terms:] -= ROCCHIO_NEGATIVE * corpus.vectors[negatives].mean(axis=0) * VECTOR_WEIGHT
    # Cosine-like: each block of the centroid on the unit sphere.
    for block in (slice(0, n_terms), slice(n_terms, None)):
        norm = float(np.linalg.norm(w[block]))
        if norm > 0:
            w[block] /= norm
    return Scorer(w, 0.0, "centroid")


def fit(corpus: Corpus, positives: list[int], negatives: list[int]) -> Scorer:
    """The scorer of a profile by the rule above; `positives` and `negatives` are corpus
    rows (disjoint)."""
    if len(positives) < MIN_FOR_MODEL:
        return _centroid(corpus, positives, negatives)
    with one_thread():
        return _fit_model(corpus, positives, negatives)


def _fit_model(corpus: Corpus, positives: list[int], negatives: list[int]) -> Scorer:
    positives = _spread(positives, MAX_TRAINING)
    negatives = _spread(negatives, MAX_TRAINING)
    background = corpus.background(VECTOR_WEIGHT)
    taken = set(positives) | set(negatives)
    keep = np.array([int(r) not in taken for r in background.rows], dtype=bool)
    weak = [int(r) for r in background.rows[keep]]
    if not weak and not negatives:  # a corpus of the profile's papers only
        return _centroid(corpus, positives, negatives)
    own = positives + negatives
    kernel = np.empty((len(own) + len(weak),) * 2, dtype=np.float64)
    n = len(own)
    kernel[:n, :n] = corpus.kernel(own, own, VECTOR_WEIGHT)
    if weak:
        across = background.across(corpus, own)[:, keep]
        kernel[:n, n:] = across
        kernel[n:, :n] = across.T
        kernel[n:, n:] = background.kernel[np.ix_(keep, keep)]
    labels = np.array([1] * len(positives) + [0] * (len(negatives) + len(weak)))
    sample = np.array(
        [1.0] * len(positives) + [NEGATIVE_WEIGHT] * len(negatives) + [1.0] * len(weak)
    )
    costs = LR_C * sample * class_weights(labels, sample)
    rows = own + weak
    n_terms = corpus.terms.shape[1]
    w = np.empty(n_terms + corpus.vectors.shape[1], dtype=np.float32)
    dual, intercept = fit_dual(kernel, labels, costs)
    w[:n_terms] = corpus.terms[rows].T @ dual
    w[n_terms:] = (corpus.vectors[rows].T @ dual) * VECTOR_WEIGHT
    return Scorer(w, intercept, "model")


def scores(
    corpus: Corpus, scorer: Scorer, rows: list[int] | None = None
) -> npt.NDArray[np.float32]:
    """The scores of these candidates (every one when None): terms . w_terms +
    vector . w_vector + intercept."""
    n_terms = corpus.terms.shape[1]
    terms = corpus.terms if rows is None else corpus.terms[rows]
    vectors = corpus.vectors if rows is None else corpus.vectors[rows]
    with one_thread():
        found = terms @ scorer.w[:n_terms]
        found += (vectors @ scorer.w[n_terms:]) * np.float32(VECTOR_WEIGHT)
    return np.asarray(found, dtype=np.float32).ravel() + np.float32(scorer.intercept)


@dataclass
class _Fitted:
    scorer: Scorer
    scores: npt.NDArray[np.float32] | None  # of every candidate, once asked for


_fitted: OrderedDict[str, _Fitted] = OrderedDict()
_fitted_lock = threading.Lock()


def _name(corpus: Corpus, positives: list[int], negatives: list[int]) -> str:
    digest = hashlib.sha256(f"{corpus.token}|".encode())
    digest.update(np.asarray(sorted(positives), dtype=np.int64).tobytes() + b"|")
    digest.update(np.asarray(sorted(negatives), dtype=np.int64).tobytes())
    return digest.hexdigest()


def fitted(corpus: Corpus, positives: list[int], negatives: list[int]) -> _Fitted:
    """The profile's scorer, fitted once per (corpus, positives, negatives) and kept
    (CACHED_PROFILES, least recently used out): a new save, dismissal or corpus state
    names a new entry, so nothing kept is ever stale."""
    name = _name(corpus, positives, negatives)
    with _fitted_lock:
        held = _fitted.get(name)
        if held is not None:
            _fitted.move_to_end(name)
            return held
    made = _Fitted(fit(corpus, positives, negatives), None)
    with _fitted_lock:
        _fitted[name] = made
        while len(_fitted) > CACHED_PROFILES:
            _fitted.popitem(last=False)
    return made


def recommend(
    corpus: Corpus,
    positive_ids: list[int],
    negative_ids: list[int],
    exclude_ids: set[int],
    limit: int,
    among_ids: list[int] | None = None,
) -> list[Recommendation]:
    """The best `limit` candidates for a profile, best first, each explained. Positives,
    negatives and `exclude_ids` (seen papers) are never among them; `among_ids` limits
    the candidates (a digest's new papers), else every paper of the corpus is one."""
    positives = corpus.rows(positive_ids)
    negatives = [r for r in corpus.rows(negative_ids) if r not in set(positives)]
    if not positives or limit <= 0:
        return []
    held = fitted(corpus, positives, negatives)
    banned = set(positives) | set(negatives) | set(corpus.rows(list(exclude_ids)))
    if among_ids is not None:
        candidates = np.array(
            [r for r in corpus.rows(among_ids) if r not in banned], dtype=np.int64
        )
        if not len(candidates):
            return []
        found = scores(corpus, held.scorer, [int(r) for r in candidates])
        count = min(limit, len(candidates))
        best = np.argpartition(-found, count - 1)[:count]
        best = best[np.argsort(-found[best], kind="stable")]
        rows = [int(candidates[i]) for i in best]
        values = [float(found[i]) for i in best]
        return _explain(corpus, rows, values, positives, held.scorer)
    if held.scores is None:
        held.scores = scores(corpus, held.scorer)
    found = held.scores.copy()
    if banned:
        found[list(banned)] = -np.inf
    count = min(limit, len(corpus) - len(banned))
    if count <= 0:
        return []
    best = np.argpartition(-found, count - 1)[:count]
    best = best[np.argsort(-found[best], kind="stable")]
    rows = [int(i) for i in best]
    return _explain(corpus, rows, [float(found[r]) for r in rows], positives, held.scorer)


def _explain(
    corpus: Corpus,
    rows: list[int],
    found: list[float],
    positives: list[int],
    scorer: Scorer,
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
        weight = corpus.terms.data[start:stop] * scorer.w[:n_terms][cols]
        keep = (weight > 0) & in_profile[cols]
        order = np.argsort(-weight[keep])
        named = (str(corpus.vocabulary[c]) for c in cols[keep][order])
        terms = list(itertools.islice((t for t in named if content_word(t)), TOP_TERMS))
        results.append(
            Recommendation(
                paper_id=int(corpus.ids[row]),
                key=corpus.keys[row],
                title=corpus.titles[row],
                score=round(found[index], 4),
                close_to_key=corpus.keys[nearest] if nearest is not None else None,
                close_to_title=corpus.titles[nearest] if nearest is not None else None,
                terms=terms,
                method=scorer.method,
            )
        )
    return results
