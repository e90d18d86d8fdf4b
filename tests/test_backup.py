"""`paperwire backup` (issue 15): a consistent copy of a running SQLite store, taken
while votes and imports are being written, restores to a store that opens, passes its
integrity and foreign-key checks and holds only whole transactions; for PostgreSQL the
command prints the pg_dump that does it."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import UTC, datetime

from click.testing import CliRunner

from paperwire.cli import cli
from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.models import Paper
from paperwire.store import open_store

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
BATCH = 25


def _writer(url: str, stop: threading.Event, done: list[int]) -> None:
    """Another connection writing as a busy site does: batches of papers (one
    transaction each) and votes on them."""
    store = open_store(url)
    try:
        users = [store.get_or_create_user(f"u{i}@example.org", NOW) for i in range(5)]
        n = 0
        while not stop.is_set():
            papers = [
                Paper(title=f"Paper {n} {i} on consistent copies", arxiv_id=f"2611.{n:03d}{i:02d}")
                for i in range(BATCH)
            ]
            store.upsert_papers(papers)
            for user in users:
                store.set_vote(user.id, papers[0].key, True, NOW)
            n += 1
            done.append(n)
    finally:
        store.close()


def test_a_backup_taken_while_votes_are_written_restores_consistent(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    deployment = Deployment(Settings(database_url=url, cache_dir=str(tmp_path / "cache")))
    assert deployment.store.count_papers() == 0  # opened and migrated
    stop, done = threading.Event(), []
    writer = threading.Thread(target=_writer, args=(url, stop, done))
    writer.start()
    try:
        while len(done) < 3:
            threading.Event().wait(0.01)
        copies = []
        for k in range(3):
            target = tmp_path / f"backup-{k}.db"
            message = deployment.backup(target)
            assert "integrity ok" in message
            copies.append(target)
    finally:
        stop.set()
        writer.join(30)
        deployment.close()
    assert len(done) >= 3

    for copy in copies:
        restored = tmp_path / "restored.db"
        shutil.copy(copy, restored)  # restoring is putting the file back
        conn = sqlite3.connect(restored)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        # Only whole transactions: every batch complete, or absent.
        assert papers % BATCH == 0 and papers > 0
        conn.close()
        store = open_store(f"sqlite:///{restored}")
        try:
            assert store.migrate() == []  # already current
            voted = [store.entry(f"2611.{n:03d}00") for n in range(papers // BATCH)]
            assert all(e is not None and e.upvotes == 5 for e in voted[:-1])
        finally:
            store.close()
        restored.unlink()


def test_backup_command_and_the_postgresql_advice(tmp_path, store):
    if store.url.startswith("sqlite"):
        target = tmp_path / "copy" / "paperwire.db"
        result = CliRunner().invoke(cli, ["--db", store.url, "backup", str(target)])
        assert result.exit_code == 0, result.output
        assert "integrity ok" in result.output and target.is_file()
        assert not list(target.parent.glob(".*.partial"))
    else:
        message = Deployment(Settings(database_url=store.url), store=store).backup(
            tmp_path / "paperwire.dump"
        )
        assert message.startswith("PostgreSQL: run  pg_dump --format=custom")
        assert ":***@" in message or "@" not in message  # no password printed


def test_a_backup_that_cannot_be_written_names_the_target(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(cli, ["--db", url, "backup", str(blocker / "copy.db")])
    assert result.exit_code == 3
    assert "cannot back up" in result.output and str(blocker) in result.output
