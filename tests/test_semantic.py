"""Search by meaning with the real model (all-MiniLM-L6-v2 from its package, offline):
embeddings, the vector index, hybrid fusion, similar papers."""

from __future__ import annotations

import json
import shutil
from importlib import resources

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.cli import cli
from paperwire.ingest import parse_any
from paperwire.ingest.load import load
from paperwire.models import Paper
from paperwire.querylang import QueryError, parse_query
from paperwire.search.embed import OnnxEmbedder, TorchEmbedder, paper_text
from paperwire.search.hybrid import (
    FusionWeights,
    SearchEngine,
    embed_pending,
    fuse,
    search,
    similar,
)
from paperwire.search.native import keyword_index, vector_index
from paperwire.search.vectors import VectorIndex, from_bytes
from paperwire.store import open_store
from support import ENGINES, engine_url


@pytest.fixture(scope="session")
def embedder():
    return TorchEmbedder()


@pytest.fixture(scope="module", params=ENGINES)
def engine(request, tmp_path_factory, embedder):
    """The sample, embedded, on each engine: SQLite with its vector index beside the file,
    PostgreSQL with pgvector's."""
    folder = tmp_path_factory.mktemp("semantic")
    store = open_store(engine_url(request, folder), index_root=folder / "indexes")
    data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    load(store, parse_any(data, "sample", "paperwire"))
    assert embed_pending(store, embedder) == 245
    yield SearchEngine(store, keyword_index(store), vector_index(store, embedder.name), embedder)
    store.close()


def keys(hits):
    return [h.paper.key for h in hits]


def test_embeddings_are_normalised_and_incremental(engine, embedder):
    assert embed_pending(engine.store, embedder) == 0  # nothing new
    vectors = from_bytes(list(engine.store.get_vectors(embedder.name, [1, 2, 3]).values()))
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_meaning_finds_what_words_miss(engine):
    query = "making big chatbots smaller by storing their weights with fewer bits"
    semantic = keys(search(engine, query, mode="semantic", limit=10))
    assert sum("quant" in k for k in semantic) >= 5
    # The keyword leg ranks by whichever words a paper holds: it finds some of them too,
    # but a paper sharing only "weight" comes first.
    lexical = keys(search(engine, query, mode="lexical", limit=10))
    assert "quant" not in lexical[0] and "quant" in semantic[0] + semantic[1]


def test_hybrid_fuses_both_legs(engine):
    hits = search(engine, "diffusion models image generation", mode="hybrid", limit=10)
    assert len(hits) == 10 and "diffusion" in hits[0].paper.title.lower()
    assert hits[0].score >= hits[-1].score
    rrf = search(engine, "diffusion models image generation", mode="hybrid", limit=10, fusion="rrf")
    assert set(keys(rrf)) & set(keys(hits))


def test_fusion_functions():
    lexical = [(1, 10.0), (2, 8.0), (4, 2.0)]
    semantic = [(2, 0.9), (3, 0.6), (5, 0.3)]
    convex = dict(fuse(lexical, semantic, "convex", alpha=0.5))
    # min-max within each leg: its last paper scores 0 there, its first 1
    assert convex[2] > convex[1] > convex[3] > 0 and convex[4] == convex[5] == 0
    assert next(pid for pid, _ in fuse(lexical, semantic, "rrf")) == 2
    assert next(pid for pid, _ in fuse(lexical, semantic, "convex", alpha=0.0)) == 1
    by_max = dict(fuse(lexical, semantic, alpha=0.5, weights=FusionWeights(norm="max")))
    assert by_max[4] == pytest.approx(0.1) and by_max[5] == pytest.approx(0.5 / 3)


def test_the_meaning_leg_counts_more_for_longer_queries():
    weights = FusionWeights(short=0.2, long=0.9, long_from=3)
    assert weights.meaning_weight(parse_query("sparse attention")) == 0.2
    # stop words do not count towards the length; a quoted phrase counts once
    assert weights.meaning_weight(parse_query("the attention of a model")) == 0.2
    assert weights.meaning_weight(parse_query('"sparse attention" in long documents')) == 0.9
    ranked = fuse(
        [(1, 5.0), (2, 1.0)],
        [(2, 0.8), (1, 0.3)],
        weights=weights,
        query=parse_query("why are sparse attention models fast"),
    )
    assert ranked[0][0] == 2


def test_filters_and_exclusions_hold_in_the_meaning_leg(engine):
    hits = search(engine, "optimization year:2024", mode="semantic", limit=20)
    assert hits and all(h.paper.published and h.paper.published.year == 2024 for h in hits)
    plain = keys(search(engine, "quantization of language models", mode="semantic", limit=20))
    without = search(
        engine, "quantization of language models -llm -llms", mode="semantic", limit=20
    )
    assert all("llm" not in (h.paper.title + h.paper.abstract).lower().split() for h in without)
    assert set(keys(without)) != set(plain)


def test_nonsense_finds_nothing_by_meaning(engine):
    assert search(engine, "zzzqqqxxx", mode="hybrid", limit=5) == []


@pytest.mark.parametrize(
    "query",
    [
        "NEAR(a b",
        '"',
        "x" * 10_000,
        "量子 コンピュータ",
        "🚀",
        "the of and",
        "'; DROP TABLE papers; --",
        "author:",
        "-a -b",
    ],
)
def test_hostile_queries_in_every_mode(engine, query):
    for mode in ("hybrid", "semantic"):
        try:
            assert isinstance(search(engine, query, mode=mode, limit=5), list)
        except QueryError:
            pass


def test_similar_excludes_itself_and_merges_versions(engine, embedder):
    source = engine.store.get_paper(
        "diffusion-models-learn-low-dimensional-distributions-via-subspace-clustering"
    )
    # another version of it under a slightly different title
    engine.store.upsert_papers(
        [Paper(title=source.title + " (extended version)", abstract=source.abstract)]
    )
    embed_pending(engine.store, embedder)
    hits = similar(engine, source.key, limit=5)
    found = keys(hits)
    assert source.key not in found
    assert not any("extended-version" in k for k in found)
    assert len(found) == 5 and len(set(found)) == 5
    with pytest.raises(KeyError):
        similar(engine, "no-such-paper")


def test_vector_index_matches_exact_search_and_survives_loss(engine, embedder):
    query = embedder.embed(["sparse training of transformers"])[0]
    ids = list(range(1, 247))
    stored = engine.store.get_vectors(embedder.name, ids)
    exact_ids = list(stored)
    exact = from_bytes([stored[i] for i in exact_ids]) @ query
    expected = [exact_ids[i] for i in np.argsort(-exact)[:10]]
    engine.vectors.sync(engine.store)
    assert [pid for pid, _ in engine.vectors.search(query, 10)] == expected
    if not isinstance(engine.vectors, VectorIndex):
        return  # pgvector's index is the database's to keep
    shutil.rmtree(engine.vectors.path)
    fresh = VectorIndex.for_store(engine.store, embedder.name)
    assert len(fresh) == 0 and fresh.sync(engine.store) == len(stored)
    assert [pid for pid, _ in fresh.search(query, 10)] == expected


def test_paper_without_abstract_embeds_from_its_title(engine, embedder):
    paper = Paper(title="Graph neural networks for molecule property prediction")
    assert paper_text(paper) == paper.title
    engine.store.upsert_papers([paper])
    assert embed_pending(engine.store, embedder) == 1


def test_onnx_int8_agrees_with_the_reference(tmp_path, embedder):
    texts = [
        paper_text(Paper(title="Low-bit quantization of language models", abstract="We quantize."))
    ]
    onnx = OnnxEmbedder(tmp_path).embed(texts)
    assert float(onnx[0] @ embedder.embed(texts)[0]) > 0.97


@pytest.mark.model  # the import embeds inline
def test_cli_embed_similar_and_modes(tmp_path):
    runner = CliRunner()
    db = ["--db", f"sqlite:///{tmp_path / 'c.db'}"]
    # The seed papers alone (--no-demo): embedding the 5,000 demo records takes minutes.
    imported = runner.invoke(cli, [*db, "import", "-q", "--sample", "--no-demo"])  # no embedding
    assert imported.exit_code == 0
    assert "245 papers not yet searchable by meaning" in imported.output
    result = runner.invoke(cli, [*db, "embed", "-q"])
    assert result.exit_code == 0 and "embedded 245 papers; 245 in the vector index" in result.stdout
    found = json.loads(
        runner.invoke(cli, [*db, "similar", "--json", "-n", "3", "layer-normalization"]).stdout
    )
    assert len(found) == 3 and all(h["key"] != "layer-normalization" for h in found)
    semantic = json.loads(
        runner.invoke(
            cli,
            [
                *db,
                "search",
                "--mode",
                "semantic",
                "--json",
                "teaching networks without backpropagation",
            ],
        ).stdout
    )
    assert semantic and {"key", "title", "score"} <= set(semantic[0])


def test_changed_paper_is_embedded_again_and_replaced_in_the_index(engine, embedder):
    key = "layer-normalization"
    before = engine.store.get_paper(key)
    engine.vectors.sync(engine.store)
    size = len(engine.vectors)
    engine.store.upsert_papers(
        [Paper(title=before.title, abstract=before.abstract + " Also: graph coloring.")]
    )
    assert engine.store.count_to_embed(embedder.name) == 1
    assert embed_pending(engine.store, embedder) == 1
    beside = isinstance(engine.vectors, VectorIndex)  # (pgvector's needs no syncing)
    assert engine.vectors.sync(engine.store) == (1 if beside else 0)
    assert len(engine.vectors) == size  # replaced, not added


def test_embedding_resumes_after_an_interruption(store, embedder):
    store.upsert_papers(
        [Paper(title=f"Paper on topic number {i}", abstract="text") for i in range(10)]
    )
    calls = 0

    def stop_after_first_batch(_n):
        nonlocal calls
        calls += 1
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        embed_pending(store, embedder, progress=stop_after_first_batch, batch_size=4)
    assert store.count_vectors(embedder.name) == 4
    assert embed_pending(store, embedder, batch_size=4) == 6


@settings(max_examples=50, deadline=None)
@given(
    st.integers(min_value=1, max_value=300),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_rescoring_in_faiss_equals_the_float32_product(rows, seed):
    """The re-scoring of candidates (float16 rows decoded and multiplied in faiss, on one
    thread outside the GIL) gives numpy's float32 inner products."""
    from paperwire.search.vectors import DIMENSIONS, _inner_products

    rng = np.random.default_rng(seed)
    half = rng.standard_normal((rows, DIMENSIONS)).astype(np.float16)
    query = rng.standard_normal(DIMENSIONS).astype(np.float32)
    expected = half.astype(np.float32) @ query
    np.testing.assert_allclose(_inner_products(half, query), expected, rtol=1e-4, atol=1e-3)
