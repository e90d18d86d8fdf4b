"""The field-level merge rule (models.merge_papers): whatever a later record holds, a
merge never makes a good field worse, and an invalid value is never stored."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.models import (
    Author,
    Paper,
    field_problems,
    merge_papers,
    valid_category,
    valid_date,
    validated,
)

GOOD_CATEGORIES = ["cs.LG", "hep-ph", "math.GT", "cond-mat.mes-hall", "astro-ph.CO", "q-bio.NC"]
JUNK_CATEGORIES = ["['hep-ph']", "hep-ph,", "Computer Science - Databases", "", "CS.lg", "a b"]

good_category = st.sampled_from(GOOD_CATEGORIES)
any_category = st.one_of(good_category, st.sampled_from(JUNK_CATEGORIES), st.text(max_size=12))
good_day = st.dates(min_value=date(1991, 1, 1), max_value=date(2026, 1, 1))
any_day = st.one_of(st.none(), st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
names = st.lists(st.text(min_size=1, max_size=8).map(Author), max_size=4)


@st.composite
def stored_papers(draw: st.DrawFn) -> Paper:
    """A valid stored paper: what an earlier, good import left."""
    published = draw(good_day)
    return Paper(
        title=draw(st.text(min_size=1, max_size=20)),
        abstract=draw(st.text(max_size=40)),
        arxiv_id="0704.0001",
        authors=draw(names),
        published=published,
        updated=draw(st.one_of(st.none(), st.just(published))),
        categories=draw(st.lists(good_category, min_size=1, max_size=3, unique=True)),
        doi=draw(st.one_of(st.none(), st.just("10.1103/PhysRevD.76.013009"))),
        upvotes=draw(st.integers(0, 100)),
    )


@st.composite
def incoming_papers(draw: st.DrawFn) -> Paper:
    """Anything a later import may bring: junk categories, absurd or missing dates."""
    return Paper(
        title=draw(st.text(max_size=20)),
        abstract=draw(st.text(max_size=40)),
        arxiv_id="0704.0001",
        authors=draw(names),
        published=draw(any_day),
        updated=draw(any_day),
        categories=draw(st.lists(any_category, max_size=4)),
        doi=draw(st.one_of(st.none(), st.text(max_size=10))),
        upvotes=draw(st.integers(0, 100)),
    )


@settings(max_examples=300, deadline=None)
@given(old=stored_papers(), new=incoming_papers())
def test_a_merge_never_makes_a_good_field_worse(old, new):
    merged = merge_papers(old, new)
    assert all(valid_category(c) for c in merged.categories)
    assert set(old.categories) <= set(merged.categories)
    assert merged.categories[: len(old.categories)] == old.categories  # primary stays first
    assert merged.published is not None and valid_date(merged.published)
    assert merged.published <= old.published
    assert merged.updated is None or valid_date(merged.updated)
    if old.updated:
        assert merged.updated is not None and merged.updated >= old.updated
    assert merged.title == old.title
    assert len(merged.abstract) >= len(old.abstract)
    assert len(merged.authors) >= len(old.authors)
    assert merged.doi == (old.doi or new.doi)
    assert merged.upvotes >= old.upvotes
    assert not field_problems(merged)


@settings(max_examples=200, deadline=None)
@given(paper=incoming_papers())
def test_validated_drops_exactly_what_field_problems_names(paper):
    clean = validated(paper)
    problems = field_problems(paper)
    dropped = len(paper.categories) - len(clean.categories)
    dropped += (paper.published != clean.published) + (paper.updated != clean.updated)
    assert dropped == len(problems)
    assert not field_problems(clean)


def test_the_reported_damage_cannot_happen_again():
    """Merging the list-shaped snapshot line used to give 'hep-ph ['hep-ph']'."""
    old = Paper(title="T", arxiv_id="0704.0001", categories=["hep-ph"], published=date(2007, 4, 2))
    new = Paper(title="T", arxiv_id="0704.0001", categories=["['hep-ph']"], published=None)
    merged = merge_papers(old, new)
    assert merged.categories == ["hep-ph"] and merged.published == date(2007, 4, 2)


def test_valid_date_reads_the_clock_past_the_years_known_valid() -> None:
    """valid_date's fast path (issue 30) keeps the rule: year 1000 to next year."""
    from paperwire.models import valid_date

    today = date.today()
    assert valid_date(date(1000, 1, 1)) and valid_date(date(today.year + 1, 12, 31))
    assert not valid_date(date(999, 12, 31)) and not valid_date(date(today.year + 2, 1, 1))
    assert valid_date(None)
