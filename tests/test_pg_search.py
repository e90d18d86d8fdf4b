"""Search inside PostgreSQL: the query language as tsqueries over the weighted tsvector
(GIN), and nearest neighbours through pgvector's HNSW index — through the same search
functions as the SQLite engine's indexes beside the file."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from paperwire.ingest import parse_any
from paperwire.ingest.load import load
from paperwire.models import Author, Paper
from paperwire.search.embed import make_embedder
from paperwire.search.hybrid import SearchEngine, embed_pending, search, similar
from paperwire.search.lexical import LexicalIndex, keyword_search
from paperwire.search.native import StoreKeywordIndex, StoreVectorIndex, keyword_index, vector_index
from paperwire.search.vectors import to_bytes
from paperwire.store.postgres import PostgresStore
from paperwire.store.sqlite import SQLiteStore
from support import fresh_postgres_url


@pytest.fixture(scope="module")
def pg(postgres_server, tmp_path_factory):
    store = PostgresStore(
        fresh_postgres_url(postgres_server), index_root=tmp_path_factory.mktemp("i")
    )
    data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    load(store, parse_any(data, "sample", "paperwire"))
    store.upsert_papers(
        [
            Paper(
                title="Quantum error correction with surface codes",
                abstract="Surface codes protect qubits.",
                arxiv_id="2301.00001",
                authors=[Author("Alice Quantum"), Author("Bob Smith")],
                categories=["quant-ph"],
            ),
            Paper(
                title="A study of sparse attention",
                abstract="We look at attention that is sparse.",
                arxiv_id="2301.00002",
                authors=[Author("Carol Jones")],
                categories=["cs.CL", "cs.LG"],
            ),
            Paper(
                title="Protein folding",
                abstract="Sparse attention helps fold proteins.",
                arxiv_id="2301.00003",
                authors=[Author("Dan Brown")],
                categories=["q-bio.BM"],
            ),
        ]
    )
    yield store
    store.close()


def keys(hits):
    return [hit.paper.key for hit in hits]


def test_the_store_keeps_its_own_indexes_and_tantivy_beside_by_default(pg, tmp_path):
    assert isinstance(keyword_index(pg, "database"), StoreKeywordIndex)
    assert isinstance(keyword_index(pg), LexicalIndex)  # measured faster: bench §8
    assert isinstance(vector_index(pg, "minilm"), StoreVectorIndex)
    sqlite = SQLiteStore(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ValueError, match="PAPERWIRE_KEYWORD_INDEX=database needs"):
        keyword_index(sqlite, "database")
    sqlite.close()


@pytest.mark.parametrize("placement", ["database", "beside"])
def test_words_phrases_prefixes_exclusions_and_filters(pg, placement):
    index = keyword_index(pg, placement)
    found = keys(keyword_search(pg, index, "sparse attention"))
    # The title match ranks above the abstract-only one (weight A over C).
    assert found.index("2301.00002") < found.index("2301.00003")
    assert keys(keyword_search(pg, index, '"surface codes"')) == ["2301.00001"]
    assert keys(keyword_search(pg, index, "qubit*")) == ["2301.00001"]
    assert "2301.00003" not in keys(keyword_search(pg, index, "sparse attention -proteins"))
    assert keys(keyword_search(pg, index, "attention category:cs")) == ["2301.00002"]
    assert keys(keyword_search(pg, index, "author:smith")) == ["2301.00001"]
    assert keys(keyword_search(pg, index, 'author:"alice quantum" codes')) == ["2301.00001"]
    assert keys(keyword_search(pg, index, "diffusion year:1990-1991")) == []
    # Words rank, they do not gate: papers holding some of them are found.
    some = keyword_search(pg, index, "sparse zebra", limit=5)
    assert len(some) == 5
    assert all("sparse" in (h.paper.title + h.paper.abstract).lower() for h in some)
    # A quoted phrase is required, the other words rank (the same rule on both indexes).
    with_phrase = keys(keyword_search(pg, index, 'proteins "sparse attention"', limit=50))
    assert with_phrase[0] == "2301.00003"
    assert "2301.00002" in with_phrase
    assert all(
        "sparse attention" in (h.paper.title + " " + h.paper.abstract).lower().replace("-", " ")
        for h in keyword_search(pg, index, 'proteins "sparse attention"', limit=50)
    )


@pytest.mark.parametrize(
    "hostile",
    ["'); DROP TABLE papers; --", "a & b | !c", ":*", "attention:A", "<-> <2>", "\\", "%_%"],
)
def test_hostile_queries_are_only_words(pg, hostile):
    keyword_search(pg, keyword_index(pg, "database"), f"sparse {hostile}")
    assert pg.count_papers() == 248


@pytest.mark.model
def test_hybrid_and_similar_with_pgvector(pg, tmp_path):
    embedder = make_embedder("minilm", tmp_path)
    assert embed_pending(pg, embedder) == 248
    engine = SearchEngine(
        pg, keyword_index(pg, "database"), vector_index(pg, embedder.name), embedder
    )
    assert engine.ready_for_meaning()
    query = "making big chatbots smaller by storing their weights with fewer bits"
    semantic = keys(search(engine, query, mode="semantic", limit=10))
    assert sum("quant" in k for k in semantic) >= 5  # found by meaning, as on SQLite
    hybrid = keys(search(engine, "sparse attention", mode="hybrid", limit=10))
    assert "2301.00002" in hybrid[:3]
    filtered = search(engine, query, mode="semantic", limit=5)
    assert filtered
    neighbours = keys(similar(engine, "2301.00002", limit=5))
    assert "2301.00002" not in neighbours and len(neighbours) == 5


def test_nearest_finds_an_exact_vector(pg):
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(30, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    papers = pg.get_papers(list(range(1, 31)))
    pg.save_vectors(
        "test-model",
        [
            (pid, papers[pid], blob)
            for pid, blob in zip(range(1, 31), to_bytes(vectors), strict=True)
        ],
    )
    for i in (0, 13, 29):
        best = pg.nearest("test-model", vectors[i], 3)
        assert best[0][0] == i + 1 and best[0][1] == pytest.approx(1.0, abs=1e-5)


def test_a_large_backfill_sets_the_hnsw_index_aside_and_builds_it_once(postgres_server, tmp_path):
    from paperwire.store import pg_search, postgres

    url = fresh_postgres_url(postgres_server)
    store = PostgresStore(url, index_root=tmp_path)
    papers = [
        Paper(f"Paper number {i}", f"Abstract {i}.", arxiv_id=f"2302.{i:05d}") for i in range(40)
    ]
    store.upsert_papers(papers)
    ids = store.paper_ids([p.key for p in papers])
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(40, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = [(ids[p.key], p, b) for p, b in zip(papers, to_bytes(vectors), strict=True)]

    def index_exists() -> bool:
        with store.read() as conn:
            found = conn.execute("SELECT to_regclass(?)", (pg_search.VECTOR_INDEX,)).fetchone()
        return found[0] is not None

    with store.vector_backfill(postgres.BULK_VECTORS):
        assert not index_exists()  # set aside
        store.save_vectors("m", rows[:20])
        # Searching meanwhile scans exactly: still right.
        assert store.nearest("m", vectors[5], 1)[0][0] == ids[papers[5].key]
    assert index_exists()
    with store.vector_backfill(10):  # a small one grows the index as it goes
        assert index_exists()
        store.save_vectors("m", rows[20:])
    assert store.nearest("m", vectors[33], 1)[0][0] == ids[papers[33].key]
    assert store.count_vectors("m") == 40

    # A backfill killed while the index was aside: the next start builds it.
    with store.write() as conn:
        conn.execute(f"DROP INDEX {pg_search.VECTOR_INDEX}")
    store.close()
    reopened = PostgresStore(url, index_root=tmp_path)
    with reopened.read() as conn:
        assert conn.execute("SELECT to_regclass(?)", (pg_search.VECTOR_INDEX,)).fetchone()[0]
    reopened.close()
