"""Keyword search: the query language parsed here, BM25 ranking done by the store's
full-text index, snippets rendered for each interface."""

from __future__ import annotations

import html

from paperwire.search.query import KeywordQuery, parse_query
from paperwire.store.base import Fragment, SearchHit, Store

MAX_LIMIT = 1000


def keyword_search(
    store: Store, text: str | KeywordQuery, limit: int = 20, offset: int = 0
) -> list[SearchHit]:
    """BM25-ranked papers for a query (QueryError when it has nothing to search)."""
    query = parse_query(text) if isinstance(text, str) else text
    limit = max(1, min(limit, MAX_LIMIT))
    return store.keyword_search(query, limit=limit, offset=max(0, offset))


def plain(fragments: list[Fragment]) -> str:
    """Snippet text without marks."""
    return "".join(f.text for f in fragments)


def marked_html(fragments: list[Fragment]) -> str:
    """Snippet as escaped HTML with matched words in <mark>."""
    return "".join(
        f"<mark>{html.escape(f.text)}</mark>" if f.hit else html.escape(f.text) for f in fragments
    )


def marked_ansi(fragments: list[Fragment]) -> str:
    """Snippet for a terminal, matched words in bold."""
    return "".join(f"\033[1m{f.text}\033[0m" if f.hit else f.text for f in fragments)
