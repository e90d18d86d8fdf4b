"""Issue 27, honest search: a plain word is not matched against author names (accent-folded,
"low" was "Löw"), unless it holds the accent itself; `author:` still folds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.deployment.imports import sample_inputs


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """The seed papers and the demo corpus (which holds an author named Ute Löw)."""
    folder = tmp_path_factory.mktemp("honest")
    settings = Settings(database_url=f"sqlite:///{folder / 'd.db'}", cache_dir=str(folder))
    with Deployment(settings) as made:
        made.import_sources(sample_inputs(True), list_on=datetime(2026, 12, 6, tzinfo=UTC).date())
        yield made


def _titles_authors(hits):
    return [(h.paper.title, [a.name for a in h.paper.authors]) for h in hits]


def test_low_rank_ranks_papers_about_low_rank_not_an_author_named_low(deployment):
    hits = _titles_authors(deployment.search("low rank", mode="lexical", limit=10))
    assert all("Löw" not in " ".join(authors) for _t, authors in hits), hits
    assert all("low" in title.lower() or "rank" in title.lower() for title, _a in hits[:3]), hits


def test_an_author_search_still_folds_accents(deployment):
    for query in ("author:löw", "author:low"):
        hits = _titles_authors(deployment.search(query, mode="lexical", limit=5))
        assert any("Ute Löw" in authors for _t, authors in hits), (query, hits)


def test_a_word_with_its_accent_finds_the_author(deployment):
    hits = _titles_authors(deployment.search("Löw", mode="lexical", limit=5))
    assert hits and "Ute Löw" in hits[0][1]


def test_a_plain_name_still_finds_its_author_below_papers_about_the_word(deployment):
    """Plain words still meet the names as written: "vincent poor" finds H. Vincent
    Poor's papers ("vincent" is in no abstract); "poor" alone ranks papers about poor
    things, not the author, first."""
    hits = _titles_authors(deployment.search("vincent poor", mode="lexical", limit=5))
    assert any("H. Vincent Poor" in authors for _t, authors in hits), hits
    alone = _titles_authors(deployment.search("poor", mode="lexical", limit=3))
    assert all("H. Vincent Poor" not in authors for _t, authors in alone), alone
