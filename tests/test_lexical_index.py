"""The keyword index beside the store: follows the store's changes, survives being lost,
never serves a paper the store no longer has."""

from __future__ import annotations

import shutil
from datetime import date

from paperwire.models import Author, Paper
from paperwire.search.lexical import LexicalIndex, keyword_search
from paperwire.store.sqlite import SQLiteStore


def keys(store, index, text):
    return [h.paper.key for h in keyword_search(store, index, text, limit=50)]


def test_follows_inserts_updates_rekeys_and_deletions(store):
    index = LexicalIndex.for_store(store)
    store.upsert_papers(
        [Paper(title="Sparse attention for long documents", abstract="We sparsify.")]
    )
    assert keys(store, index, "sparse") == ["sparse-attention-for-long-documents"]
    # the same paper gains an arXiv id and a new abstract: found by the new words, once
    store.upsert_papers(
        [
            Paper(
                title="Sparse Attention for Long Documents",
                arxiv_id="2401.00001",
                abstract="Linear-time routing of tokens.",
                authors=[Author("Zoë Kraft")],
            )
        ]
    )
    assert keys(store, index, "routing") == ["2401.00001"]
    assert keys(store, index, "sparse") == ["2401.00001"]
    assert keys(store, index, "author:zoe") == ["2401.00001"]  # accents folded
    assert index.doc_count() == 1
    store.delete_papers(["2401.00001"])
    assert keys(store, index, "sparse") == []
    assert index.doc_count() == 0


def test_stemming_agrees_between_index_and_query(store):
    index = LexicalIndex.for_store(store)
    store.upsert_papers([Paper(title="Learned optimizers", abstract="Optimizing learning rates.")])
    for text in ["learning", "learns", "optimization", "optimizer*", '"learned optimizers"']:
        assert keys(store, index, text) == ["learned-optimizers"], text


def test_lost_index_is_rebuilt_from_the_store(store):
    index = LexicalIndex.for_store(store)
    store.upsert_papers(
        [Paper(title=f"Paper about topic {i}", abstract="graphs") for i in range(30)]
    )
    assert len(keys(store, index, "graphs")) == 30
    shutil.rmtree(index.path)
    reopened = LexicalIndex.for_store(store)
    assert len(keys(store, reopened, "graphs")) == 30


def test_a_recreated_database_is_not_mixed_with_an_old_index(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    first = SQLiteStore(url)
    first.upsert_papers([Paper(title="Old paper about graphs")])
    LexicalIndex.for_store(first).sync(first)
    first.close()
    for suffix in ["", "-wal", "-shm"]:
        (tmp_path / f"x.db{suffix}").unlink(missing_ok=True)
    second = SQLiteStore(url)
    second.upsert_papers([Paper(title="New paper about graphs")])
    index = LexicalIndex.for_store(second)
    assert keys(second, index, "graphs") == ["new-paper-about-graphs"]
    second.close()


def test_interrupted_sync_resumes_from_its_watermark(store, monkeypatch):
    import paperwire.search.lexical as lexical

    monkeypatch.setattr(lexical, "SYNC_BATCH", 10)
    monkeypatch.setattr(lexical, "COMMIT_EVERY", 20)
    store.upsert_papers(
        [Paper(title=f"Graph paper {i}", published=date(2020, 1, 1)) for i in range(55)]
    )
    index = LexicalIndex.for_store(store)
    calls = 0

    def stop_after_three(_n):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt

    try:
        index.sync(store, progress=stop_after_three)
    except KeyboardInterrupt:
        pass
    saved = LexicalIndex.for_store(store).watermark.position
    assert saved[1] == 20  # the commit after the second batch of ten
    resumed = LexicalIndex.for_store(store)
    assert resumed.sync(store) == 35
    assert resumed.doc_count() == 55


def test_filter_only_queries_list_newest_first(store):
    index = LexicalIndex.for_store(store)
    store.upsert_papers(
        [
            Paper(title="Old", published=date(2019, 5, 1), categories=["cs.LG"]),
            Paper(title="New", published=date(2024, 5, 1), categories=["cs.LG"]),
            Paper(title="Other", published=date(2024, 6, 1), categories=["math.CO"]),
        ]
    )
    assert keys(store, index, "category:cs") == ["new", "old"]
    assert keys(store, index, "category:CS.lg year:>=2020") == ["new"]


def test_title_and_abstract_are_one_text_for_bm25(store, monkeypatch):
    """A word is scored once over title + abstract (BM25 saturates its count once): a
    paper holding it once in each scores as one holding it twice in the abstract, the
    title adding only TITLE_BOOST's share on top."""
    from paperwire.search import lexical

    index = LexicalIndex.for_store(store)
    store.upsert_papers(
        [
            Paper(title="Graphs", abstract="graphs of alpha beta gamma"),
            Paper(title="Trees", abstract="graphs graphs of alpha beta"),
            Paper(title="Other", abstract="nothing of interest here at all"),
        ]
    )
    monkeypatch.setattr(lexical, "TITLE_BOOST", 0.0)
    scores = {h.paper.key: h.score for h in keyword_search(store, index, "graphs")}
    assert scores["graphs"] == scores["trees"] > 0
    monkeypatch.setattr(lexical, "TITLE_BOOST", 0.25)
    ranked = keys(store, index, "graphs")
    assert ranked == ["graphs", "trees"]


def test_an_index_of_an_older_schema_is_rebuilt(store):
    """A schema change (e.g. 1 -> 2: the abstract's field became title + abstract) wipes
    the old index on open and rebuilds it from the store: no search on a stale layout."""
    import json

    index = LexicalIndex.for_store(store)
    store.upsert_papers([Paper(title="Sparse attention", abstract="Long documents.")])
    assert keys(store, index, "documents") == ["sparse-attention"]
    meta = index.path / "paperwire.json"
    saved = json.loads(meta.read_text("utf-8"))
    meta.write_text(json.dumps({**saved, "schema": saved["schema"] - 1}), "utf-8")
    reopened = LexicalIndex.for_store(store)
    assert reopened.doc_count() == 0
    assert keys(store, reopened, "documents") == ["sparse-attention"]
