"""`paperwire embed` on every core (issue 30): a backlog runs in one single-thread ONNX
Runtime session per worker process, and the workers get exactly the calls a single session
gets, so the vectors are a single session's (the int8 model quantises a run's activations
with one scale: with runs of several texts, a text's vector depends on its neighbours)."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from paperwire.cli import cli
from paperwire.deployment import search as pipelines
from paperwire.models import Paper
from paperwire.search.embed import (
    DEFAULT_MODEL,
    ONNX_MODELS,
    OnnxEmbedder,
    make_embedder,
    paper_text,
)
from paperwire.search.embed_pool import SHIPPED_GROUP, PooledEmbedder, groups
from paperwire.search.vectors import from_bytes
from paperwire.store import open_store


@given(st.integers(min_value=0, max_value=1000))
def test_groups_are_the_calls_embed_pending_makes(count):
    calls = groups(count)
    assert [i for call in calls for i in call] == list(range(count))
    assert all(len(call) == SHIPPED_GROUP for call in calls[:-1])
    assert all(call.start % SHIPPED_GROUP == 0 for call in calls)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    OnnxEmbedder(folder).model_file()  # export and quantise once for the module
    return folder


def _texts() -> list[str]:
    lines = resources.files("paperwire.data").joinpath("sample.jsonl").read_text("utf-8")
    papers = [json.loads(line) for line in lines.splitlines()]
    texts = [paper_text(Paper(title=p["title"], abstract=p["abstract"])) for p in papers[:70]]
    # Short texts among the long ones: runs of different widths.
    return texts + [p["title"] for p in papers[70:100]]


def _single_session(models, texts, threads=None, model=DEFAULT_MODEL):
    """What embed_pending fed a single session makes: groups of 64, in order."""
    embedder = make_embedder(model, models, threads=threads)
    return np.concatenate(
        [embedder.embed(texts[i : i + SHIPPED_GROUP]) for i in range(0, len(texts), SHIPPED_GROUP)]
    )


@pytest.mark.model
@pytest.mark.parametrize("model", list(ONNX_MODELS))
def test_pooled_workers_give_the_single_session_vectors_in_order(models, model):
    texts = _texts()
    reference = _single_session(models, texts, model=model)
    with PooledEmbedder(models, processes=2, model=model) as pooled:
        assert pooled.name == model
        got = pooled.embed(texts)
        assert pooled.embed([]).shape == (0, 384)
    assert got.dtype == np.float32
    assert got.shape == (len(texts), 384)
    assert float(np.min(np.sum(reference * got, axis=1))) >= 0.99999


@pytest.mark.model
def test_paperwire_embed_runs_a_backlog_in_worker_processes(tmp_path, models, monkeypatch):
    monkeypatch.setattr(pipelines, "POOLED_FROM", 100)  # the sample's 245 papers are a backlog
    used = []
    real_init = PooledEmbedder.__init__

    def counting_init(self, *args, **kwargs):
        used.append(True)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(PooledEmbedder, "__init__", counting_init)
    db = f"sqlite:///{tmp_path / 'p.db'}"
    env = {"PAPERWIRE_CACHE_DIR": str(models)}
    runner = CliRunner()
    sample = str(resources.files("paperwire.data").joinpath("sample.jsonl"))
    assert runner.invoke(cli, ["--db", db, "import", "-q", sample], env=env).exit_code == 0
    result = runner.invoke(cli, ["--db", db, "embed", "-q"], env=env)
    assert result.exit_code == 0, result.output
    assert used == [True]
    store = open_store(db)
    try:
        assert store.count_to_embed(DEFAULT_MODEL) == 0
        ids = sorted(store.get_papers(list(range(1, 300))))
        papers = store.get_papers(ids)
        reference = _single_session(models, [paper_text(papers[i]) for i in ids])
        stored = store.get_vectors(DEFAULT_MODEL, ids)
        got = from_bytes([stored[i] for i in ids])
        assert float(np.min(np.sum(reference * got, axis=1))) >= 0.99999
    finally:
        store.close()
