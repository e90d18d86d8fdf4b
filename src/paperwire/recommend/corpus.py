"""The candidates a profile is ranked over, as features: tf-idf over title and abstract
(words and word pairs, sublinear tf, English stop words out) and the stored MiniLM vector
of each paper (zeros where a paper has none yet). Built once per store state and kept
for the next request: a store's change sequence names its state."""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from paperwire.metrics import CORPUS_BUILDS
from paperwire.search.vectors import DIMENSIONS, from_bytes
from paperwire.store.base import Store

if TYPE_CHECKING:
    # Imported where used: scipy and scikit-learn take ~1.5 s CPU to import, and every
    # command that builds a Deployment (an import too) imported them through here
    # (issue 30's profile: start-up was 16 µs a paper of a 100k import).
    from scipy import sparse

PAGE = 5000
# The vocabulary is capped so a corpus of a million papers keeps a bounded matrix.
MAX_TERMS = 100_000
# Words: a letter, then letters, digits or hyphens (so "gpt-4" and "bert" are terms).
WORD = r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b"
# Every profile's model is trained against the same random sample of this many papers
# (weak negatives), whose kernel is computed once per corpus. The fit is cubic in the
# training rows: at 500, a digest run fitting 10,000 distinct profiles on a loaded
# 2-core machine spent 36 ms a profile (527 s in all, over the 5-minute goal); 300 makes
# the Newton system ~4x cheaper. (The eval corpus of 245 papers cannot tell 300 from 2,000:
# both are every other paper there; bench/RESULTS.md §12.)
BACKGROUND = 300
_tokens = itertools.count(1)
log = logging.getLogger(__name__)


@dataclass
class Corpus:
    """Every candidate's features, row i for paper ids[i]."""

    ids: npt.NDArray[np.int64]
    keys: list[str]
    titles: list[str]
    terms: sparse.csr_matrix  # tf-idf, rows L2-normalised
    vocabulary: npt.NDArray[np.str_]
    vectors: npt.NDArray[np.float32]  # L2-normalised; zero rows where none is stored
    has_vector: npt.NDArray[np.bool_]

    token: int = field(default_factory=lambda: next(_tokens))  # names this corpus in caches

    def __post_init__(self) -> None:
        self.row_of: dict[int, int] = {int(pid): i for i, pid in enumerate(self.ids)}
        self._background: Background | None = None
        self._lock = threading.Lock()

    def background(self, vector_weight: float) -> Background:
        """The background sample and its kernel, made on first use and kept."""
        with self._lock:
            if self._background is None or self._background.vector_weight != vector_weight:
                self._background = Background.of(self, vector_weight)
            return self._background

    def kernel(
        self, rows: list[int], other: list[int], vector_weight: float
    ) -> npt.NDArray[np.float64]:
        """K[i, j] = features(rows[i]) . features(other[j]) over [terms | weight x vector]."""
        by_terms = (self.terms[rows] @ self.terms[other].T).toarray()
        by_meaning = self.vectors[rows] @ self.vectors[other].T
        return np.asarray(by_terms + vector_weight**2 * by_meaning, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.keys)

    def rows(self, paper_ids: list[int]) -> list[int]:
        """The rows of these papers (those not in the corpus left out)."""
        return [self.row_of[pid] for pid in paper_ids if pid in self.row_of]


@dataclass
class Background:
    """The weak negatives every profile is trained against: BACKGROUND rows drawn once
    per corpus (seeded by its size, so a rebuild of the same store draws the same), and
    their kernel with each other."""

    rows: npt.NDArray[np.int64]
    terms_t: sparse.csr_matrix  # their terms, transposed (terms x rows)
    vectors: npt.NDArray[np.float32]
    kernel: npt.NDArray[np.float64]
    vector_weight: float

    @classmethod
    def of(cls, corpus: Corpus, vector_weight: float) -> Background:
        """Draw and compute."""
        from scipy import sparse

        rng = np.random.default_rng(len(corpus))
        rows = np.sort(rng.permutation(len(corpus))[:BACKGROUND]).astype(np.int64)
        listed = [int(r) for r in rows]
        terms_t = sparse.csr_matrix(corpus.terms[listed].T)
        vectors = np.ascontiguousarray(corpus.vectors[listed])
        made = cls(rows, terms_t, vectors, np.zeros((0, 0)), vector_weight)
        made.kernel = made.across(corpus, listed)
        return made

    def across(self, corpus: Corpus, rows: list[int]) -> npt.NDArray[np.float64]:
        """The kernel of these corpus rows with every background row."""
        by_terms = (corpus.terms[rows] @ self.terms_t).toarray()
        by_meaning = corpus.vectors[rows] @ self.vectors.T
        return np.asarray(by_terms + self.vector_weight**2 * by_meaning, dtype=np.float64)


def build_corpus(
    ids: list[int],
    keys: list[str],
    titles: list[str],
    texts: list[str],
    vectors: npt.NDArray[np.float32],
    has_vector: npt.NDArray[np.bool_],
) -> Corpus:
    """Features of papers given in hand (the store's loader and the offline evaluation
    both come here)."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        sublinear_tf=True,
        stop_words="english",
        ngram_range=(1, 2),
        min_df=1 if len(texts) < 1000 else 2,
        max_features=MAX_TERMS,
        token_pattern=WORD,
        dtype=np.float32,
    )
    try:
        terms = sparse.csr_matrix(vectorizer.fit_transform(texts))
        vocabulary = np.asarray(vectorizer.get_feature_names_out())
    except ValueError:  # no words at all (an empty store, or titles of symbols only)
        terms = sparse.csr_matrix((len(texts), 0), dtype=np.float32)
        vocabulary = np.asarray([], dtype=str)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    return Corpus(
        np.asarray(ids, dtype=np.int64), keys, titles, terms, vocabulary, unit, has_vector
    )


def load_corpus(store: Store, model: str, since: datetime | None = None) -> Corpus:
    """Every paper stored (or only those stored since a time) with its features."""
    ids: list[int] = []
    keys: list[str] = []
    titles: list[str] = []
    texts: list[str] = []
    after = 0
    while True:
        rows = store.candidate_rows(after, PAGE, since)
        if not rows:
            break
        for row in rows:
            ids.append(row.id)
            keys.append(row.key)
            titles.append(row.title)
            texts.append(f"{row.title}. {row.abstract}")
        after = rows[-1].id
    vectors = np.zeros((len(ids), DIMENSIONS), dtype=np.float32)
    has_vector = np.zeros(len(ids), dtype=bool)
    for start in range(0, len(ids), PAGE):
        chunk = ids[start : start + PAGE]
        stored = store.get_vectors(model, chunk)
        present = [i for i, pid in enumerate(chunk) if pid in stored]
        if present:
            block = from_bytes([stored[chunk[i]] for i in present])
            if block.shape[1] == DIMENSIONS:
                rows_at = [start + i for i in present]
                vectors[rows_at] = block
                has_vector[rows_at] = True
    return build_corpus(ids, keys, titles, texts, vectors, has_vector)


# Under this many papers a stale corpus is rebuilt in line (a second or two); past it, in a
# thread while the one held still answers (at 100k papers a build takes tens of seconds).
INLINE_REBUILD = 20_000
# A request waits this long for the build of its corpus another request started; past it,
# the corpus held before is served if there is one, else CorpusNotReadyError. Single flight:
# at a change of model (or a cold start) every request of a worker missed the corpus at
# once and each built the whole of it (several GB at once at 2.7M papers).
WAIT_S = 30.0
Name = tuple[str, str, str]
_cache: dict[Name, tuple[int, Corpus]] = {}
_cache_lock = threading.Lock()
_flights: dict[Name, _Flight] = {}


class CorpusNotReadyError(RuntimeError):
    """The corpus is being built (by another request) and was not ready in time, and no
    earlier one is held to answer meanwhile."""


@dataclass
class _Flight:
    """One build of a corpus under way; the requests that missed it too wait on `done`."""

    seq: int
    done: threading.Event = field(default_factory=threading.Event)
    corpus: Corpus | None = None
    error: BaseException | None = None


def _fly(store: Store, model: str, since: datetime | None, name: Name, flight: _Flight) -> None:
    """Build the corpus of `flight` and keep it (one corpus per process: memory stays
    flat); a failure is kept on the flight for whoever waits on it, never shared after."""
    try:
        CORPUS_BUILDS.inc()
        corpus = load_corpus(store, model, since)
        flight.corpus = corpus
        with _cache_lock:
            _cache.clear()
            _cache[name] = (flight.seq, corpus)
    except BaseException as exc:  # handed to the waiters; the leader raises it
        log.warning("the recommendations' corpus (%s) could not be built: %s", model, exc)
        flight.error = exc
    finally:
        with _cache_lock:
            if _flights.get(name) is flight:
                del _flights[name]
        flight.done.set()


def _earlier(name: Name) -> Corpus | None:
    """The corpus held for this store and period under any model: the one For-you read
    before a change of model, which still answers (its rows all of one model) while the
    new model's is built. Called with _cache_lock held."""
    for (url, _model, since), (_seq, corpus) in _cache.items():
        if (url, since) == (name[0], name[2]):
            return corpus
    return None


def cached_corpus(
    store: Store,
    model: str,
    since: datetime | None = None,
    wait: bool = False,
    patience: float = WAIT_S,
) -> Corpus:
    """The corpus of the store's present state, kept for the next requests; built again
    after a write (the change sequence moved) or for another model. One build at a time
    per store, model and period in a process (single flight): the requests that miss it
    meanwhile take the one under way. A small store's is built in line and waited for (at
    most `patience` seconds, then the earlier corpus if one is held, else CorpusNotReadyError);
    past INLINE_REBUILD papers the one held (or, at a change of model, the earlier model's)
    answers while a thread builds the new, so no request waits for a large build.
    `wait`: always the present state, built in line if need be, however long (a digest
    run must rank the papers just added)."""
    name = (store.url, model, since.isoformat() if since else "")
    seq = store.current_seq()
    with _cache_lock:
        held = _cache.get(name)
        if held is not None and held[0] == seq:
            return held[1]
        earlier = held[1] if held is not None else _earlier(name)
        in_background = earlier is not None and len(earlier) >= INLINE_REBUILD and not wait
        flight = _flights.get(name)
        leader = flight is None
        if flight is None:
            flight = _flights[name] = _Flight(seq)
            if in_background:
                threading.Thread(
                    target=_fly,
                    args=(store, model, since, name, flight),
                    daemon=True,
                    name="paperwire-recommend-corpus",
                ).start()
        if in_background:
            assert earlier is not None
            return earlier
    if leader:
        _fly(store, model, since, name, flight)
    elif not flight.done.wait(None if wait else patience):
        if earlier is not None:
            return earlier
        raise CorpusNotReadyError(
            f"recommendations are being prepared ({model}: the papers' features are being "
            "read in); try again in a minute"
        )
    if flight.error is not None:
        raise flight.error
    assert flight.corpus is not None
    if wait and flight.seq < seq:  # the build under way began before a write this must see
        return cached_corpus(store, model, since, wait)
    return flight.corpus
