"""A change of embedding model in place (issues 30, 31): vectors are kept per model (store
migration 0018), the new model's fill in — in the background or by `paperwire embed` —
while search keeps reading the old model's, and search moves to the new model only when
its vectors cover the store, the old ones then removed. Real stores on both engines, the
real model."""

from __future__ import annotations

import gc
import json
import sqlite3
import weakref
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from paperwire.cli import cli
from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.deployment.parts import RETIRING
from paperwire.ingest import parse_any
from paperwire.ingest.load import load
from paperwire.models import Paper
from paperwire.search.embed import DEFAULT_MODEL, OnnxEmbedder
from paperwire.search.hybrid import similar
from paperwire.search.vectors import to_bytes
from paperwire.store import migrations, open_store
from support import ENGINES, engine_url

OLD = "minilm-onnx-int8"
NEW = DEFAULT_MODEL
PAPERS = 40
QUERY = "making language models smaller and faster"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    OnnxEmbedder(folder).model_file()  # export and quantise once for the module
    return folder


@pytest.fixture(params=ENGINES)
def url(request, tmp_path):
    return engine_url(request, tmp_path)


def _settings(url: str, models: Path, tmp_path: Path, model: str) -> Settings:
    return Settings(
        database_url=url,
        cache_dir=str(models),
        mail_dir=str(tmp_path / "mail"),
        embedding_model=model,
        embed_in_background=False,
    )


def _old_store(url: str, models: Path, tmp_path: Path) -> list[str]:
    """The first PAPERS sample papers, embedded by the old default; the semantic ranking
    of QUERY on it."""
    lines = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    data = b"\n".join(lines.splitlines()[:PAPERS]) + b"\n"
    with Deployment(_settings(url, models, tmp_path, OLD)) as old:
        load(old.store, parse_any(data, "sample", "paperwire"))
        assert old.embed().embedded == PAPERS
        return [h.paper.key for h in old.search(QUERY, mode="semantic", limit=10)]


def test_the_default_is_the_128_piece_model():
    assert Settings().embedding_model == DEFAULT_MODEL == "minilm-onnx-int8-128"


@pytest.mark.model
def test_a_new_model_fills_in_while_search_keeps_the_old_one(url, models, tmp_path):
    before = _old_store(url, models, tmp_path)
    assert before
    with Deployment(_settings(url, models, tmp_path, NEW)) as new:
        assert new.meaning_model() == OLD
        assert new.engine.vectors.model == OLD and new.engine.embedder.name == OLD
        assert new.to_embed() == PAPERS
        assert [h.paper.key for h in new.search(QUERY, mode="semantic")] == before
        # Part of the backlog: both models' vectors side by side, search still the old.
        assert new.embed_step(limit=16) == 16
        assert new.store.count_vectors(NEW) == 16
        assert new.store.count_vectors(OLD) == PAPERS
        assert new.engine.vectors.model == OLD
        assert len(new.vector_index_of(NEW)) == 16  # kept current for the switch
        assert [h.paper.key for h in new.search(QUERY, mode="semantic")] == before
        # The rest: the step that finds the backlog done retires the old model.
        while new.embed_step(limit=16):
            pass
        assert new.store.count_vectors(NEW) == PAPERS
        assert new.store.count_vectors(OLD) == 0
        assert new.meaning_model() == NEW
        assert new.engine.vectors.model == NEW and new.engine.embedder.name == NEW
        assert new.engine.vectors is new.vector_index_of(NEW)
        assert len(new.engine.vectors) == PAPERS
        after = [h.paper.key for h in new.search(QUERY, mode="semantic")]
        assert len(after) == len(before)
        assert len(set(after[:5]) & set(before[:5])) >= 3  # the same model, read otherwise


@pytest.mark.model
def test_another_worker_moves_to_the_new_model_when_the_old_is_retired(url, models, tmp_path):
    _old_store(url, models, tmp_path)
    settings = _settings(url, models, tmp_path, NEW)
    with Deployment(settings) as embedding, Deployment(settings) as serving:
        assert serving.engine.vectors.model == OLD
        while embedding.embed_step(limit=64):
            pass
        # The serving worker embedded nothing itself; its next use finds the old vectors
        # gone and builds its engine on the new model.
        assert serving.engine.vectors.model == NEW
        assert serving.search(QUERY, mode="semantic")


@pytest.mark.model
def test_paperwire_embed_finishes_an_upgrade_a_server_began(url, models, tmp_path):
    _old_store(url, models, tmp_path)
    env = {"PAPERWIRE_CACHE_DIR": str(models), "PAPERWIRE_EMBED_IN_BACKGROUND": "false"}
    runner = CliRunner()
    # Configured: the new model (the default). `paperwire embed` fills it in and retires
    # the old model search was reading.
    half = PAPERS // 2
    with Deployment(_settings(url, models, tmp_path, NEW)) as new:
        assert new.embed_step(limit=half) == half  # a server began it
    result = runner.invoke(cli, ["--db", url, "embed", "-q"], env=env)
    assert result.exit_code == 0, result.output
    assert f"embedded {PAPERS - half} papers; {PAPERS} in the vector index" in result.output
    with Deployment(_settings(url, models, tmp_path, NEW)) as new:
        assert new.store.count_vectors(OLD) == 0
        assert new.engine.vectors.model == NEW


@pytest.mark.model
def test_embed_model_fills_another_model_in_beside_the_configured_one(url, models, tmp_path):
    before = _old_store(url, models, tmp_path)
    env = {
        "PAPERWIRE_CACHE_DIR": str(models),
        "PAPERWIRE_EMBED_IN_BACKGROUND": "false",
        "PAPERWIRE_EMBEDDING_MODEL": OLD,
    }
    result = CliRunner().invoke(cli, ["--db", url, "embed", "-q", "--model", NEW], env=env)
    assert result.exit_code == 0, result.output
    with Deployment(_settings(url, models, tmp_path, OLD)) as old:
        assert old.store.count_vectors(NEW) == old.store.count_vectors(OLD) == PAPERS
        assert old.meaning_model() == OLD  # the configured model, whole
        assert [h.paper.key for h in old.search(QUERY, mode="semantic")] == before
        assert old.embed_step() == 0
        assert old.store.count_vectors(NEW) == PAPERS  # a server keeps it
    # Configured to the new model later: it covers the store already, search reads it.
    with Deployment(_settings(url, models, tmp_path, NEW)) as new:
        assert new.meaning_model() == NEW and new.engine.vectors.model == NEW


def _vector(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    row = rng.standard_normal(384).astype(np.float32)
    return bytes(to_bytes((row / np.linalg.norm(row))[None, :])[0])


def test_a_paper_keeps_one_vector_per_model(url, tmp_path):
    store = open_store(url, index_root=tmp_path / "indexes")
    try:
        store.upsert_papers([Paper(title="A paper", abstract="Its abstract.")])
        pid = store.paper_ids(["a-paper"])["a-paper"]
        paper = store.get_paper("a-paper")
        assert store.count_to_embed(OLD) == store.count_to_embed(NEW) == 1
        store.save_vectors(OLD, [(pid, paper, _vector(1))])
        store.save_vectors(NEW, [(pid, paper, _vector(2))])
        store.save_vectors(NEW, [(pid, paper, _vector(3))])  # again: replaces its own
        assert store.get_vectors(OLD, [pid]) == {pid: _vector(1)}
        assert store.get_vectors(NEW, [pid]) == {pid: _vector(3)}
        assert store.count_to_embed(OLD) == store.count_to_embed(NEW) == 0
        assert store.delete_vectors(OLD) == 1
        assert store.get_vectors(OLD, [pid]) == {} and not store.has_vectors(OLD)
        assert store.get_vectors(NEW, [pid]) == {pid: _vector(3)}
        assert store.count_to_embed(OLD) == 1 and store.count_to_embed(NEW) == 0
    finally:
        store.close()


def _schema_17_sqlite(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL DEFAULT 'then')"
    )
    for migration in migrations.load("sqlite"):
        if migration.version < 18:
            conn.executescript(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            )
    _old_rows(conn.execute)
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def _schema_17_postgres(server) -> str:
    import psycopg

    server.psql("CREATE DATABASE schema17;")
    url = server.get_uri("schema17")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for migration in migrations.load("postgresql"):
            if migration.version < 18:
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
        _old_rows(lambda sql, args: conn.execute(sql.replace("?", "%s"), args))
    return url


def _old_rows(execute) -> None:
    """A paper and its vector of the old model, as a store before 0018 holds them."""
    execute(
        "INSERT INTO papers (key, title_norm, title_hash, title, sources) VALUES (?, ?, 0, ?, ?)",
        ("kept", "kept", "Kept", '["arxiv"]'),
    )
    execute(
        "INSERT INTO paper_vectors (paper_id, model, text_hash, vector, seq) "
        "SELECT id, ?, ?, ?, 1 FROM papers WHERE key = 'kept'",
        (OLD, "kept:0", _vector(7)),
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_migration_0018_keeps_the_vectors_and_takes_a_second_model(engine, request, tmp_path):
    if engine == "sqlite":
        url = _schema_17_sqlite(tmp_path / "old.db")
    else:
        url = _schema_17_postgres(request.getfixturevalue("postgres_server"))
    store = open_store(url, index_root=tmp_path / "indexes")
    try:
        pid = store.paper_ids(["kept"])["kept"]
        assert store.get_vectors(OLD, [pid]) == {pid: _vector(7)}
        store.save_vectors(NEW, [(pid, store.get_paper("kept"), _vector(8))])
        assert store.get_vectors(OLD, [pid]) == {pid: _vector(7)}
        assert store.get_vectors(NEW, [pid]) == {pid: _vector(8)}
    finally:
        store.close()


def _papers_with_vectors(store, vectors: dict[str, int]) -> None:
    """Three papers; `vectors` says how many of them (the first) each model has."""
    store.upsert_papers([Paper(title=f"Paper {n}", abstract=f"About {n}.") for n in range(3)])
    for model, count in vectors.items():
        _embed_first(store, model, count)


def _embed_first(store, model: str, count: int) -> None:
    """Vectors of `model` for the first `count` of _papers_with_vectors' papers."""
    keys = [f"paper-{n}" for n in range(count)]
    ids = store.paper_ids(keys)
    store.save_vectors(
        model, [(ids[k], store.get_paper(k), _vector(n)) for n, k in enumerate(keys)]
    )


def test_a_newer_model_filled_in_beside_is_neither_read_nor_removed(url, tmp_path):
    # Configured: the old model, two of three papers embedded by it (the third imported
    # since); `paperwire embed --model NEW` filled the new model in for all three.
    # Before: the server read NEW (more vectors) and, once OLD's backlog was done, removed
    # NEW's vectors as if NEW were the model being replaced.
    with Deployment(_settings(url, tmp_path, tmp_path, OLD)) as old:
        _papers_with_vectors(old.store, {OLD: 2, NEW: 3})
        reading = old.engine.vectors.model  # a server running meanwhile
        _embed_first(old.store, OLD, 3)  # the backlog done
        assert old.embed_step() == 0
        assert old.store.count_vectors(NEW) == 3
        assert reading == old.meaning_model() == old.engine.vectors.model == OLD


def test_for_you_reads_the_model_search_reads_mid_upgrade(url, tmp_path):
    # Mid-upgrade: the new model has more vectors than the old one (papers imported since
    # the old embedded them) but does not cover the store yet, so search keeps the old
    # model. Before: For-you (meaning_model) counted again at each request and read the
    # new model's vectors while search, "similar papers" and the digests read the old.
    with Deployment(_settings(url, tmp_path, tmp_path, NEW)) as new:
        _papers_with_vectors(new.store, {OLD: 1})
        assert new.engine.vectors.model == OLD
        _embed_first(new.store, NEW, 2)
        assert new.store.count_to_embed(NEW) == 1
        assert new.meaning_model() == new.engine.vectors.model == OLD


def test_a_worker_that_moved_to_the_new_model_lets_the_old_index_go(url, tmp_path):
    # Before: the process kept the retired model's vector index (Parts.vector_index_of)
    # for its life beside the new one (its codes and ids in memory, in every web worker).
    with Deployment(_settings(url, tmp_path, tmp_path, NEW)) as new:
        _papers_with_vectors(new.store, {OLD: 3})
        new.engine.vectors.sync(new.store)  # as a search does
        old_index = weakref.ref(new.engine.vectors)
        assert old_index().model == OLD and len(old_index()) == 3
        _embed_first(new.store, NEW, 3)
        assert new.retire(OLD)
        assert new.engine.vectors.model == NEW
        gc.collect()
        assert old_index() is None


def test_a_model_s_vectors_are_removed_in_bounded_batches(url, tmp_path):
    # Before: one DELETE of every row of the model, one transaction (2.7M rows on the
    # full store): no other connection saw any removed before the end.
    store = open_store(url, index_root=tmp_path / "indexes")
    try:
        _papers_with_vectors(store, {OLD: 3, NEW: 3})
        seen: list[int] = []
        other = open_store(url, index_root=tmp_path / "indexes")
        try:
            removed = store.delete_vectors(
                OLD, lambda n: seen.append(other.count_vectors(OLD)), batch=2
            )
        finally:
            other.close()
        assert removed == 3 and seen == [1, 0]  # each batch committed on its own
        assert store.count_vectors(NEW) == 3 and not store.has_vectors(OLD)
        assert store.delete_vectors(OLD) == 0
    finally:
        store.close()


def test_workers_leave_the_old_model_before_its_rows_go(url, tmp_path):
    # Before: a worker kept reading the old model until its last row was gone, so, once
    # removal is bounded, searching a model half removed; now the model is marked first.
    settings = _settings(url, tmp_path, tmp_path, NEW)
    with Deployment(settings) as embedding, Deployment(settings) as serving:
        _papers_with_vectors(embedding.store, {OLD: 3})
        assert serving.engine.vectors.model == OLD
        _embed_first(embedding.store, NEW, 3)
        during: list[tuple[str, int]] = []

        @contextmanager
        def watch(desc, total=None, unit=""):
            def advance(_n):
                during.append((serving.meaning_model(), serving.store.count_vectors(OLD)))

            yield advance

        assert embedding.retire(OLD, watch)
        assert during and all(model == NEW for model, _ in during)
        assert serving.engine.vectors.model == NEW and not serving.store.has_vectors(OLD)


def test_a_removal_interrupted_is_taken_up_again(url, tmp_path):
    settings = _settings(url, tmp_path, tmp_path, NEW)
    with Deployment(settings) as new:
        _papers_with_vectors(new.store, {OLD: 3})
        _embed_first(new.store, NEW, 3)
        # What a process stopped after the mark leaves.
        new.store.set_state(RETIRING, OLD)
        assert new.engine.vectors.model == NEW  # search already left it
        assert new.embed_step() == 0
        assert not new.store.has_vectors(OLD) and new.store.get_state(RETIRING) is None


def test_stats_during_a_model_change_say_what_search_reads(url, tmp_path):
    # Before: `paperwire stats` called the change's whole backlog "not yet searchable by
    # meaning", though search by meaning found those papers with the old model.
    store = open_store(url, index_root=tmp_path / "indexes")
    try:
        _papers_with_vectors(store, {OLD: 3})
        _embed_first(store, NEW, 1)
    finally:
        store.close()
    env = {
        "PAPERWIRE_CACHE_DIR": str(tmp_path),
        "PAPERWIRE_EMBEDDING_MODEL": NEW,
    }
    result = CliRunner().invoke(cli, ["--db", url, "stats"], env=env)
    assert result.exit_code == 0, result.output
    assert "not yet searchable by meaning" not in result.output
    assert (
        "2 papers left to embed with the configured model; "
        f"search by meaning reads {OLD} until then"
    ) in result.output
    result = CliRunner().invoke(cli, ["--db", url, "stats", "--json"], env=env)
    figures = json.loads(result.output)
    assert figures["to_embed"] == 2 and figures["searched_model"] == OLD


def test_the_retired_model_s_index_files_go_with_its_rows(url, tmp_path):
    # Before: the old model's index folder beside a SQLite store (824 bytes a paper) stayed
    # on disk for good. (PostgreSQL searches its vectors in the database: no folder.)
    with Deployment(_settings(url, tmp_path, tmp_path, NEW)) as new:
        _papers_with_vectors(new.store, {OLD: 3})
        new.engine.vectors.sync(new.store)
        folder = new.store.index_dir(f"vectors-{OLD}")
        assert folder.exists() == (new.store.native_search is None)
        _embed_first(new.store, NEW, 3)
        assert new.retire(OLD)
        assert not folder.exists()
        assert new.engine.vectors.model == NEW


class _InterruptedError(Exception):
    """A removal stopped after its first batch (the other worker is still at it)."""


def _first_batch_only(_count: int) -> None:
    raise _InterruptedError


@pytest.mark.parametrize("asked", ["gone", "kept"])
def test_similar_papers_of_a_request_that_chose_the_old_model_before_its_removal(
    url, tmp_path, asked
):
    # A request chose its engine (the old model) just before another worker marked the
    # old model retiring and began removing its rows. Before: its "similar papers" read
    # the model half removed: for a paper whose vector had gone, "has no vector yet" (the
    # page showed none, the API a 503); for another, on SQLite a KeyError on the gone
    # neighbour (the page showed none), on PostgreSQL an answer missing that neighbour.
    settings = _settings(url, tmp_path, tmp_path, NEW)
    with Deployment(settings) as embedding, Deployment(settings) as serving:
        _papers_with_vectors(embedding.store, {OLD: 3, NEW: 2})
        chosen = serving.engine  # the request's choice
        assert chosen.vectors.model == OLD
        chosen.vectors.sync(serving.store)  # as a search does
        _embed_first(embedding.store, NEW, 3)  # the new model's backlog done
        # The other worker's retire: the mark, then its first batch (one row here).
        embedding.store.set_state(RETIRING, OLD)
        with pytest.raises(_InterruptedError):
            embedding.store.delete_vectors(OLD, _first_batch_only, batch=1)
        ids = embedding.store.paper_ids([f"paper-{n}" for n in range(3)])
        left = embedding.store.get_vectors(OLD, list(ids.values()))
        gone = [k for k, pid in ids.items() if pid not in left]
        kept = sorted(k for k in ids if k not in gone)
        assert len(gone) == 1 and len(kept) == 2
        key = gone[0] if asked == "gone" else kept[0]
        hits = similar(chosen, key, current=lambda: serving.engine)
        assert sorted(h.paper.key for h in hits) == sorted(k for k in ids if k != key)
        # The request path as the pages and the API take it.
        assert [h.paper.key for h in serving.similar(key)] == [h.paper.key for h in hits]
        assert serving.engine.vectors.model == NEW
