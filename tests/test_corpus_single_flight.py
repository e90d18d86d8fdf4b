"""For-you's candidates (recommend.corpus) are built once per process and model however
many requests miss them at once: at a change of model, or a cold start, every request of a
worker missed the corpus together and each built the whole of it (several GB at once at
2.7M papers). Real stores on both engines; builds counted by the process's own metric."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from paperwire.metrics import REGISTRY
from paperwire.recommend import corpus as corpus_module
from paperwire.recommend.corpus import Corpus, CorpusNotReadyError, cached_corpus
from paperwire.search.vectors import to_bytes
from paperwire.store import open_store
from support import ENGINES, engine_url

OLD = "minilm-onnx-int8"
NEW = "minilm-onnx-int8-128"
ASKING = 8


@pytest.fixture(params=ENGINES)
def store(request, tmp_path):
    """The shipped sample (245 papers) with the old model's vectors, fabricated."""
    opened = open_store(engine_url(request, tmp_path, sample=True), index_root=tmp_path / "ix")
    _embed(opened, OLD)
    yield opened
    opened.close()


def _embed(store, model: str) -> None:
    rows = store.candidate_rows(0, 10_000, None)
    rng = np.random.default_rng(len(model))
    block = rng.standard_normal((len(rows), 384)).astype(np.float32)
    block /= np.linalg.norm(block, axis=1, keepdims=True)
    papers = store.get_papers([row.id for row in rows])
    store.save_vectors(
        model,
        [(row.id, papers[row.id], bytes(b)) for row, b in zip(rows, to_bytes(block), strict=True)],
    )


def _builds() -> float:
    return REGISTRY.get_sample_value("paperwire_recommend_corpus_builds_total") or 0.0


def _at_once(ask) -> list[object]:
    """`ask()` from ASKING threads released together; what each got (or raised)."""
    start = threading.Barrier(ASKING)
    got: list[object] = [None] * ASKING

    def one(n: int) -> None:
        start.wait()
        try:
            got[n] = ask()
        except Exception as exc:
            got[n] = exc

    threads = [threading.Thread(target=one, args=(n,)) for n in range(ASKING)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return got


def test_requests_missing_the_corpus_at_once_build_it_once(store):
    # A cold start: eight requests of one worker at the same moment.
    before = _builds()
    got = _at_once(lambda: cached_corpus(store, OLD))
    assert _builds() - before == 1
    assert all(corpus is got[0] for corpus in got) and isinstance(got[0], Corpus)
    assert len(got[0]) == 245 and got[0].has_vector.all()


def test_at_a_change_of_model_one_build_of_the_new_model_s_corpus(store):
    old = cached_corpus(store, OLD)  # For-you was reading the old model
    _embed(store, NEW)
    before = _builds()
    got = _at_once(lambda: cached_corpus(store, NEW))
    assert _builds() - before == 1
    assert all(corpus is got[0] for corpus in got) and got[0] is not old


def test_a_large_store_answers_from_the_earlier_model_s_corpus_while_one_builds(store, monkeypatch):
    # Past INLINE_REBUILD papers no request waits for a build: at the switch the corpus
    # of the model For-you read answers (its vectors all of one model) while one thread
    # builds the new model's.
    monkeypatch.setattr(corpus_module, "INLINE_REBUILD", 100)
    old = cached_corpus(store, OLD)
    _embed(store, NEW)
    release = threading.Event()  # the new build held until every request is answered
    real_load = corpus_module.load_corpus
    monkeypatch.setattr(
        corpus_module, "load_corpus", lambda *a, **k: release.wait(60) and real_load(*a, **k)
    )
    before = _builds()
    got = _at_once(lambda: cached_corpus(store, NEW))
    release.set()
    assert all(corpus is old for corpus in got)
    deadline = time.monotonic() + 60
    while (new := cached_corpus(store, NEW)) is old and time.monotonic() < deadline:
        time.sleep(0.01)
    assert new is not old and _builds() - before == 1


def test_a_request_waits_a_bounded_time_for_another_s_build(store, monkeypatch):
    # The first build of a worker (nothing held to answer meanwhile) is under way in
    # another request; this one waits `patience`, then says so rather than building too.
    # The real build is held at its start until this request has been answered, so the
    # order does not depend on the machine's speed.
    release = threading.Event()
    real_load = corpus_module.load_corpus

    def held_load(*args, **kwargs):
        release.wait(60)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(corpus_module, "load_corpus", held_load)
    model = f"{OLD}-held"
    before = _builds()
    leader = threading.Thread(target=cached_corpus, args=(store, model))
    leader.start()
    deadline = time.monotonic() + 30
    while not corpus_module._flights and time.monotonic() < deadline:
        time.sleep(0.0005)
    started = time.monotonic()
    with pytest.raises(CorpusNotReadyError, match="try again in a minute"):
        cached_corpus(store, model, patience=0.01)
    assert time.monotonic() - started < 5
    release.set()
    leader.join(60)
    assert _builds() - before == 1
    assert len(cached_corpus(store, model, patience=0.01)) == 245  # built: at once
