"""What the tests share besides fixtures: the engine list, fresh databases (PostgreSQL ones
copied from a template migrated once per session), and the web site over the sample corpus
(`make_site`, `Site`, the clock and the recorded arXiv the site is built with). Fixtures stay
in conftest.py; tests import these by name (`from support import make_site`)."""

from __future__ import annotations

import email
import email.message
import email.policy
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from itertools import count
from pathlib import Path
from typing import Any
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
from paperwire.web.app import create_app
from paperwire.web.security import csrf_binding, csrf_token
from paperwire.web.services import Services, build_services

FIXTURES = Path(__file__).parent / "fixtures"
# CI has ../shared beside the clone; the tests that need all five pages skip without it.
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

# -- the engines ----------------------------------------------------------------------

ENGINES = ("sqlite", "postgresql")
"""The store engines: every engine-parametrised fixture runs its tests on each."""

KEYWORD_ENGINES = (*ENGINES, "postgresql-fulltext")
"""The engines, plus PostgreSQL answering keyword queries from its own tsvector index
(PAPERWIRE_KEYWORD_INDEX=database): for the fixtures that search by keyword."""

POSTGRES_ENGINES = frozenset({"postgresql", "postgresql-fulltext"})
"""The parameters above that need the PostgreSQL server (conftest marks their tests
`postgres`)."""


def sample_papers() -> list[Paper]:
    """The shipped sample corpus, parsed."""
    data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    return [p for p in parse_any(data, "sample", "paperwire") if isinstance(p, Paper)]


# -- fresh databases ------------------------------------------------------------------

_DATABASES = count(1)


def _create_database(server: Any, template: str | None = None) -> str:
    """A new database on the test server (a copy of `template` when given): its URL."""
    import psycopg

    name = f"t{next(_DATABASES)}"
    base = server.get_uri()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return base.replace("/postgres?", f"/{name}?")


def fresh_postgres_url(server: Any) -> str:
    """A new, empty database on the test server."""
    return _create_database(server)


@dataclass(frozen=True)
class Templates:
    """Databases built once per session and copied for each test that wants a fresh one:
    `CREATE DATABASE ... TEMPLATE` copies files, where migrating and loading the sample
    again took most of each PostgreSQL test's setup. PostgreSQL refuses to copy a
    database anyone is connected to, so the templates take no connections once built.
    `schema`: migrated, empty. `sample`: migrated, the sample corpus loaded.
    The keyword index beside a store is not in a copy: each test's store builds its own
    (its folder is named after the copy's URL, under the test's own index root)."""

    server: Any
    schema: str
    sample: str

    def postgres_url(self, sample: bool) -> str:
        """A fresh PostgreSQL database: migrated, and holding the sample when `sample`."""
        return _create_database(self.server, self.sample if sample else self.schema)


def build_templates(server: Any, folder: Path) -> Templates:
    """The session's template databases on `server` (index folders under `folder`)."""
    import psycopg

    from paperwire.store.postgres import PostgresStore

    base = server.get_uri()
    papers = sample_papers()
    made = []
    for name, with_sample in (("tpl_schema", False), ("tpl_sample", True)):
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        store = PostgresStore(base.replace("/postgres?", f"/{name}?"), index_root=folder)
        if with_sample:
            load(store, iter(papers))
        store.close()  # no connection may stay open on a template
        made.append(name)
    with psycopg.connect(base, autocommit=True) as conn:
        for name in made:
            conn.execute(f"ALTER DATABASE {name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
    return Templates(server, made[0], made[1])


def build_sqlite_sample(folder: Path) -> Path:
    """A SQLite file holding the migrated sample corpus, closed (its WAL checkpointed into
    it), to be copied for each SQLite site."""
    path = folder / "sample.db"
    store = open_store(f"sqlite:///{path}")
    load(store, iter(sample_papers()))
    store.close()
    return path


def engine_url(request: pytest.FixtureRequest, tmp_path: Path, sample: bool = False) -> str:
    """A fresh database of the engine a test is parametrised with (`request.param`),
    holding the sample corpus when `sample` (then `make_site(..., sample_loaded=True)`).
    SQLite: a file under `tmp_path` (empty, migrated on open; or a copy of the session's
    sample file). PostgreSQL: a copy of a session template (migrated)."""
    if request.param == "sqlite":
        path = tmp_path / "site.db"
        if sample:
            shutil.copyfile(request.getfixturevalue("sqlite_sample"), path)
        return f"sqlite:///{path}"
    templates: Templates = request.getfixturevalue("postgres_templates")
    return templates.postgres_url(sample)


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
    tmp_path: Path,
    engine_factory=None,
    now: datetime | None = None,
    sample_loaded: bool = False,
    **overrides,
) -> Site:
    """The app over the sample corpus listed on the clock's day; the store is
    `overrides["database_url"]` (default: a SQLite file under `tmp_path`), into which the
    sample is loaded unless `sample_loaded` (a copy of a template that holds it)."""
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
    papers = sample_papers()
    if not sample_loaded:
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
