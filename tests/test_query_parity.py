"""One query language, four engines: the same queries through the tantivy keyword index,
PostgreSQL's own full-text index, the meaning leg and saved-search digest selection; each
returns only papers that ``querylang.matches`` lets through, and a query of filters alone
returns exactly those papers from both keyword engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from paperwire.digest.select import Selector
from paperwire.ingest import parse_any
from paperwire.ingest.load import load
from paperwire.models import Author, Paper, SavedSearch, Subscription
from paperwire.querylang import matches, parse_query
from paperwire.search.embed import make_embedder
from paperwire.search.hybrid import SearchEngine, embed_pending, search
from paperwire.search.lexical import keyword_search
from paperwire.search.native import keyword_index, vector_index
from paperwire.store import open_store
from support import fresh_postgres_url

EXTRA = [
    Paper(
        title="Quantum error correction with surface codes",
        abstract="Surface codes protect qubits from noise during optimization.",
        arxiv_id="2301.00001",
        authors=[Author("Alice Quantum"), Author("Bob Smith")],
        categories=["quant-ph"],
        published=date(2023, 1, 5),
    ),
    Paper(
        title="Graph neural networks for molecules",
        abstract="Message passing on molecular graphs, trained by gradient descent.",
        arxiv_id="2101.00002",
        authors=[Author("Carol Smith")],
        categories=["cs.LG", "q-bio.BM"],
        published=date(2021, 3, 1),
    ),
]

WORDED = [
    "learning year:2024",
    "graph networks category:cs.LG",
    "neural networks year:2017-2019 -convex",
    "quantization -llm",
    "smith category:cs",
    'graph author:"carol smith"',
    "codes category:quant-ph -molecules",
    "gradient year:<2024 -quantum",
    "optimization -gradient -stochastic",
    "classification has:code",
    'models topic:"in-context learning"',
    "graph topic:machine-learning",
]
FILTERS_ONLY = [
    "author:smith",
    "year:>=2025",
    "category:q-bio.BM",
    "year:2019-2021",
    "has:code",
    'topic:"In-Context Learning"',
    "topic:machine-learning",
    "topic:cs.LG year:2021",
    "topic:quantum-physics",
]
# A recorded Hugging Face item with keywords and a code repository (issue 29).
RICH = Path(__file__).parent / "data" / "hf_daily_papers_rich.json"


@pytest.fixture(scope="module")
def papers():
    data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    return data


def _fill(store, data):
    load(store, parse_any(data, "sample"))
    store.upsert_papers(EXTRA)
    load(store, parse_any(RICH.read_bytes(), "hf"))


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory, papers):
    folder = tmp_path_factory.mktemp("parity")
    store = open_store(f"sqlite:///{folder / 'p.db'}", index_root=folder / "indexes")
    _fill(store, papers)
    embedder = make_embedder("minilm", folder / "models")
    embed_pending(store, embedder)
    lexical = keyword_index(store)
    lexical.sync(store)
    yield SearchEngine(store, lexical, vector_index(store, embedder.name), embedder)
    store.close()


@pytest.fixture(scope="module")
def pg_fulltext(tmp_path_factory, postgres_server, papers):
    folder = tmp_path_factory.mktemp("parity-pg")
    store = open_store(fresh_postgres_url(postgres_server), index_root=folder / "indexes")
    _fill(store, papers)
    yield store, keyword_index(store, "database")
    store.close()


def _allowed(engine: SearchEngine, text: str) -> set[str]:
    query = parse_query(text)
    every = engine.store.changes((0, 0), 0, 100_000).papers
    return {paper.key for _pid, paper in every if matches(paper, query)}


@pytest.mark.parametrize("text", WORDED + FILTERS_ONLY)
def test_every_engine_follows_the_same_filters(sqlite_engine, pg_fulltext, text):
    allowed = _allowed(sqlite_engine, text)
    tantivy = {
        h.paper.key for h in keyword_search(sqlite_engine.store, sqlite_engine.lexical, text, 1000)
    }
    pg_store, pg_index = pg_fulltext
    postgres = {h.paper.key for h in keyword_search(pg_store, pg_index, text, 1000)}
    assert tantivy <= allowed and postgres <= allowed
    if text in FILTERS_ONLY:
        assert tantivy == postgres == allowed and allowed
        return
    assert tantivy and postgres  # each query finds something, so the check bites
    meaning = {h.paper.key for h in search(sqlite_engine, text, mode="semantic", limit=1000)}
    assert meaning <= allowed
    selector = Selector(
        sqlite_engine.store, sqlite_engine.embedder, sqlite_engine.embedder.name, datetime.now(UTC)
    )
    subscriber = Subscription(
        id=1,
        email="a@example.org",
        frequency="daily",
        trending=False,
        searches=[SavedSearch(text, "hybrid"), SavedSearch(text, "lexical")],
        status="active",
        created_at=datetime.now(UTC),
    )
    selector.prepare([subscriber])
    content = selector.content(subscriber, datetime.now(UTC) - timedelta(days=1))
    digested = {item.entry.paper.key for _search, items in content.searches for item in items}
    assert digested <= allowed
