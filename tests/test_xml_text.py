"""Characters XML cannot hold: feeds parse whatever text was stored, and xml_safe_paper
(one search over a paper's text) finds what the field-by-field cleaning would change."""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperwire.models import Author, Paper
from paperwire.xmltext import _NOT_XML, holds_xml_only, xml_safe, xml_safe_paper

# -- characters XML cannot hold ------------------------------------------------------------

_NASTY = st.text(
    alphabet=st.one_of(
        st.sampled_from("\x00\x01\x08\x0b\x0c\x0e\x1f\ufffe\uffff\ud800\r\t\n&<>\"'"),
        st.characters(codec="utf-8"),
        st.characters(),
    ),
    min_size=1,
    max_size=60,
)
_SERIAL = itertools.count(1)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=_NASTY, abstract=_NASTY, author=_NASTY, query=_NASTY)
def test_feeds_parse_whatever_text_was_stored(site, title, abstract, author, query) -> None:
    """Any text in a stored paper — even characters stored before imports cleaned them —
    and any query give Atom feeds an XML parser reads; an import stores none of them."""
    from defusedxml.ElementTree import fromstring

    from paperwire.ingest.load import load
    from paperwire.models import Author, Paper
    from paperwire.xmltext import xml_safe

    arxiv_id = f"2411.{90000 + next(_SERIAL)}"
    paper = Paper(
        title=f"T {title}", abstract=abstract, arxiv_id=arxiv_id,
        authors=[Author(author)], upvotes=10**6, categories=["cs.LG"],
    )  # fmt: skip
    load(site.store, [paper])
    stored = site.store.entry(arxiv_id).paper
    assert stored.abstract == xml_safe(abstract) and stored.title == xml_safe(f"T {title}")

    # as if stored before imports cleaned text: straight into the store (less NUL and
    # lone surrogates, which neither database driver takes)
    def raw(text: str) -> str:
        return re.sub("[\x00\ud800-\udfff]", "", text)

    site.store.upsert_papers(
        [Paper(f"U {raw(title)}", raw(abstract), f"{arxiv_id}9", upvotes=10**6)]
    )
    site.store.submit_many([arxiv_id, f"{arxiv_id}9"], site.clock.now.date(), site.clock.now)
    for path in ("/feeds/daily.atom", "/feeds/trending.atom"):
        response = site.client.get(path)
        assert response.status_code == 200
        root = fromstring(response.content)
        assert root.tag.endswith("feed") and len(root) > 3
    response = site.client.get(
        "/feeds/search.atom", params={"q": f"model {raw(query)}", "mode": "lexical"}
    )
    if response.status_code == 200:
        fromstring(response.content)
    else:
        assert response.status_code == 400, response.text


# -- xml_safe_paper: one search over a paper's text -------------------------------------

# Mostly ordinary text, with the characters XML cannot hold mixed in.
_TEXT = st.text(
    alphabet=st.sampled_from(
        [
            "a",
            "Z",
            " ",
            "é",
            "\n",
            "\t",
            "\r",
            "\x00",
            "\x0b",
            "\x0c",
            "\x1f",
            "\ufffe",
            "\uffff",
            "\ud800",
            "\ufffd",
            "\U0001f600",
        ]
    ),
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


@given(
    text=st.text(
        alphabet=st.one_of(
            st.characters(),  # any code point, surrogates included
            st.sampled_from(
                "\x00\x08\x09\x0a\x0b\x0c\x0d\x1f\x20\x7f\ufffd\ufffe\uffff\ud800\udfff"
            ),
        ),
        max_size=80,
    )
)
def test_the_byte_check_finds_what_the_regex_finds(text: str) -> None:
    """holds_xml_only (UTF-8 bytes: controls deleted, non-characters looked for; issue 30)
    answers as the regex search it replaced, for any text: ASCII, other scripts, lone
    surrogates, the non-characters, and the controls XML keeps (tab, newline, return)."""
    assert holds_xml_only(text) == (_NOT_XML.search(text) is None)


def test_a_form_feed_in_an_affiliation_alone_is_found() -> None:
    paper = Paper(title="T", authors=[Author("A", "Lab\x0cone")])
    assert xml_safe_paper(paper).authors == [Author("A", "Lab one")]
