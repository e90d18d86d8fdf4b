"""Characters XML cannot hold: feeds parse whatever text was stored."""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
