"""Issue 25, items 1 and 2: what a reader sends stays the reader's until a curator or a
trusted source confirms it. Each attack of the issue played as written, through the real
app on both engines (and PostgreSQL's own keyword search): a reader's record may link to
a stored paper but never changes it; a submission that fails writes nothing; what only
readers sent stays out of every public list, seen by its owner and by curators; a
trusted source's record replaces a reader's and confirms the paper; curators confirm."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.cli import cli
from paperwire.deployment.imports import UrlInput
from paperwire.models import Author, Paper, as_reader_record, merge_papers
from paperwire.search.hybrid import SearchEngine, embed_pending, search
from paperwire.search.native import keyword_index, vector_index
from paperwire.store import open_store
from paperwire.store.rows import paper_to_row
from support import KEYWORD_ENGINES, engine_url, make_site

TARGET = "target-based-surrogates-for-stochastic-optimization"
TITLE = "Target-based Surrogates for Stochastic Optimization"
CLAIMED = "2106.09685"  # a real arXiv id (LoRA) whose recorded arXiv reply is a fixture
FAKE_TITLE = "Quokka Sunbathing Is a Universal Prior for Vision"
LIBRARY = f"""@article{{claim,
  title = {{{FAKE_TITLE}}},
  author = {{Mallory Fake}},
  year = {{2021}},
  eprint = {{{CLAIMED}}},
  archivePrefix = {{arXiv}},
  abstract = {{Quokkas basking in the sun explain every vision benchmark.}}
}}
@article{{other,
  title = {{Wombat Gradient Descent Converges Everywhere}},
  author = {{Mallory Fake and Eve Fake}},
  year = {{2024}},
  abstract = {{Wombats descend gradients faster than quokkas.}}
}}
""".encode()


@pytest.fixture(params=KEYWORD_ENGINES)
def trust_site(request, tmp_path):
    """The app over the listed sample on SQLite, on PostgreSQL (tantivy beside it) and on
    PostgreSQL answering keyword queries from its own index."""
    url = engine_url(request, tmp_path, sample=True)
    extra = {"keyword_index": "database"} if request.param == "postgresql-fulltext" else {}
    made = make_site(tmp_path, database_url=url, sample_loaded=True, **extra)
    with made.client:
        yield made


def user(site, address: str, curator: bool = False):
    if curator:
        return site.services.deployment.set_curator(address, True)
    return site.store.get_or_create_user(address, site.clock.now)


def trending(site) -> list[tuple[str, float]]:
    answer = site.client.get("/api/v1/trending", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return [(item["paper"]["key"], item["score"]) for item in answer.json()["data"]]


def every_listed_key(site) -> set[str]:
    """Every paper /api/v1/papers lists, following its cursor."""
    keys: set[str] = set()
    cursor = None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = site.client.get("/api/v1/papers", params=params).json()
        keys |= {paper["key"] for paper in page["data"]}
        cursor = page["next"]
        if not cursor:
            return keys


# -- the rule, in models.merge_papers --------------------------------------------------

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_records = st.builds(
    Paper,
    title=_text.filter(str.strip),
    abstract=_text,
    arxiv_id=st.one_of(st.none(), st.sampled_from(["2401.00001", "2106.09685", "hep-th/9901001"])),
    authors=st.lists(st.builds(Author, _text), max_size=4),
    doi=st.one_of(st.none(), _text),
    url=st.one_of(st.none(), st.just("https://example.org/p")),
    upvotes=st.integers(0, 2**62),
    sources=st.lists(st.sampled_from(["bibtex", "manual", "arxiv-api", "hf-daily"]), max_size=2),
    confirmed=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(stored=_records, sent=_records)
def test_a_readers_record_never_changes_a_stored_paper(stored, sent):
    assert merge_papers(stored, as_reader_record(sent)) is stored


@settings(max_examples=200, deadline=None)
@given(unconfirmed=_records, trusted=_records)
def test_a_trusted_record_wins_over_an_unconfirmed_one_field_by_field(unconfirmed, trusted):
    reader = as_reader_record(unconfirmed)
    trusted = replace(trusted, confirmed=True)
    merged = merge_papers(reader, trusted)
    assert merged.confirmed
    # Never the reader's title, ids, links or counts, even when the trusted one is shorter.
    assert merged.title == trusted.title
    assert (merged.arxiv_id, merged.doi, merged.url) == (
        trusted.arxiv_id, trusted.doi, trusted.url,
    )  # fmt: skip
    assert merged.upvotes == trusted.upvotes
    # Where the trusted record says something, it wins; the reader's fills only gaps.
    assert merged.abstract == (trusted.abstract or reader.abstract)
    assert merged.authors == (trusted.authors or reader.authors)


def test_trusted_records_keep_todays_merge():
    old = Paper(title="A paper", abstract="short", upvotes=3)
    new = Paper(title="A paper", abstract="a longer abstract", arxiv_id="2401.00001", upvotes=9)
    merged = merge_papers(old, new)
    assert (merged.abstract, merged.arxiv_id, merged.upvotes) == (new.abstract, "2401.00001", 9)


# -- item 1: a reader's record never rewrites a stored paper ---------------------------


def test_a_manual_submission_matching_a_stored_title_changes_nothing(trust_site):
    site = trust_site
    site.sign_in("mallory@example.org")
    before = site.store.get_paper(TARGET)
    board, seq = trending(site), site.store.current_seq()
    # The attack as written: the stored title, a longer abstract and author list, an
    # arXiv id the paper lacks ...
    added = site.client.post(
        "/submit/manual",
        data={
            "csrf_token": site.csrf(),
            "title": TITLE.upper(),
            "authors": "\n".join(f"Mallory Fake {i}" for i in range(40)),
            "abstract": "A much longer abstract than the stored one. " * 60,
            "link": "https://arxiv.org/abs/2501.00001",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    assert added.headers["location"] == f"/papers/{TARGET}?notice=listed"  # linked
    # ... and a file carrying `upvotes: 1000000000`.
    line = {
        "format": "paperwire", "title": TITLE, "abstract": "x" * 5000, "upvotes": 1_000_000_000,
        "arxiv_id": "2501.00002", "authors": [{"name": "Mallory Fake"}] * 50,
    }  # fmt: skip
    sent = site.client.post(
        "/submit/file",
        data={"csrf_token": site.csrf()},
        files={"file": ("mine.jsonl", json.dumps(line).encode(), "application/x-ndjson")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    after = site.store.get_paper(TARGET)
    assert after == before and paper_to_row(after) == paper_to_row(before)  # byte-identical
    assert site.store.current_seq() == seq  # not one paper written
    assert site.store.get_paper("2501.00001") is None and site.store.get_paper("2501.00002") is None
    assert trending(site) == board  # the billion upvotes count for nothing
    assert site.client.get(f"/api/v1/papers/{TARGET}").json()["upvotes"] == 0


def test_a_submission_that_matched_another_key_answers_and_writes_nothing(trust_site):
    # Before: a title-only record matching a paper known by its arXiv id was merged into
    # it, and the request then answered 500 (it looked the paper up by the record's key).
    site = trust_site
    stored = Paper(
        title="Sparse Quokka Transformers", abstract="Short.", arxiv_id="2402.00042",
        authors=[Author("Real Author")],
    )  # fmt: skip
    site.store.upsert_papers([stored])
    before = site.store.get_paper("2402.00042")
    site.sign_in("mallory@example.org")
    added = site.client.post(
        "/submit/manual",
        data={"csrf_token": site.csrf(), "title": "Sparse quokka transformers",
              "authors": "Mallory Fake, Eve Fake", "abstract": "Longer and invented. " * 20},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303, added.text
    assert added.headers["location"] == "/papers/2402.00042?notice=submitted"
    assert site.store.get_paper("2402.00042") == before
    entry = site.store.entry("2402.00042")  # listed on today's feed as the reader's
    assert entry.submission is not None and entry.submission.submitter is not None


def _refuse_inserts(store, table: str) -> None:
    """A real database failure in the middle of a write: every insert into `table`
    aborts (a trigger), as a full disk or a lost connection would."""
    with store.write() as conn:
        if store.dialect.name == "sqlite":
            conn.execute(
                f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
            return
        conn.execute(
            "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "'BEGIN RAISE EXCEPTION ''disk full''; END'"
        )
        conn.execute(
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse()"
        )


def test_a_submission_that_fails_midway_writes_nothing(site):
    site.sign_in("mallory@example.org")
    papers, seq = site.store.count_papers(), site.store.current_seq()
    _refuse_inserts(site.store, "submissions")  # the paper is stored, then its listing fails
    # The server answers 500 (and logs the error) rather than raising into the test.
    client = TestClient(site.client.app, raise_server_exceptions=False)
    client.cookies = site.client.cookies
    failed = client.post(
        "/submit/manual",
        data={"csrf_token": site.csrf(), "title": "A brand new paper", "abstract": "x"},
    )
    assert failed.status_code == 500
    assert site.store.count_papers() == papers and site.store.current_seq() == seq
    assert site.store.get_paper("a-brand-new-paper") is None
    # The same for a library: its papers are stored, then the collection's items fail.
    mallory = user(site, "mallory@example.org")
    cid = site.store.collections_of(mallory.id, site.clock.now)[0].id
    _refuse_inserts(site.store, "collection_items")
    failed = client.post(
        f"/collections/{cid}/import/library",
        data={"csrf_token": site.csrf()},
        files={"library": ("mine.bib", LIBRARY, "application/x-bibtex")},
    )
    assert failed.status_code == 500
    assert site.store.count_papers() == papers and site.store.get_paper(CLAIMED) is None
    assert site.store.collection_items(cid) == []


# -- item 2: what only readers sent stays out of every public list ---------------------


def _import_claim(site) -> int:
    site.sign_in("mallory@example.org")
    mallory = user(site, "mallory@example.org")
    cid = site.store.collections_of(mallory.id, site.clock.now)[0].id
    page = site.client.post(
        f"/collections/{cid}/import/library",
        data={"csrf_token": site.csrf()},
        files={"library": ("mine.bib", LIBRARY, "application/x-bibtex")},
    )
    assert page.status_code == 200, page.text
    assert re.search(r"0 found here and linked, 2 imported as new records", page.text), page.text
    return cid


def _public_pages(site) -> dict[str, str]:
    pages = {
        path: site.client.get(path).text
        for path in ("/", "/trending", "/feeds/daily.atom", "/feeds/trending.atom")
    }
    for mode in ("lexical", "hybrid", "semantic"):
        for q in ("quokka", "wombat gradient", CLAIMED):
            params = {"q": q, "mode": mode}
            pages[f"/search {mode} {q}"] = site.client.get("/search", params=params).text
            pages[f"/feeds/search.atom {mode} {q}"] = site.client.get(
                "/feeds/search.atom", params=params
            ).text
            pages[f"/api/v1/search {mode} {q}"] = site.client.get(
                "/api/v1/search", params=params
            ).text
    return pages


def test_an_imported_library_of_unmatched_records_stays_out_of_every_public_list(trust_site):
    site = trust_site
    cid = _import_claim(site)
    owned = {item.paper.key for item in site.store.collection_items(cid)}
    assert CLAIMED in owned and len(owned) == 2
    # The owner sees their records: in their collection and on the paper's page.
    collection = site.client.get(f"/collections/{cid}").text
    assert "Quokka Sunbathing" in collection and "Wombat Gradient Descent" in collection
    mine = site.client.get(f"/papers/{CLAIMED}")
    assert mine.status_code == 200 and "Awaiting confirmation" in mine.text
    assert "Confirm this paper" not in mine.text  # a reader cannot confirm
    # Nobody else: not signed in, and another reader.
    for who in (None, "eve@example.org"):
        site.client.post("/signout", data={"csrf_token": site.csrf()})
        if who:
            site.sign_in(who)
        for where, text in _public_pages(site).items():
            assert "Quokka" not in text and "Wombat" not in text, where
        assert not owned & every_listed_key(site)
        for key in owned:
            assert site.client.get(f"/papers/{key}").status_code == 404
            assert site.client.get(f"/api/v1/papers/{key}").status_code == 404
            assert site.client.get(f"/papers/{key}/cite.bib").status_code == 404
        if who:  # a vote or a save by key answers as for an unknown paper
            vote = site.client.post(f"/papers/{CLAIMED}/vote", data={"csrf_token": site.csrf()})
            assert vote.status_code == 404
            eve = user(site, who)
            assert site.store.find_paper_id(CLAIMED, eve) is None
            assert site.store.user_submissions(eve.id, viewer=eve) == []
    # Digests and recommendations never draw on them either.
    added = site.store.papers_added(site.clock.now.replace(year=2000), site.clock.now.replace(
        year=2100), 10_000)  # fmt: skip
    assert not owned & {paper.key for _, _, paper in added}
    assert not owned & {row.key for row in site.store.candidate_rows(0, 10_000)}


def test_a_trusted_import_of_a_claimed_id_replaces_the_fake_title_and_confirms_it(trust_site):
    site = trust_site
    _import_claim(site)
    assert site.store.get_paper(CLAIMED).title == FAKE_TITLE
    # The operator's import (the CLI's path) of that id: arXiv's recorded reply.
    outcome = site.services.deployment.import_sources(
        [UrlInput(f"https://arxiv.org/abs/{CLAIMED}")]
    )
    assert outcome.total.papers.updated == 1, outcome
    paper = site.store.get_paper(CLAIMED)
    assert paper.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert paper.confirmed and "Quokka" not in paper.abstract and paper.upvotes == 0
    assert "Mallory Fake" not in [a.name for a in paper.authors]
    site.client.post("/signout", data={"csrf_token": site.csrf()})
    assert site.client.get(f"/papers/{CLAIMED}").status_code == 200
    assert CLAIMED in every_listed_key(site)
    found = site.client.get(
        "/api/v1/search", params={"q": "low-rank adaptation", "mode": "lexical"}
    )
    assert CLAIMED in [hit["paper"]["key"] for hit in found.json()["data"]]
    assert "Quokka" not in site.client.get("/search", params={"q": "quokka"}).text


def test_submitting_a_claimed_id_asks_arxiv_and_its_record_wins(trust_site):
    site = trust_site
    _import_claim(site)
    site.sign_in("eve@example.org")  # another reader submits the real id
    sent = site.client.post(
        "/submit", data={"csrf_token": site.csrf(), "arxiv": CLAIMED}, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    assert [r.url.params["id_list"] for r in site.arxiv.requests] == [CLAIMED]
    paper = site.store.get_paper(CLAIMED)
    assert paper.confirmed and paper.title.startswith("LoRA")


def test_curators_confirm_and_other_readers_cannot(trust_site):
    site = trust_site
    _import_claim(site)
    key = "wombat-gradient-descent-converges-everywhere"
    # The owner cannot confirm their own record; nor can another reader or a stranger.
    assert (
        site.client.post(f"/papers/{key}/confirm", data={"csrf_token": site.csrf()}).status_code
        == 403
    )
    site.sign_in("eve@example.org")
    assert (
        site.client.post(f"/papers/{key}/confirm", data={"csrf_token": site.csrf()}).status_code
        == 403
    )
    site.client.post("/signout", data={"csrf_token": site.csrf()})
    assert (
        site.client.post(f"/papers/{key}/confirm", data={"csrf_token": site.csrf()}).status_code
        == 401
    )
    assert site.store.get_paper(key).confirmed is False
    # A curator sees it, with the button, and confirms it.
    user(site, "cora@example.org", curator=True)
    site.sign_in("cora@example.org")
    page = site.client.get(f"/papers/{key}")
    assert page.status_code == 200 and "Confirm this paper" in page.text
    done = site.client.post(
        f"/papers/{key}/confirm", data={"csrf_token": site.csrf()}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"/papers/{key}?notice=confirmed"
    unknown = site.client.post("/papers/nope/confirm", data={"csrf_token": site.csrf()})
    assert unknown.status_code == 404
    site.client.post("/signout", data={"csrf_token": site.csrf()})
    assert site.client.get(f"/papers/{key}").status_code == 200
    assert key in every_listed_key(site)
    found = site.client.get("/api/v1/search", params={"q": "wombat", "mode": "lexical"}).json()
    assert key in [hit["paper"]["key"] for hit in found["data"]]


def test_the_cli_lists_and_confirms_unconfirmed_papers(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(db)
    reader = store.get_or_create_user("mallory@example.org", make_clock())
    store.link_reader_records(
        reader, [Paper(title="Wombat Gradient Descent", abstract="Wombats.")], make_clock(),
        list_on=make_clock().date(),
    )  # fmt: skip
    store.close()
    runner = CliRunner()
    listed = runner.invoke(cli, ["--db", db, "papers", "unconfirmed"], catch_exceptions=False)
    assert (
        listed.exit_code == 0
        and "wombat-gradient-descent\tWombat Gradient Descent" in listed.output
    )
    done = runner.invoke(cli, ["--db", db, "papers", "confirm", "wombat-gradient-descent"])
    assert done.exit_code == 0 and "confirmed wombat-gradient-descent" in done.output
    assert runner.invoke(cli, ["--db", db, "papers", "unconfirmed"]).output == ""
    missing = runner.invoke(cli, ["--db", db, "papers", "confirm", "nope"])
    assert missing.exit_code != 0 and "no paper with key 'nope'" in missing.output
    for path in (["papers"], ["papers", "confirm"], ["papers", "unconfirmed"]):
        assert "Usage:" in runner.invoke(cli, [*path, "--help"]).output


def make_clock():
    from datetime import UTC, datetime

    return datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


# -- the store's rule on both engines, and search by meaning ---------------------------


def test_the_visibility_rule_on_each_engine(store):
    day = make_clock()
    store.upsert_papers([Paper(title="A harvested paper", abstract="Real.", arxiv_id="2401.00001")])
    owner = store.get_or_create_user("owner@example.org", day)
    other = store.get_or_create_user("other@example.org", day)
    curator = store.set_curator("other@example.org", True)
    links = store.link_reader_records(
        owner,
        [
            Paper(title="A harvested paper", abstract="Invented and longer." * 9, upvotes=10**9),
            Paper(title="Mine alone", abstract="Mine.", arxiv_id="2401.00002", upvotes=10**9),
        ],
        day,
        list_on=day.date(),
    )
    assert [(link.key, link.stored, link.listed) for link in links] == [
        ("2401.00001", False, True), ("2401.00002", True, True),
    ]  # fmt: skip
    assert store.get_paper("2401.00001").abstract == "Real."
    mine = store.get_paper("2401.00002")
    assert mine.confirmed is False and mine.upvotes == 0
    assert store.entry("2401.00002") is None  # anyone
    assert store.entry("2401.00002", owner) is not None
    assert store.entry("2401.00002", replace(other, is_curator=False)) is None
    assert store.entry("2401.00002", curator) is not None
    listed = {e.paper.key for e in store.feed(day.date(), day.date())[0]}
    assert listed == {"2401.00001"} and store.feed(day.date(), day.date())[1] == 1
    assert [e.paper.key for e in store.listed_since(day.replace(year=2000))] == ["2401.00001"]
    assert [e.paper.key for _, e in store.page_papers(0, 10)] == ["2401.00001"]
    assert store.papers_to_embed("any-model", 0, 10)[0][1].key == "2401.00001"
    assert len(store.papers_to_embed("any-model", 0, 10)) == 1
    # Another reader's record naming the same id is not linked to the owner's.
    pending = store.link_reader_records(other, [Paper(title="x", arxiv_id="2401.00002")], day,
                                        list_on=day.date())  # fmt: skip
    assert pending is not None and pending[0].pending and pending[0].paper_id is None
    # A trusted record confirms it; its title wins even when shorter.
    store.upsert_papers([Paper(title="Mine", arxiv_id="2401.00002")])
    assert store.get_paper("2401.00002").title == "Mine" and store.entry("2401.00002") is not None


@pytest.fixture(scope="module")
def embedder():
    from paperwire.search.embed import TorchEmbedder

    return TorchEmbedder()


def test_search_by_meaning_never_finds_an_unconfirmed_paper(store, embedder):
    store.upsert_papers(
        [
            Paper(title="Marsupials of Australia", abstract="Kangaroos and wallabies hop."),
            Paper(title="Convex optimization", abstract="Gradient methods converge."),
        ]
    )
    reader = store.get_or_create_user("mallory@example.org", make_clock())
    store.link_reader_records(
        reader, [Paper(title=FAKE_TITLE, abstract="Quokkas are small marsupials in the sun.")],
        make_clock(), list_on=make_clock().date(),
    )  # fmt: skip
    assert embed_pending(store, embedder) == 2  # the reader's record gets no vector
    engine = SearchEngine(store, keyword_index(store), vector_index(store, embedder.name), embedder)
    for mode in ("semantic", "hybrid", "lexical"):
        found = [hit.paper.title for hit in search(engine, "quokka marsupials sunbathing", mode)]
        assert FAKE_TITLE not in found, mode


def test_web_code_stores_readers_records_only_through_the_reader_path():
    """The reader path has nothing to opt into: no module of the web calls the trusted
    writers (Store.upsert_papers, ingest.load.load), only Store.link_reader_records."""
    web = Path(__file__).parents[1] / "src" / "paperwire" / "web"
    for source in web.rglob("*.py"):
        text = source.read_text("utf-8")
        assert "upsert_papers" not in text, source
        assert not re.search(r"\bload\(", text) and "import load\n" not in text, source


def test_migration_0012_makes_hand_typed_papers_unconfirmed(tmp_path):
    """A store from before the rule: papers typed in on /submit/manual (their only source
    "manual") become unconfirmed, and take a new change number so the keyword index
    drops them; every other paper stays as it was."""
    import sqlite3

    from paperwire.store import migrations

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL DEFAULT 'then')"
    )
    for migration in migrations.load("sqlite"):
        if migration.version < 12:
            conn.executescript(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            )
    for key, sources in (("typed-by-hand", '["manual"]'), ("imported", '["bibtex"]')):
        conn.execute(
            "INSERT INTO papers (key, title_norm, title_hash, title, sources) "
            "VALUES (?, ?, 0, ?, ?)",
            (key, key, key, sources),
        )
    conn.commit()
    conn.close()
    store = open_store(f"sqlite:///{path}")
    assert store.get_paper("typed-by-hand").confirmed is False
    assert store.get_paper("imported").confirmed is True
    changed = store.changes((0, 0), 0, 10).papers
    assert [p.key for _, p in changed][-1] == "typed-by-hand"  # past the index's watermark
    assert store.current_seq() == 1
    store.close()
