"""Search as the pages, the API and the feeds run it: the form's fields as the query
language, paging up to a bound, the index check, the "did you mean" rescue, and a box that
holds only an arXiv id."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from paperwire.errors import UserError
from paperwire.models import FeedEntry, User, normalise_arxiv_id
from paperwire.querylang import KeywordQuery, QueryError, parse_query, with_filters
from paperwire.search.hybrid import Mode, search
from paperwire.search.lexical import LexicalIndex
from paperwire.search.results import SearchHit
from paperwire.search.spelling import did_you_mean
from paperwire.web.paper_extras import STARS_DEPTH, by_stars
from paperwire.web.services import Services
from paperwire.web.usecases.feed import MAX_PAGE, PAGE_SIZE, mark_voted

log = logging.getLogger(__name__)

# Search results are served up to this rank and no further, pages and API alike: ranking
# a deeper page costs the work of every page before it (an API cursor at offset 100,000
# took 28 s of CPU on a 200k-paper store; at 1,000 it is the cost of one page).
MAX_SEARCH_RESULTS = 1000


@dataclass
class SearchRequest:
    """A search as the form and the API take it: free text (with the query language's
    filters) plus optional filter fields."""

    q: str
    mode: Mode = "hybrid"
    category: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    page: int = 1
    limit: int = PAGE_SIZE

    def query_text(self) -> str:
        """The query in paperwire's query language (fields become filter terms)."""
        try:
            return with_filters(self.q, self.category, self.year_from, self.year_to)
        except QueryError as exc:
            raise UserError(str(exc)) from exc


@dataclass
class SearchResult:
    """Hits with their feed entries (upvotes, listing), same order; `suggestion` is the
    query with its misspelt words corrected ("did you mean"), and `corrected_from` the
    query as typed when nothing matched it and the hits are the suggestion's."""

    hits: list[SearchHit] = field(default_factory=list)
    entries: list[FeedEntry] = field(default_factory=list)
    has_more: bool = False
    suggestion: str | None = None
    corrected_from: str | None = None
    # How many papers hold the words and pass the filters (None: the keyword index
    # cannot count, PostgreSQL's native one); `by_meaning`: none does, and the hits
    # are the papers closest in meaning, to be shown under their own heading.
    matched: int | None = None
    by_meaning: bool = False
    # Papers a year range left out only for having no date (the page offers them).
    undated: int = 0
    filtered: bool = False  # filters were set: "no paper matches", not "contains"


def run_search(services: Services, request: SearchRequest, user: User | None) -> SearchResult:
    """Hybrid/keyword/meaning search with filters; UserError for a query with nothing
    to search."""
    if not request.q.strip():
        return SearchResult()
    offset = (max(1, min(request.page, MAX_PAGE)) - 1) * request.limit
    if offset + request.limit > MAX_SEARCH_RESULTS:
        raise UserError(
            f"search results are served up to the first {MAX_SEARCH_RESULTS:,}; "
            "narrow the query (a category, a year range, more words) to see others"
        )
    engine = services.engine
    services.indexes.check(engine)  # an index folder deleted under the server is rebuilt
    try:
        query = parse_query(request.query_text())
        try:
            if query.sort == "stars":  # reorder the best STARS_DEPTH by stars
                ranked = search(engine, query, request.mode, STARS_DEPTH, 0)
                hits = by_stars(ranked)[offset : offset + request.limit + 1]
            else:
                hits = search(engine, query, request.mode, request.limit + 1, offset)
        except OSError as exc:  # an index unreadable just now: keywords answer alone
            log.warning("search fell back to keywords: %s", exc)
            services.indexes.check(engine)
            hits = search(engine, query, "lexical", request.limit + 1, offset)
    except QueryError as exc:
        raise UserError(str(exc)) from exc
    more = len(hits) > request.limit
    hits = hits[: request.limit]
    matched, undated = _counts(services, query)
    suggestion = (
        did_you_mean(engine.lexical, services.store, request.q)
        if request.mode != "semantic"
        else None
    )
    if not hits and suggestion is not None:
        # Nothing matched the words as typed: show what the corrected words match.
        rescued = run_search(services, replace(request, q=suggestion), user)
        if rescued.hits:
            rescued.corrected_from = request.q
            rescued.suggestion = suggestion
            return rescued
    entries = services.store.entries([hit.paper for hit in hits])
    mark_voted(services, entries, user)
    by_meaning = matched == 0 and bool(hits) and query.free_text != ""
    filtered = query.filters.active
    return SearchResult(
        hits, entries, more, suggestion, None, matched, by_meaning, undated, filtered
    )


def _counts(services: Services, query: KeywordQuery) -> tuple[int | None, int]:
    """(papers holding the words, undated papers a year range left out) from the
    tantivy keyword index; (None, 0) from an index that cannot count."""
    index = services.engine.lexical
    if not isinstance(index, LexicalIndex):
        return None, 0
    return index.count(query), index.undated_count(query)


@dataclass
class FoundById:
    """A search that was an arXiv id or URL: the id, and the paper if it is here."""

    arxiv_id: str
    entry: FeedEntry | None


def find_by_id(services: Services, q: str) -> FoundById | None:
    """When the search box holds only an arXiv id or URL (``2401.12345``,
    ``arXiv:2401.12345v2``, ``https://arxiv.org/abs/…``), the paper it names (None when
    it is words to search for)."""
    text = q.strip()
    if not text or " " in text or len(text) > 300:
        return None
    arxiv_id = normalise_arxiv_id(text)
    if arxiv_id is None:
        return None
    return FoundById(arxiv_id, services.store.entry(arxiv_id))
