"""Check-then-write races in the store, played on both engines with real threads released
together (a barrier), each on its own connection: on PostgreSQL (READ COMMITTED) two
transactions that both SELECT before either writes see the same "nothing yet", so every
such decision is made by the SQL itself (ON CONFLICT, a conditional UPDATE, a row lock,
an advisory lock on the name). SQLite's one writer serialises them anyway; the same
tests hold it to the same answers. Before the fixes the PostgreSQL runs failed with
UniqueViolation (accounts, collections, channels, sources), went past a cap (follows,
channels), gave two items one position, or lost an edit's revision."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from paperwire.models import Author, Paper
from paperwire.store import people
from paperwire.store.channels import ChannelCapError, NewChannel
from paperwire.store.comments import PostChecks

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RACERS = 10  # under the PostgreSQL engine's 16 connections


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once (released together by a barrier); each one's result or the
    exception it raised, in order."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        try:
            return call()
        except Exception as exc:  # the test looks at what each call got
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def no_crash(results: list[Any], allowed: type[Exception] | tuple[type[Exception], ...] = ()):
    """Every result is a value or an allowed refusal: never a database error."""
    for got in results:
        if isinstance(got, Exception):
            assert isinstance(got, allowed), repr(got)


def _papers(store, n: int) -> list[int]:
    store.upsert_papers(
        [Paper(f"Paper number {i}", "Text.", arxiv_id=f"2601.{i:05d}") for i in range(n)]
    )
    ids = store.paper_ids([f"2601.{i:05d}" for i in range(n)])
    return [ids[f"2601.{i:05d}"] for i in range(n)]


def test_first_sign_ins_of_one_address_at_once_make_one_account(store):
    results = race([lambda: store.get_or_create_user("Ada@Example.org", NOW)] * RACERS)
    no_crash(results)
    assert len({user.id for user in results}) == 1
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 1


def test_one_handle_asked_for_by_many_readers_at_once_goes_to_one(store):
    readers = [store.get_or_create_user(f"r{i}@example.org", NOW) for i in range(RACERS)]
    results = race([lambda r=r: store.set_handle(r.id, "ada") for r in readers])
    no_crash(results)
    winners = [got for got in results if got is not None]
    assert len(winners) == 1 and winners[0].handle == "ada"
    assert store.get_user_by_handle("ada").id == winners[0].id


def test_first_visits_at_once_make_one_reading_list(store):
    ada = store.get_or_create_user("ada@example.org", NOW)
    results = race([lambda: store.collections_of(ada.id, NOW)] * RACERS)
    no_crash(results)
    assert {tuple(c.id for c in got) for got in results} == {(results[0][0].id,)}


def test_one_collection_name_created_at_once_is_made_once(store):
    ada = store.get_or_create_user("ada@example.org", NOW)
    results = race([lambda: store.create_collection(ada.id, "Graphs", NOW)] * RACERS)
    no_crash(results, ValueError)
    assert sum(not isinstance(got, Exception) for got in results) == 1


def test_two_collections_renamed_to_one_name_at_once(store):
    ada = store.get_or_create_user("ada@example.org", NOW)
    made = [store.create_collection(ada.id, f"c{i}", NOW) for i in range(RACERS)]
    calls: list[Callable[[], Any]] = [
        lambda c=c: store.update_collection(ada.id, c.id, name="Same") for c in made
    ]
    calls.append(lambda: store.create_collection(ada.id, "Same", NOW))
    results = race(calls)
    no_crash(results, ValueError)
    assert sum(not isinstance(got, Exception) for got in results) == 1
    names = [c.name for c in store.collections_of(ada.id, NOW)]
    assert names.count("Same") == 1


def test_papers_saved_at_once_get_distinct_positions(store):
    ids = _papers(store, RACERS)
    ada = store.get_or_create_user("ada@example.org", NOW)
    reading = store.collections_of(ada.id, NOW)[0]
    results = race([lambda p=p: store.add_items(ada.id, reading.id, [p], NOW) for p in ids])
    assert results == [1] * RACERS
    positions = [item.position for item in store.collection_items(reading.id)]
    assert sorted(positions) == list(range(1, RACERS + 1))


def test_saves_while_the_collection_is_deleted_never_fail(store):
    ids = _papers(store, RACERS)
    ada = store.get_or_create_user("ada@example.org", NOW)
    reading = store.collections_of(ada.id, NOW)[0]
    store.add_items(ada.id, reading.id, ids, NOW)
    calls: list[Callable[[], Any]] = [
        lambda p=p: store.add_items(ada.id, reading.id, [p], NOW) for p in ids
    ]
    calls.insert(RACERS // 2, lambda: store.delete_collection(ada.id, reading.id))
    results = race(calls)
    no_crash(results)
    assert store.get_collection(ada.id, reading.id) is None
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM collection_items").fetchone()[0] == 0


def test_follows_at_once_stop_at_the_cap(store, monkeypatch):
    monkeypatch.setattr(people, "MAX_FOLLOWS", 3)
    ada = store.get_or_create_user("ada@example.org", NOW)
    results = race(
        [lambda i=i: store.follow(ada.id, "topic", f"t{i}", f"T{i}", NOW) for i in range(RACERS)]
    )
    no_crash(results, ValueError)
    assert sum(got is True for got in results) == 3
    assert len(store.follows(ada.id)) == 3


def _channel(name: str, owner_id: int | None) -> NewChannel:
    return NewChannel(
        name=name,
        owner_id=owner_id,
        frequency="daily",
        selection="trending",
        query=None,
        collection_id=None,
        reader_id=None,
        target_kind="webhook",
        target_label="https://example.org/hook",
        target_sealed="sealed",
        secret_sealed=None,
    )


def test_channels_added_at_once_stop_at_the_readers_cap(store):
    ada = store.get_or_create_user("ada@example.org", NOW)
    results = race(
        [
            lambda i=i: store.add_channel(_channel(f"c{i}", ada.id), NOW, cap=3)
            for i in range(RACERS)
        ]
    )
    no_crash(results, ChannelCapError)
    assert sum(not isinstance(got, Exception) for got in results) == 3
    assert store.count_channels(ada.id) == 3


@pytest.mark.parametrize("owner", ["reader", "operator"])
def test_one_channel_name_added_at_once_is_made_once(store, owner):
    owner_id = store.get_or_create_user("ada@example.org", NOW).id if owner == "reader" else None
    results = race([lambda: store.add_channel(_channel("lab", owner_id), NOW)] * RACERS)
    no_crash(results, ValueError)
    assert sum(not isinstance(got, Exception) for got in results) == 1
    assert len(store.list_channels(owner_id)) == 1


def test_edits_at_once_keep_every_text_in_the_history(store):
    store.upsert_papers([Paper("A paper", "Text.", arxiv_id="2601.00001", authors=[Author("A")])])
    ada = store.get_or_create_user("ada@example.org", NOW)
    comment = store.add_comment("2601.00001", ada.id, "v0", NOW)
    bodies = [f"v{i}" for i in range(1, RACERS + 1)]
    results = race([lambda b=b: store.edit_comment(comment.id, ada.id, b, NOW) for b in bodies])
    no_crash(results)
    history = [body for body, _ in store.comment_revisions(comment.id)]
    final = store.get_comment(comment.id).body
    # Each edit replaced the text before it: the texts replaced are every text but the last.
    assert sorted([*history, final]) == sorted(["v0", *bodies])


def test_an_edit_racing_a_delete_leaves_no_text(store):
    store.upsert_papers([Paper("A paper", "Text.", arxiv_id="2601.00001", authors=[Author("A")])])
    ada = store.get_or_create_user("ada@example.org", NOW)
    for _ in range(5):
        cid = store.add_comment("2601.00001", ada.id, "secret", NOW).id
        calls: list[Callable[[], Any]] = [
            lambda i=i, cid=cid: store.edit_comment(cid, ada.id, f"edit {i}", NOW)
            for i in range(RACERS - 1)
        ]
        calls.insert(RACERS // 2, lambda cid=cid: store.delete_comment(cid, ada.id))
        no_crash(race(calls))
        gone = store.get_comment(cid)
        assert gone.status == "deleted" and gone.body == "" and gone.html == ""
        assert store.comment_revisions(cid) == []


def test_one_source_name_added_at_once_is_made_once(store):
    results = race([lambda: store.add_source("hf", "huggingface", "{}", 3600, NOW)] * RACERS)
    no_crash(results, ValueError)
    assert sum(not isinstance(got, Exception) for got in results) == 1
    assert [s.name for s in store.list_sources()] == ["hf"]


def test_two_readers_replying_to_each_other_at_once_never_deadlock(store):
    # Each comment is written under its writer's lock (PostChecks) and tells the other
    # reader (a notice row, whose foreign key reads that reader's row): a lock that
    # excluded the foreign key's read made the two wait on each other.
    store.upsert_papers([Paper("A paper", "Text.", arxiv_id="2601.00001", authors=[Author("A")])])
    ada = store.get_or_create_user("ada@example.org", NOW)
    bob = store.get_or_create_user("bob@example.org", NOW)
    to_bob = store.add_comment("2601.00001", bob.id, "bob's", NOW)
    to_ada = store.add_comment("2601.00001", ada.id, "ada's", NOW)
    for n in range(5):
        results = race(
            [
                lambda n=n: store.add_comment(
                    "2601.00001", ada.id, f"ada {n}", NOW, to_bob.id, checks=PostChecks()
                ),
                lambda n=n: store.add_comment(
                    "2601.00001", bob.id, f"bob {n}", NOW, to_ada.id, checks=PostChecks()
                ),
            ]
        )
        no_crash(results)
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM comment_notices").fetchone()[0] == 10
