"""An author, a topic and an organization with more papers than a keyword search returns
at once (1,000): their pages list every paper, newest first (undated last), 50 a page,
with the count right and a 404 past the last page naming how many there are; the JSON API
pages the same way. On SQLite and PostgreSQL (the `site` fixture runs each on both), with
real stores of 1,205 papers by one author.

Before: the pages took the first 1,000 papers the keyword index gave for the family name
(so an author with more, or one sharing a common family name, lost papers silently), and
showed 50 of them with no count and no further page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire import upstream
from paperwire.ingest.load import load
from paperwire.models import Author, Paper
from paperwire.querylang import parse_query
from paperwire.search.lexical import LexicalIndex, passing_ids, passing_page
from paperwire.search.native import StoreKeywordIndex
from paperwire.web.cursors import encode_cursor
from paperwire.web.usecases import people

N = 1205  # 24 full pages and 5 papers
UNDATED = 2  # the last two have no date: listed after every dated one
READ = datetime(2026, 3, 6, tzinfo=UTC)
_TITLE_LINK = re.compile(r'class="title"><a href="/papers/([^"]+)"')


def _papers() -> list[Paper]:
    papers = []
    for i in range(N):
        extras = upstream.make(
            "hf-daily",
            READ,
            keywords=["analytical engines"],
            organization={"name": "BabbageLab", "fullname": "Babbage Lab"},
        )
        papers.append(
            Paper(
                title=f"Notes on the engine, part {i}",
                abstract="On what the engine may do beyond calculation.",
                arxiv_id=f"2101.{i:05d}",
                # Written as "Ada Lovelace" and "A. Lovelace": one key, one page.
                authors=[Author("Ada Lovelace" if i % 3 else "A. Lovelace"), Author("C. Babbage")],
                published=None if i >= N - UNDATED else date(2001, 1, 1) + timedelta(days=i),
                extras=extras,
            )
        )
    # The same family name, another initial: another key, not on her page.
    papers += [
        Paper(
            title=f"Poems, volume {i}",
            arxiv_id=f"2102.{i:05d}",
            authors=[Author("Byron Lovelace")],
            published=date(2001, 1, 1) + timedelta(days=i),
        )
        for i in range(40)
    ]
    return papers


def _expected() -> tuple[list[str], set[str]]:
    dated = [f"2101.{i:05d}" for i in reversed(range(N - UNDATED))]
    return dated, {f"2101.{i:05d}" for i in range(N - UNDATED, N)}


def _walk(site, path: str) -> list[str]:
    """Every paper key the pages of `path` list, page by page, checking each count line."""
    keys: list[str] = []
    for page in range(1, 26):
        got = site.client.get(path, params={"page": page} if page > 1 else None)
        assert got.status_code == 200, (path, page)
        assert f"1,205 papers · page {page} of 25" in got.text
        shown = _TITLE_LINK.findall(got.text)
        assert len(shown) == (50 if page < 25 else 5)
        keys += shown
        if page < 25:
            assert f'page={page + 1}"' in got.text and "Next page" in got.text
    return keys


def _setup(site) -> None:
    load(site.store, _papers())
    # A reader's record of one more of her papers: unconfirmed, never counted or listed.
    reader = Paper(title="Sketch of the engine", authors=[Author("Ada Lovelace")])
    site.store.upsert_papers([reader], provenance="reader")


def test_an_author_with_more_than_a_thousand_papers_is_listed_whole(site):
    _setup(site)
    dated, undated = _expected()
    keys = _walk(site, "/authors/ada-lovelace")
    assert keys[: len(dated)] == dated  # newest first
    assert set(keys[len(dated) :]) == undated  # undated last
    assert len(keys) == len(set(keys)) == N
    past = site.client.get("/authors/ada-lovelace", params={"page": 26})
    assert past.status_code == 404
    assert "has 25 pages" in past.text
    # The other Lovelace has his own page, of his own papers only.
    his = site.client.get("/authors/byron-lovelace")
    assert "40 papers" in his.text and "page 1 of" not in his.text
    # Co-authors are counted over every paper, not the first thousand.
    assert "C. Babbage</a> (1205)" in site.client.get("/authors/ada-lovelace").text


def test_the_api_pages_an_author_with_the_total(site):
    _setup(site)
    dated, _ = _expected()
    first = site.client.get("/api/v1/authors/ada-lovelace").json()
    assert first["total"] == N
    assert [p["key"] for p in first["data"]] == dated[:50]
    second = site.client.get(
        "/api/v1/authors/ada-lovelace", params={"cursor": first["next"]}
    ).json()
    assert [p["key"] for p in second["data"]] == dated[50:100]
    assert second["total"] == N and second["next"]


def test_a_topic_and_an_organization_with_more_than_a_thousand_papers_page_whole(site):
    _setup(site)
    dated, undated = _expected()
    for path in ("/topics/analytical-engines", "/organizations/BabbageLab"):
        keys = _walk(site, path)
        assert keys[: len(dated)] == dated, path
        assert set(keys[len(dated) :]) == undated, path
        past = site.client.get(path, params={"page": 26})
        assert past.status_code == 404 and "has 25 pages" in past.text
    api = site.client.get("/api/v1/topics/analytical-engines").json()
    assert api["total"] == N and api["next"]
    api = site.client.get("/api/v1/organizations/BabbageLab").json()
    assert api["total"] == N and api["next"]


def test_passing_ids_and_pages_walk_every_chunk_of_either_keyword_index(store, tmp_path):
    # A chunk of 7 over 32 papers: five chunks, the last one short. Both indexes a store
    # may search with (tantivy beside it; PostgreSQL's own) list the same ids.
    papers = [
        Paper(
            title=f"Letters, part {i}",
            arxiv_id=f"2103.{i:05d}",
            authors=[Author("Ada Lovelace")],
            published=None if i >= 30 else date(2001, 1, 1) + timedelta(days=i),
        )
        for i in range(32)
    ]
    load(store, papers)
    store.upsert_papers(
        [Paper(title="Unconfirmed letter", authors=[Author("Ada Lovelace")])], provenance="reader"
    )
    query = parse_query('author:"lovelace"')
    indexes = [LexicalIndex(tmp_path / "keyword-index")]
    if store.native_search is not None:
        indexes.append(StoreKeywordIndex(store.native_search))
    for index in indexes:
        ids = passing_ids(store, index, query, chunk=7)
        found = store.get_papers(ids)
        keys = [found[i].key for i in ids]
        assert keys[:30] == [f"2103.{i:05d}" for i in reversed(range(30))], type(index)
        assert set(keys[30:]) == {"2103.00030", "2103.00031"}, type(index)
        # One page of them with the count (tantivy counts; the database lists them all).
        assert passing_page(store, index, query, 7, 14) == (32, ids[14:21]), type(index)
    with pytest.raises(ValueError, match="filters only"):
        passing_ids(store, indexes[0], parse_query("letters"))


def test_a_crafted_cursor_far_past_the_last_page_is_a_404_not_a_dead_server(site):
    # The attack as written: an API cursor naming page 10**12 of a topic. tantivy made
    # room for `limit + offset` hits up front (2.4 PB) and aborted the whole process;
    # 2**63 - 1 overflowed into a 500. Each is now the 404 that names the pages there are.
    _setup(site)
    for value in (10**12, 2**63 - 1):
        for path in (
            "topics/analytical-engines",
            "organizations/BabbageLab",
            "authors/ada-lovelace",
        ):
            got = site.client.get(f"/api/v1/{path}", params={"cursor": encode_cursor(value)})
            assert got.status_code == 404, (path, value)
            assert "it has 25 pages" in got.json()["detail"], (path, value)
    assert site.client.get("/api/v1/topics/analytical-engines").json()["total"] == N


def test_page_numbers_past_the_feeds_cap_are_answered_by_the_lists_own_count(site):
    # A topic on 55k papers has 1,100 pages and its pager links to the last: the page
    # parameter was capped at the feed's 1,000, so page 1,001 was a 422 however many
    # pages there were. Now any page past the last is the 404 naming how many there
    # are; only a page under 1 or past MAX_PAGE (or not a number) is refused as input.
    _setup(site)
    for path in (
        "/topics/analytical-engines",
        "/organizations/BabbageLab",
        "/authors/ada-lovelace",
    ):
        for page in (1001, people.MAX_PAGE):
            got = site.client.get(path, params={"page": page})
            assert got.status_code == 404 and "has 25 pages" in got.text, (path, page)
        for page in ("0", "-1", str(people.MAX_PAGE + 1), "1" * 40, "two"):
            assert site.client.get(path, params={"page": page}).status_code == 422, (path, page)


@settings(max_examples=40, deadline=None)
@given(offset=st.integers(min_value=0, max_value=2**80), limit=st.integers(0, 10**6))
def test_the_keyword_index_answers_any_offset_without_reserving_room_for_it(
    keyword_index, offset, limit
):
    # Any offset and limit, however large: the hits there are (none past the last), at
    # once, never an overflow or an allocation the size of the offset.
    index, query, every = keyword_index
    assert index.search(query, limit, offset) == every[offset : offset + limit]


@pytest.fixture(scope="module")
def keyword_index(tmp_path_factory):
    """A tantivy index of 12 dated papers by one author, the filters-only query that
    lists them, and what it lists (all of them, newest first)."""
    from paperwire.store import open_store

    folder = tmp_path_factory.mktemp("offsets")
    store = open_store(f"sqlite:///{folder / 's.db'}")
    load(
        store,
        [
            Paper(
                title=f"Letters, part {i}",
                arxiv_id=f"2104.{i:05d}",
                authors=[Author("Ada Lovelace")],
                published=date(2001, 1, 1) + timedelta(days=i),
            )
            for i in range(12)
        ],
    )
    index = LexicalIndex(folder / "keyword-index")
    index.sync(store)
    query = parse_query('author:"lovelace"')
    every = index.search(query, 100)
    assert len(every) == 12
    yield index, query, every
    store.close()
