"""Issue 27, search that is honest, as a reader reads the search page: a word no paper
holds is said plainly, papers near in meaning come only under their own heading, a
spelling is offered only when every word of it is a word the papers hold, nothing is
styled as a success; the page says how many papers matched, a year range says how many
undated papers it left out and links to them, and the page has one search box."""

from __future__ import annotations

import re
from datetime import date

import pytest

from paperwire.models import Author, Paper
from paperwire.querylang import parse_query
from paperwire.search.lexical import LexicalIndex


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _tantivy(site) -> LexicalIndex:
    index = site.services.engine.lexical
    if not isinstance(index, LexicalIndex):
        pytest.skip("only the tantivy index counts matches and holds a vocabulary")
    return index


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "semantic"])
def test_a_word_no_paper_holds_is_said_plainly(site, mode):
    _tantivy(site)
    page = site.client.get("/search", params={"q": "zzqxv", "mode": mode}).text
    text = _text(page)
    assert "No paper contains “zzqxv”." in text or "No paper contains zzqxv ." in text
    assert "Did you mean" not in text and 'class="notice"' not in page
    shown = page.count('class="entry"')
    # Papers near in meaning, if any, only under their own heading, after the plain answer.
    if shown:
        assert '<h2 id="closest">Closest in meaning</h2>' in page
        assert page.index("No paper contains") < page.index("Closest in meaning")
        assert page.index("Closest in meaning") < page.index('class="entry"')
    else:
        assert "Closest in meaning" not in page


def test_a_suggestion_only_of_words_the_papers_hold(site):
    _tantivy(site)
    page = site.client.get("/search", params={"q": "zzqxv flor", "mode": "lexical"}).text
    assert "Did you mean" not in page and "Showing papers for" not in page
    fixed = site.client.get("/search", params={"q": "difusion models"}).text
    assert "Did you mean" in fixed and "diffusion models" in fixed


def test_the_page_says_how_many_papers_matched(site):
    index = _tantivy(site)
    page = site.client.get("/search", params={"q": "diffusion", "mode": "lexical"}).text
    everything = index.search(parse_query("diffusion"), 100_000)
    shown = page.count('class="entry"')
    assert shown > 0
    assert f"{len(everything)} papers match “diffusion”: 1–{shown} shown." in _text(
        page.replace("<q>", "“").replace("</q>", "”")
    )


def test_a_year_range_says_how_many_undated_papers_it_left_out(site):
    _tantivy(site)
    site.store.upsert_papers(
        [
            Paper(title="Quokkafish dated", abstract="quokkafish swim", arxiv_id="2001.00001",
                  authors=[Author("A B")], published=date(2020, 5, 1)),
            Paper(title="Quokkafish undated one", abstract="quokkafish sleep", url="https://example.org/q1"),
            Paper(title="Quokkafish undated two", abstract="quokkafish eat", url="https://example.org/q2"),
        ]
    )  # fmt: skip
    site.services.engine.lexical.sync(site.store)
    page = site.client.get(
        "/search", params={"q": "quokkafish", "mode": "lexical", "year_from": 2019}
    ).text
    text = _text(page.replace("<q>", "“").replace("</q>", "”"))
    assert "1 paper matches “quokkafish”: 1–1 shown." in text
    assert "The year filter left out 2 papers with no date." in text
    link = re.search(r'<p class="undated">.*?<a href="([^"]+)"', page).group(1)
    assert "year_from" not in link
    everything = site.client.get(link.replace("&amp;", "&")).text
    assert "3 papers match" in _text(everything)
    assert everything.count('class="entry"') == 3


def test_one_search_box_per_page(site):
    search = site.client.get("/search", params={"q": "diffusion"}).text
    assert search.count('role="search"') == 1 and 'id="site-q"' not in search
    daily = site.client.get("/daily").text
    assert daily.count('role="search"') == 1
