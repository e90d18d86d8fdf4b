"""The SQLite engine: merging, aliases, migrations, one writer with concurrent readers,
and an import killed half-way."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from paperwire.ingest.load import load
from paperwire.models import Author, Paper
from paperwire.store import StoreError, migrations, open_store
from paperwire.store.sqlite import SQLiteStore


def test_file_is_wal_with_busy_timeout_and_migrated_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    first = SQLiteStore(url)
    assert first.migrate() == []  # already applied on open
    first.close()
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    # Every migration file applied once, in order (numbers may skip while branches merge).
    assert versions == [m.version for m in migrations.load("sqlite")] and len(versions) >= 3


def test_bad_urls_give_one_line_errors(tmp_path):
    with pytest.raises(StoreError, match="unknown database URL"):
        open_store("mysql://x")
    with pytest.raises(StoreError, match="file path"):
        open_store("sqlite:///:memory:")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open"):
        open_store(f"sqlite:///{blocker}/sub/db.sqlite")


def test_title_only_paper_gains_arxiv_id_and_keeps_old_key(store):
    store.upsert_papers(
        [Paper(title="Attention Is All You Need", abstract="short", upvotes=5, author_count=8)]
    )
    assert store.get_paper("attention-is-all-you-need").upvotes == 5
    store.upsert_papers(
        [
            Paper(
                title="Attention is all you need.",
                abstract="longer abstract here",
                arxiv_id="1706.03762",
                authors=[Author("Ashish Vaswani")],
            )
        ]
    )
    assert store.count_papers() == 1
    paper = store.get_paper("1706.03762")
    assert paper.upvotes == 5 and paper.abstract == "longer abstract here"
    # the old key still finds it, as does any arXiv form of the id
    assert store.get_paper("attention-is-all-you-need") == paper
    assert store.get_paper("https://arxiv.org/abs/1706.03762v5") == paper
    # and a title-only record arriving later merges into it too
    store.upsert_papers([Paper(title="ATTENTION IS ALL YOU NEED", upvotes=9)])
    assert store.count_papers() == 1 and store.get_paper("1706.03762").upvotes == 9


def test_two_arxiv_papers_with_one_title_stay_two(store):
    store.upsert_papers([Paper(title="Introduction", arxiv_id="2401.00001")])
    store.upsert_papers([Paper(title="Introduction", arxiv_id="2401.00002")])
    assert store.count_papers() == 2


def test_batch_folds_duplicates_and_counts(store):
    result = store.upsert_papers(
        [Paper(title="Same"), Paper(title="same!", upvotes=3), Paper(title="Other")]
    )
    assert (result.inserted, result.updated) == (2, 0)
    result = store.upsert_papers([Paper(title="Same", upvotes=3)])
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 1)


def test_iter_papers_and_state(store):
    store.upsert_papers(
        [Paper(title=f"Paper {i}", published=date(2020, 1, 1)) for i in range(2500)]
    )
    assert sum(1 for _ in store.iter_papers(batch_size=700)) == 2500
    store.set_state("harvest", "token-1")
    assert store.get_state("harvest") == "token-1"
    store.set_state("harvest", None)
    assert store.get_state("harvest") is None


def test_readers_run_while_a_writer_holds_the_lock(store):
    store.upsert_papers(
        [Paper(title="Searchable sparse transformers", abstract="sparse attention")]
    )
    from paperwire.search.lexical import LexicalIndex, keyword_search

    index = LexicalIndex.for_store(store)
    index.sync(store)
    done = threading.Event()
    found: list[int] = []

    def write_for_a_while() -> None:
        with store.write() as conn:
            conn.execute("INSERT INTO sync_state (name, value) VALUES ('x', 'y')")
            done.wait(5)

    writer = threading.Thread(target=write_for_a_while)
    writer.start()
    time.sleep(0.1)
    started = time.perf_counter()
    for _ in range(20):
        found.append(len(keyword_search(store, index, "sparse")))
    elapsed = time.perf_counter() - started
    done.set()
    writer.join()
    assert found == [1] * 20 and elapsed < 2.0


def test_two_writers_from_two_processes_wait_instead_of_failing(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    SQLiteStore(url).close()
    script = (
        "import sys\nfrom paperwire.store.sqlite import SQLiteStore\nfrom paperwire.models import Paper\n"
        "s = SQLiteStore(sys.argv[1])\n"
        "for b in range(20):\n"
        "    s.upsert_papers([Paper(title=f'{sys.argv[2]} paper {b} {i}') for i in range(200)])\n"
        "s.close()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, url, name]) for name in ("alpha", "beta")
    ]
    assert [p.wait(120) for p in procs] == [0, 0]
    store = SQLiteStore(url)
    assert store.count_papers() == 8000
    store.close()


def test_import_killed_half_way_is_consistent_and_can_be_rerun(tmp_path):
    """SIGKILL an import mid-way; the store holds whole batches only, and running the
    same import again completes it without doubling anything."""
    data = tmp_path / "big.jsonl"
    from paperwire.ingest.jsonl import dumps

    with data.open("w") as out:
        for i in range(60_000):
            out.write(
                dumps(
                    Paper(
                        title=f"Synthetic paper number {i}",
                        abstract="word " * 40,
                        arxiv_id=f"2401.{i:05d}",
                    )
                )
                + "\n"
            )
    db = tmp_path / "kill.db"
    env = {**os.environ, "PAPERWIRE_DATABASE_URL": f"sqlite:///{db}"}
    command = [sys.executable, "-m", "paperwire.cli", "import", "-q", str(data)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        time.sleep(0.2)
        if db.exists():
            try:
                conn = sqlite3.connect(db, timeout=1)
                n = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
                conn.close()
            except sqlite3.OperationalError:
                continue
            if n >= 4000:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = SQLiteStore(f"sqlite:///{db}")
    partial = store.count_papers()
    assert 0 < partial < 60_000 and partial % 2000 == 0  # whole batches only
    integrity = store._writer.execute("PRAGMA integrity_check").fetchone()[0]
    assert integrity == "ok"
    store.close()
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    store = SQLiteStore(f"sqlite:///{db}")
    assert store.count_papers() == 60_000
    store.close()


def test_load_reports_errors_and_keeps_going(store):
    from paperwire.ingest.common import RecordError

    items = [Paper(title="One"), RecordError("f.jsonl", "line 2", "broken"), Paper(title="Two")]
    report = load(store, items, batch_size=1)
    assert report.read == 3 and report.error_count == 1 and store.count_papers() == 2
    assert str(report.errors[0]) == "f.jsonl: line 2: broken"


def test_store_path_in_home_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    store = open_store("sqlite:///~/pw/x.db")
    store.close()
    assert (Path(tmp_path) / "pw" / "x.db").exists()


def test_text_changes_are_the_change_feed_as_the_keyword_index_reads_it(store):
    """Store.text_changes (what the keyword index follows since issue 30) lists the same
    papers, positions and deletions as Store.changes, each with the fields the index
    holds: names, categories, date and whether the paper is confirmed."""
    store.upsert_papers(
        [
            Paper(
                title="Dated",
                arxiv_id="2401.00001",
                authors=[Author("Ana Díaz", "MIT"), Author("Bo Li")],
                categories=["cs.LG", "stat.ML"],
                published=date(2024, 1, 2),
            ),
            Paper(title="Undated and uncategorised"),
        ]
    )
    store.upsert_papers([Paper(title="Sent by a reader")], provenance="reader")
    store.upsert_papers([Paper(title="Gone", arxiv_id="2401.00002")])
    store.delete_papers(["2401.00002"])
    for after, tombstones, limit in [((0, 0), 0, 100), ((0, 0), 0, 2), ((2, 0), 0, 100)]:
        full = store.changes(after, tombstones, limit)
        text = store.text_changes(after, tombstones, limit)
        assert (text.position, text.deleted, text.tombstone_seq) == (
            full.position,
            full.deleted,
            full.tombstone_seq,
        )
        assert [p.id for p in text.papers] == [pid for pid, _ in full.papers]
        for light, (_, paper) in zip(text.papers, full.papers, strict=True):
            assert light.title == paper.title and light.abstract == paper.abstract
            assert light.authors == [a.name for a in paper.authors]
            assert light.categories == paper.categories
            assert light.published == paper.published
            assert light.confirmed == paper.confirmed
    first = store.text_changes((0, 0), 0, 100).papers
    assert first[0].authors == ["Ana Díaz", "Bo Li"] and first[0].published == date(2024, 1, 2)
    assert [p.confirmed for p in first] == [True, True, False]
