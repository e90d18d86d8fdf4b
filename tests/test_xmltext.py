"""xml_safe_paper: one search over a paper's text finds what the field-by-field cleaning
would change (issue 30 made clean papers skip the copy), for any text in any field."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paperwire.models import Author, Paper
from paperwire.xmltext import xml_safe, xml_safe_paper

# Mostly ordinary text, with the characters XML cannot hold mixed in.
_TEXT = st.text(
    alphabet=st.sampled_from(["a", "Z", " ", "é", "\n", "\t", "\x00", "\x0b", "\x0c", "\ufffe"]),
    max_size=12,
)
_OPTIONAL = st.none() | _TEXT


@given(
    title=_TEXT,
    abstract=_TEXT,
    authors=st.lists(st.tuples(_TEXT, _OPTIONAL), max_size=3),
    categories=st.lists(_TEXT, max_size=2),
    code_urls=st.lists(_TEXT, max_size=2),
    doi=_OPTIONAL,
    url=_OPTIONAL,
    journal_ref=_OPTIONAL,
    comments=_OPTIONAL,
)
def test_every_field_is_cleaned_and_a_clean_paper_is_kept_as_is(
    title, abstract, authors, categories, code_urls, doi, url, journal_ref, comments
) -> None:
    paper = Paper(
        title=title,
        abstract=abstract,
        authors=[Author(n, a) for n, a in authors],
        categories=categories,
        code_urls=code_urls,
        doi=doi,
        url=url,
        journal_ref=journal_ref,
        comments=comments,
    )

    def opt(text: str | None) -> str | None:
        return None if text is None else xml_safe(text)

    expected = Paper(
        title=xml_safe(title),
        abstract=xml_safe(abstract),
        authors=[Author(xml_safe(n), opt(a)) for n, a in authors],
        categories=[xml_safe(c) for c in categories],
        code_urls=[xml_safe(u) for u in code_urls],
        doi=opt(doi),
        url=opt(url),
        journal_ref=opt(journal_ref),
        comments=opt(comments),
    )
    cleaned = xml_safe_paper(paper)
    assert cleaned == expected
    if expected == paper:
        assert cleaned is paper


def test_a_form_feed_in_an_affiliation_alone_is_found() -> None:
    paper = Paper(title="T", authors=[Author("A", "Lab\x0cone")])
    assert xml_safe_paper(paper).authors == [Author("A", "Lab one")]
