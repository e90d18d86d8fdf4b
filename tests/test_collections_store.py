"""The collection tables on both engines: a default reading list, items with notes and
order, share and feed tokens by hash, feedback, and no way in with another reader's ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paperwire.models import Author, Paper
from paperwire.store.collections import DEFAULT_COLLECTION

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _papers(store) -> list[int]:
    store.upsert_papers(
        [
            Paper(
                "Attention is all you need",
                "Transformers.",
                arxiv_id="1706.03762",
                authors=[Author("Ashish Vaswani")],
                doi="10.5555/Attn",
            ),
            Paper(
                "Deep residual learning",
                "ResNets.",
                arxiv_id="1512.03385",
                authors=[Author("Kaiming He")],
            ),
            Paper("A title-only paper about graphs", "Graphs."),
        ]
    )
    ids = store.paper_ids(["1706.03762", "1512.03385", "a-title-only-paper-about-graphs"])
    return [ids["1706.03762"], ids["1512.03385"], ids["a-title-only-paper-about-graphs"]]


def test_every_reader_gets_a_reading_list_once(store):
    ada = store.get_or_create_user("ada@example.org", NOW)
    first = store.collections_of(ada.id, NOW)
    again = store.collections_of(ada.id, NOW)
    assert [c.name for c in first] == [c.name for c in again] == [DEFAULT_COLLECTION]
    assert not first[0].shared and not first[0].is_profile


def test_items_notes_order_and_removal(store):
    a, b, c = _papers(store)
    ada = store.get_or_create_user("ada@example.org", NOW)
    reading = store.collections_of(ada.id, NOW)[0]
    assert store.add_items(ada.id, reading.id, [a, b, c, a], NOW) == 3
    assert store.add_items(ada.id, reading.id, [b], NOW) == 0
    assert [i.paper_id for i in store.collection_items(reading.id)] == [a, b, c]
    assert store.set_note(ada.id, reading.id, b, "read §3")
    assert store.reorder(ada.id, reading.id, [c, a])
    items = store.collection_items(reading.id)
    assert [i.paper_id for i in items] == [c, a, b] and items[2].note == "read §3"
    assert store.remove_item(ada.id, reading.id, a)
    assert [i.paper_id for i in store.collection_items(reading.id)] == [c, b]
    assert store.get_collection(ada.id, reading.id).size == 2
    assert store.saved_keys(ada.id, ["1512.03385", "1706.03762"]) == {"1512.03385"}


def test_names_are_unique_per_reader_and_renames_and_deletes(store):
    a, _, _ = _papers(store)
    ada = store.get_or_create_user("ada@example.org", NOW)
    bob = store.get_or_create_user("bob@example.org", NOW)
    mine = store.create_collection(ada.id, "GNNs", NOW, is_profile=True)
    store.create_collection(bob.id, "GNNs", NOW)  # another reader may use the name
    with pytest.raises(ValueError, match="already have"):
        store.create_collection(ada.id, "GNNs", NOW)
    assert store.update_collection(ada.id, mine.id, name="Graphs")
    assert store.get_collection(ada.id, mine.id).name == "Graphs"
    store.add_items(ada.id, mine.id, [a], NOW)
    assert store.delete_collection(ada.id, mine.id)
    assert store.get_collection(ada.id, mine.id) is None
    assert store.get_paper("1706.03762") is not None  # the paper stays


def test_another_readers_ids_reach_nothing(store):
    a, b, _ = _papers(store)
    ada = store.get_or_create_user("ada@example.org", NOW)
    eve = store.get_or_create_user("eve@example.org", NOW)
    mine = store.collections_of(ada.id, NOW)[0]
    store.add_items(ada.id, mine.id, [a], NOW)
    assert store.get_collection(eve.id, mine.id) is None
    assert store.add_items(eve.id, mine.id, [b], NOW) is None
    assert not store.remove_item(eve.id, mine.id, a)
    assert not store.set_note(eve.id, mine.id, a, "mine now")
    assert not store.reorder(eve.id, mine.id, [a])
    assert not store.clear_collection(eve.id, mine.id)
    assert not store.update_collection(eve.id, mine.id, name="stolen")
    assert not store.set_collection_token(eve.id, mine.id, "share_hash", "x" * 64)
    assert not store.delete_collection(eve.id, mine.id)
    assert [i.paper_id for i in store.collection_items(mine.id)] == [a]
    assert store.get_collection(ada.id, mine.id).name == DEFAULT_COLLECTION
    assert store.saved_keys(eve.id, ["1706.03762"]) == set()


def test_share_and_feed_tokens_are_found_by_hash_and_revoked(store):
    ada = store.get_or_create_user("ada@example.org", NOW)
    mine = store.collections_of(ada.id, NOW)[0]
    assert store.set_collection_token(ada.id, mine.id, "share_hash", "h" * 64)
    assert store.collection_by_token_hash("share_hash", "h" * 64).id == mine.id
    assert store.collection_by_token_hash("feed_hash", "h" * 64) is None
    assert store.set_collection_token(ada.id, mine.id, "share_hash", None)
    assert store.collection_by_token_hash("share_hash", "h" * 64) is None


def test_feedback_is_per_reader_and_undoable(store):
    a, b, _ = _papers(store)
    ada = store.get_or_create_user("ada@example.org", NOW)
    bob = store.get_or_create_user("bob@example.org", NOW)
    store.set_feedback(ada.id, a, "not_interested", "topic", NOW)
    store.set_feedback(ada.id, a, "not_interested", "paper", NOW)  # renewed, not doubled
    store.set_feedback(ada.id, b, "seen", "", NOW)
    assert store.feedback_ids(ada.id) == {a: {"not_interested"}, b: {"seen"}}
    assert store.feedback_ids(bob.id) == {}
    mine = store.feedback_of(ada.id)
    assert {(f.paper_id, f.signal, f.reason) for f in mine} == {
        (a, "not_interested", "paper"), (b, "seen", ""),
    }  # fmt: skip
    assert store.remove_feedback(ada.id, a, "not_interested")
    assert not store.remove_feedback(bob.id, b, "seen")
    assert store.feedback_ids(ada.id) == {b: {"seen"}}
    with pytest.raises(ValueError, match="signal"):
        store.set_feedback(ada.id, a, "loved", "", NOW)  # type: ignore[arg-type]


def test_library_records_match_by_arxiv_id_doi_and_title(store):
    a, b, c = _papers(store)
    records = [
        Paper("Whatever the title", arxiv_id="1512.03385v2"),
        Paper("Attention (journal version)", doi="10.5555/attn"),
        Paper("A Title-Only Paper About Graphs!"),
        Paper("Never stored"),
    ]
    assert store.match_papers(records) == [b, a, c, None]
    assert store.papers_by_author("kaiming he", 10) == [b]
    rows = store.candidate_rows(0, 10)
    assert [r.id for r in rows] == sorted([a, b, c])


def test_a_profiles_list_for_the_day_is_kept_once_and_replaced_the_next_day(store):
    """/for-you's day list (migration 0017): the first list kept for a day is the day's
    (a second first visit gets it back), only the reader who owns the profile reaches
    it, and a new day's list drops the old one."""
    from datetime import date

    a, b, c = _papers(store)
    ada = store.get_or_create_user("ada@example.org", NOW)
    bob = store.get_or_create_user("bob@example.org", NOW)
    reading = store.collections_of(ada.id, NOW)[0]
    day, next_day = date(2026, 11, 23), date(2026, 11, 24)
    assert store.day_list(ada.id, reading.id, day) is None
    assert store.keep_day_list(ada.id, reading.id, day, [b, a, b]) == [b, a]
    assert store.keep_day_list(ada.id, reading.id, day, [c]) == [b, a]  # kept first wins
    assert store.day_list(ada.id, reading.id, day) == [b, a]
    assert store.day_list(bob.id, reading.id, day) is None  # not bob's profile
    assert store.keep_day_list(bob.id, reading.id, day, [c]) == []
    assert store.on_day_list(ada.id, a) and not store.on_day_list(ada.id, c)
    assert not store.on_day_list(bob.id, a)
    assert store.keep_day_list(ada.id, reading.id, next_day, [c]) == [c]
    assert store.day_list(ada.id, reading.id, day) is None  # the old day is gone
    assert store.day_list(ada.id, reading.id, next_day) == [c]
    store.delete_collection(ada.id, reading.id)
    assert not store.on_day_list(ada.id, c)


def test_a_collection_has_a_description(store):
    ada = store.get_or_create_user("ada@example.org", NOW)
    reading = store.collections_of(ada.id, NOW)[0]
    assert reading.description == ""
    assert store.update_collection(ada.id, reading.id, description="Papers on transport.")
    assert store.get_collection(ada.id, reading.id).description == "Papers on transport."


def test_two_first_visits_at_once_keep_one_list_for_the_day(store):
    """Two first visits of a day at once (two tabs, a reload while the first is built),
    each with its own fresh list: both get the list kept first, and the day holds it
    alone, in its order. On PostgreSQL each visit is its own transaction: without a lock
    both read "nothing kept", and their inserts merged into one list of both, with two
    papers at each position, while each visit was told its own."""
    import threading
    from datetime import date, timedelta

    papers = [
        Paper(f"Paper {i}", "Text.", arxiv_id=f"2601.{i:05d}", authors=[Author("Ada")])
        for i in range(8)
    ]
    store.upsert_papers(papers)
    ids = list(store.paper_ids([p.key for p in papers]).values())
    ada = store.get_or_create_user("ada@example.org", NOW)
    reading = store.collections_of(ada.id, NOW)[0]
    lists = [ids[:4], ids[4:]]
    for n in range(25):
        day = date(2026, 1, 1) + timedelta(days=n)
        start = threading.Barrier(2)
        got: list[list[int]] = [[], []]

        def visit(
            i: int, day: date = day, start: threading.Barrier = start, got: list = got
        ) -> None:
            start.wait()
            got[i] = store.keep_day_list(ada.id, reading.id, day, lists[i])

        threads = [threading.Thread(target=visit, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert got[0] == got[1] in lists, (n, got)
        assert store.day_list(ada.id, reading.id, day) == got[0], n
