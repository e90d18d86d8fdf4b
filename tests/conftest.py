"""Shared fixtures: a fresh real SQLite store per test, the recorded inputs, the seeds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperwire.store.sqlite import SQLiteStore

FIXTURES = Path(__file__).parent / "fixtures"
# CI has ../shared beside the clone; the tests that need all five pages skip without it.
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """A fresh SQLite store in its own file."""
    db = SQLiteStore(f"sqlite:///{tmp_path / 'papers.db'}")
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
