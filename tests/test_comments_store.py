"""The discussion tables (store/comments.py) on both engines: threads, ownership in every
change, history, hiding and reports, notices and their batches in the outbox, counts on
feed entries and the "most discussed" order, and a move between stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paperwire.ingest.load import load
from paperwire.models import OutboxItem, Paper
from paperwire.store import open_store
from paperwire.store.transfer import transfer

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def papers(store, n=3) -> list[str]:
    made = [Paper(title=f"Paper number {i}", abstract="text") for i in range(n)]
    load(store, iter(made))
    keys = [paper.key for paper in made]
    store.submit_many(keys, NOW.date(), NOW)
    return keys


def users(store, *names):
    return [
        store.get_or_create_user(f"{name}@example.org", NOW - timedelta(days=3)) for name in names
    ]


def message(user_id: int, period: str) -> OutboxItem:
    return OutboxItem(
        0, None, period, "x@example.org", f"<{period}.{user_id}@t>", b"Subject: x\r\n\r\nx\r\n", NOW
    )


def test_threads_notices_and_ownership(store):
    keys = papers(store)
    alice, bob, carol = users(store, "alice", "bob", "carol")
    top = store.add_comment(keys[0], alice.id, "top", NOW)
    reply = store.add_comment(keys[0], bob.id, "reply", NOW, top.id, [alice.id, carol.id, bob.id])
    deep = store.add_comment(keys[0], carol.id, "deeper", NOW, reply.id)
    assert (reply.root_id, deep.root_id, deep.parent_id) == (top.id, top.id, reply.id)
    assert deep.parent_author == bob.handle
    # alice: reply (not also a mention); carol: mention; bob: reply to his reply; never oneself
    assert [(n.kind, n.comment.id) for n in store.pending_notices(alice.id)] == [
        ("reply", reply.id)
    ]
    assert [n.kind for n in store.pending_notices(carol.id)] == ["mention"]
    assert [n.comment.id for n in store.pending_notices(bob.id)] == [deep.id]
    with pytest.raises(LookupError):  # a parent on another paper
        store.add_comment(keys[1], alice.id, "x", NOW, top.id)
    with pytest.raises(KeyError):
        store.add_comment("no such paper", alice.id, "x", NOW)

    # Only the writer edits or deletes, whatever id is passed.
    assert store.edit_comment(top.id, bob.id, "hijack", NOW) is None
    assert store.delete_comment(top.id, bob.id) is False
    edited = store.edit_comment(top.id, alice.id, "top, edited", NOW + timedelta(minutes=5))
    assert edited.body == "top, edited" and edited.edited_at is not None
    assert [body for body, _ in store.comment_revisions(top.id)] == ["top"]
    assert store.delete_comment(reply.id, bob.id) is True
    gone = store.get_comment(reply.id)
    assert (gone.status, gone.body) == ("deleted", "")
    assert store.comment_revisions(reply.id) == []
    assert [c.id for c in store.paper_comments(keys[0])] == [top.id, reply.id, deep.id]
    # alice's notice about the deleted reply is dropped
    assert store.pending_notices(alice.id) == []


def test_hiding_reports_and_the_queue(store):
    keys = papers(store)
    alice, bob, curator = users(store, "alice", "bob", "cur")
    comment = store.add_comment(keys[0], alice.id, "spam?", NOW)
    assert store.report_comment(comment.id, bob.id, "spam", NOW)
    assert store.report_comment(comment.id, bob.id, "again", NOW)  # once per reader
    assert store.report_comment(comment.id, curator.id, "", NOW)
    [(reported, reasons)] = store.reported_comments()
    assert reported.id == comment.id and reasons == ["spam", ""] and reported.open_reports == 2
    assert store.set_comment_hidden(comment.id, curator.id, True, NOW)
    assert store.get_comment(comment.id).status == "hidden"
    assert store.reported_comments() == []
    assert not store.report_comment(comment.id, bob.id, "x", NOW)  # hidden: nothing to report
    assert store.edit_comment(comment.id, alice.id, "changed", NOW) is None
    assert store.set_comment_hidden(comment.id, curator.id, False, NOW)
    assert store.get_comment(comment.id).status == "visible"


def test_counts_and_the_most_discussed_order(store):
    keys = papers(store, 3)
    (alice,) = users(store, "alice")
    for _ in range(2):
        store.add_comment(keys[2], alice.id, "x", NOW)
    hidden = store.add_comment(keys[1], alice.id, "y", NOW)
    store.set_comment_hidden(hidden.id, alice.id, True, NOW)
    entries, _ = store.feed(NOW.date(), NOW.date(), "discussed")
    assert next(e.paper.key for e in entries) == keys[2]
    assert {e.paper.key: e.comments for e in entries} == {keys[0]: 0, keys[1]: 0, keys[2]: 2}
    assert store.entry(keys[2]).comments == 2


def test_a_notice_batch_is_queued_once_per_hour(store):
    keys = papers(store)
    alice, bob = users(store, "alice", "bob")
    top = store.add_comment(keys[0], alice.id, "top", NOW)
    store.add_comment(keys[0], bob.id, "r1", NOW, top.id)
    assert store.notice_recipients(NOW - timedelta(hours=1)) == [alice.id]
    ids = [n.id for n in store.pending_notices(alice.id)]
    assert store.record_notice_batch(
        alice.id, ids, message(alice.id, "comments:h9"), NOW - timedelta(hours=1), NOW
    )
    # A second run in the same hour claims nothing, even with new notices waiting.
    store.add_comment(keys[0], bob.id, "r2", NOW, top.id)
    later = NOW + timedelta(minutes=30)
    assert store.notice_recipients(later - timedelta(hours=1)) == []
    ids = [n.id for n in store.pending_notices(alice.id)]
    assert not store.record_notice_batch(
        alice.id, ids, message(alice.id, "comments:h9b"), later - timedelta(hours=1), later
    )
    assert store.outbox_counts() == {"queued": 1}
    # An hour on, the waiting notice goes in a second batch.
    later = NOW + timedelta(minutes=61)
    assert store.notice_recipients(later - timedelta(hours=1)) == [alice.id]
    assert store.record_notice_batch(
        alice.id, ids, message(alice.id, "comments:h10"), later - timedelta(hours=1), later
    )
    assert store.pending_notices(alice.id) == []
    [first, second] = store.claim_outbox(later, later + timedelta(minutes=5), 10)
    assert first.subscription_id is None
    store.mark_sent(first.id, later)
    store.mark_failed(second.id, "550 no", permanent=True)  # no subscription to pause
    # Turning mail off drops what waits, and nobody is due.
    store.add_comment(keys[0], bob.id, "r3", NOW, top.id)
    store.set_comment_mail(alice.id, False)
    assert not store.comment_mail_enabled(alice.id)
    assert store.pending_notices(alice.id) == []
    store.add_comment(keys[0], bob.id, "r4", NOW, top.id)
    assert store.notice_recipients(later + timedelta(hours=5)) == []


def test_a_move_copies_the_discussion(store, tmp_path):
    keys = papers(store)
    alice, bob = users(store, "alice", "bob")
    top = store.add_comment(keys[0], alice.id, "top $x$", NOW)
    store.add_comment(keys[0], bob.id, "reply", NOW, top.id)
    store.edit_comment(top.id, alice.id, "top $y$", NOW)
    store.report_comment(top.id, bob.id, "why", NOW)
    store.set_comment_mail(bob.id, False)
    target = open_store(f"sqlite:///{tmp_path / 'moved.db'}", index_root=tmp_path / "idx")
    try:
        report = transfer(store, target, 100)
        assert report.ok, [t for t in report.tables if not t.ok]
        moved = target.paper_comments(keys[0])
        assert [(c.id, c.body, c.parent_id) for c in moved] == [
            (c.id, c.body, c.parent_id) for c in store.paper_comments(keys[0])
        ]
        assert target.comment_revisions(top.id)[0][0] == "top $x$"
        assert not target.comment_mail_enabled(bob.id)
        later = target.add_comment(keys[0], alice.id, "after the move", NOW)
        assert later.id > max(c.id for c in moved)
    finally:
        target.close()


def test_a_move_to_postgresql_keeps_ids_and_continues_them(tmp_path, postgres_templates):
    source = open_store(f"sqlite:///{tmp_path / 'source.db'}", index_root=tmp_path / "a")
    target = open_store(postgres_templates.postgres_url(False), index_root=tmp_path / "b")
    try:
        keys = papers(source)
        alice, bob = users(source, "alice", "bob")
        top = source.add_comment(keys[0], alice.id, "top", NOW)
        source.add_comment(keys[0], bob.id, "reply", NOW, top.id)
        ids = [n.id for n in source.pending_notices(alice.id)]
        before = NOW - timedelta(hours=1)
        assert source.record_notice_batch(
            alice.id, ids, message(alice.id, "comments:h"), before, NOW
        )
        report = transfer(source, target, 100)
        assert report.ok, [t for t in report.tables if not t.ok]
        assert [c.body for c in target.paper_comments(keys[0])] == ["top", "reply"]
        assert target.outbox_counts() == {"queued": 1}
        later = target.add_comment(keys[0], alice.id, "after", NOW, top.id)
        assert later.id == 3 and later.root_id == top.id
    finally:
        source.close()
        target.close()


def test_upgrading_a_sqlite_store_keeps_its_outbox(tmp_path):
    """Migration 0010 rebuilds SQLite's outbox (a NOT NULL cannot be dropped there): a
    store at 0009 with a queued digest keeps it, claimable, with its id."""
    import sqlite3

    from paperwire.store import migrations

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"
    )
    for migration in migrations.load("sqlite"):
        if migration.version < 10:
            conn.executescript(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            )
    conn.execute(
        "INSERT INTO subscriptions (email, frequency, status, created_at) "
        "VALUES ('a@example.org', 'daily', 'active', '2026-11-01T00:00:00Z')"
    )
    conn.execute(
        "INSERT INTO outbox (id, subscription_id, period, recipient, message_id, message, "
        "next_attempt_at, created_at) VALUES (7, 1, 'daily:2026-11-22', 'a@example.org', "
        "'<m@t>', x'00', '2026-11-22T00:00:00Z', '2026-11-22T00:00:00Z')"
    )
    conn.commit()
    conn.close()
    store = open_store(f"sqlite:///{path}", index_root=tmp_path / "idx")
    try:
        assert 10 in store.applied_migrations()
        [item] = store.claim_outbox(NOW, NOW + timedelta(minutes=5), 10)
        assert (item.id, item.subscription_id, item.period) == (7, 1, "daily:2026-11-22")
        with store.read() as check:
            assert check.execute("PRAGMA foreign_key_check").fetchall() == []
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()


def test_a_mention_added_by_an_edit_is_a_notice_once(store):
    """Issue 27: a mention added by editing a comment notifies like a new one; a reader
    already told of the comment (mentioned before, or its reply's parent author) is not
    told twice, and an edit never tells the writer."""
    keys = papers(store)
    alice, bob, carol, dan = users(store, "alice", "bob", "carol", "dan")
    top = store.add_comment(keys[0], alice.id, "top", NOW)
    reply = store.add_comment(keys[0], bob.id, "plain reply", NOW, top.id, [])
    assert [n.kind for n in store.pending_notices(alice.id)] == ["reply"]
    assert store.pending_notices(carol.id) == []
    later = NOW + timedelta(minutes=5)
    store.edit_comment(reply.id, bob.id, "@carol @alice @bob see", later, ("", 0),
                       [carol.id, alice.id, bob.id])  # fmt: skip
    assert [(n.kind, n.comment.id) for n in store.pending_notices(carol.id)] == [
        ("mention", reply.id)
    ]
    assert [n.kind for n in store.pending_notices(alice.id)] == ["reply"]  # not twice
    assert store.pending_notices(bob.id) == []
    # Mailed, then edited again with the same mention and a new one: only the new one.
    ids = [n.id for n in store.pending_notices(carol.id)]
    assert store.record_notice_batch(
        carol.id, ids, message(carol.id, "comments:h1"), later - timedelta(hours=1), later
    )
    store.edit_comment(reply.id, bob.id, "@carol and @dan see", later, ("", 0),
                       [carol.id, dan.id])  # fmt: skip
    assert store.pending_notices(carol.id) == []
    assert [n.kind for n in store.pending_notices(dan.id)] == ["mention"]
    # Another reader's comment: nothing changes, nobody is told.
    eve = users(store, "eve")[0]
    assert store.edit_comment(top.id, bob.id, "@eve", later, ("", 0), [eve.id]) is None
    assert store.pending_notices(eve.id) == []
