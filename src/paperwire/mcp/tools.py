"""The tools' work: each calls the use case the JSON API's route calls (web.usecases,
web.usecases.collections, cite) and shapes the answer for an agent — every paper with
its key (to pass back to `paper`, `similar`, `save`, `dismiss`) and the URL of its page
here (for a person). Nothing here reaches the store past the use cases.

This is the one module of the MCP layer that imports the web's use cases."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from paperwire import ranking
from paperwire.cite import bibtex
from paperwire.errors import UserError
from paperwire.models import FeedEntry, Paper, User
from paperwire.presentation import author_line, paper_url
from paperwire.search.results import plain
from paperwire.store.collections import Collection
from paperwire.web.paper_extras import extras_view
from paperwire.web.schemas import paper_out
from paperwire.web.security import API_TOKEN_PREFIX
from paperwire.web.services import Services
from paperwire.web.usecases import accounts, feed, papers
from paperwire.web.usecases import collections as collection_cases
from paperwire.web.usecases import search as search_cases

ACCEPTED_IDS = (
    "a paperwire key (as the other tools return it), an arXiv id (2401.12345, "
    "2401.12345v2, hep-th/9901001), an arXiv URL (https://arxiv.org/abs/2401.12345) or "
    "this site's paper page URL"
)
NO_TOKEN = (
    "this tool needs a personal API token. Make one with `paperwire users token EMAIL` "
    "(or on the account page, API tokens), then send it as 'Authorization: Bearer pw_…' "
    "over HTTP, or set PAPERWIRE_TOKEN=pw_… for `paperwire mcp` over stdio"
)


class ToolProblemError(Exception):
    """An error the agent can act on (the message says what to do)."""


def reader_of(services: Services, token: str | None) -> User | None:
    """The owner of a personal API token (the API's own check); None without one."""
    if not token:
        return None
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > 128:
        raise ToolProblemError(
            "the token is not a personal API token (they start with 'pw_'). " + NO_TOKEN
        )
    try:
        return accounts.token_user(services, token)
    except UserError as exc:
        raise ToolProblemError(f"{exc}. " + NO_TOKEN) from exc


def need(reader: User | None) -> User:
    """The reader, or the actionable error of a personal tool called without a token."""
    if reader is None:
        raise ToolProblemError(NO_TOKEN)
    return reader


def _base(services: Services) -> str:
    return services.settings.base_url.rstrip("/")


def _rich(paper: Paper) -> dict[str, Any]:
    """A paper's upstream fields in brief, as its card shows them (the TL;DR, keywords,
    the top code repository's stars, the organization, "used by N models"): the same
    view (web.paper_extras.extras_view) the pages, the API's `upstream` block and the
    Atom entries read. Empty fields are left out, so a list stays short."""
    view = extras_view(paper)
    found: dict[str, Any] = {
        "summary": view.summary,
        "keywords": [t.name for t in view.keywords] or None,
        "code": view.code[0].url if view.code else None,
        "stars": view.stars,
        "project_page": view.project_page,
        "organization": view.organization["fullname"] if view.organization else None,
        "models": view.models,
        "datasets": view.datasets,
        "spaces": view.spaces,
    }
    return {name: value for name, value in found.items() if value is not None}


def brief(services: Services, entry: FeedEntry) -> dict[str, Any]:
    """A paper as a list shows it (with its upstream fields in brief)."""
    paper = entry.paper
    return {
        "key": paper.key,
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "authors": author_line(paper),
        "published": paper.published.isoformat() if paper.published else None,
        "upvotes": entry.upvotes,
        "url": _base(services) + paper_url(paper.key),
        "arxiv_url": paper.arxiv_url,
        **_rich(paper),
    }


def _key_of(services: Services, text: str) -> str:
    """The key or id in `text`, this site's paper page URL unwrapped."""
    text = text.strip()
    base = _base(services)
    if text.startswith(base + "/papers/"):
        return unquote(urlsplit(text).path.removeprefix("/papers/"))
    return text


def _entry(services: Services, key: str, user: User | None) -> FeedEntry:
    if not key.strip() or len(key) > 300:
        raise ToolProblemError(f"give one paper id: {ACCEPTED_IDS}")
    try:
        return papers.paper_entry(services, _key_of(services, key), user)
    except UserError as exc:
        raise ToolProblemError(f"no paper {key[:200]!r} here. Accepted: {ACCEPTED_IDS}") from exc


def _problem(exc: UserError) -> ToolProblemError:
    return ToolProblemError(str(exc))


# -- public tools ------------------------------------------------------------------------


def search(
    services: Services,
    user: User | None,
    query: str,
    mode: str,
    category: str | None,
    year_from: int | None,
    year_to: int | None,
    limit: int,
) -> dict[str, Any]:
    """Hybrid, keyword or meaning search (the API's /search)."""
    request = search_cases.SearchRequest(query, mode, category, year_from, year_to, 1, limit)  # type: ignore[arg-type]
    try:
        found = search_cases.run_search(services, request, user)
    except UserError as exc:
        raise _problem(exc) from exc
    return {
        "results": [
            {**brief(services, entry), "score": round(hit.score, 4), "snippet": plain(hit.snippet)}
            for hit, entry in zip(found.hits, found.entries, strict=True)
        ],
        "more": found.has_more,
        "did_you_mean": found.suggestion,
        "corrected_from": found.corrected_from,
        "search_url": f"{_base(services)}/search?{urlencode({'q': query, 'mode': mode})}",
    }


def daily(services: Services, user: User | None, day: str | None) -> dict[str, Any]:
    """The papers listed for a day (the API's /daily), most upvoted first."""
    if day:
        try:
            when = date.fromisoformat(day)
        except ValueError as exc:
            raise ToolProblemError(f"date {day[:40]!r}: use YYYY-MM-DD, e.g. 2026-11-23") from exc
    else:
        when = feed.home_day(services)
    try:
        page = feed.daily(services, when, "day", "upvotes", 1, user)
    except UserError as exc:
        raise _problem(exc) from exc
    return {
        "date": when.isoformat(),
        "papers": [brief(services, e) for e in page.entries],
        "total": page.total,
        "earlier": page.earlier.isoformat() if page.earlier else None,
        "later": page.later.isoformat() if page.later else None,
        "page_url": f"{_base(services)}/?date={when.isoformat()}",
    }


def trending(services: Services, user: User | None, period: str, limit: int) -> dict[str, Any]:
    """Trending papers (the API's /trending): the week's, or those listed in the last
    day, by upvotes with time decay."""
    ranked = feed.trending(services, feed.MAX_PAGE, user)
    if period == "day":
        since = services.clock().date()
        ranked = [
            (e, s)
            for e, s in ranked
            if e.submission is not None and (since - e.submission.day).days <= 1
        ]
    return {
        "period": period,
        "papers": [
            {**brief(services, entry), "score": round(score, 6)} for entry, score in ranked[:limit]
        ],
        "formula": ranking.FORMULA,
        "page_url": f"{_base(services)}/trending",
    }


def paper(services: Services, user: User | None, key: str) -> dict[str, Any]:
    """One paper in full: the API's record (with its `upstream` block: TL;DR, keywords
    and topics, code with stars, project page, organization, linked models/datasets/
    Spaces, arXiv comments and journal ref, each field's source), its BibTeX and links."""
    entry = _entry(services, key, user)
    record = paper_out(services.settings.base_url, entry).model_dump(mode="json")
    found = entry.paper
    view = extras_view(found)
    return {
        **record,
        "bibtex": bibtex(found),
        "links": {
            "page": record["url"],
            "arxiv": found.arxiv_url,
            "pdf": found.pdf_url,
            "code": [repo.url for repo in view.code],
            "project_page": view.project_page,
            "doi": f"https://doi.org/{found.doi}" if found.doi else None,
        },
    }


def similar(services: Services, user: User | None, key: str, limit: int) -> dict[str, Any]:
    """The papers nearest in meaning to one paper (the API's /papers/{key}/similar)."""
    entry = _entry(services, key, user)
    found = papers.similar_entries(services, entry.paper.key, limit)
    feed.mark_voted(services, found, user)
    result: dict[str, Any] = {"key": entry.paper.key, "papers": [brief(services, e) for e in found]}
    if not found:
        result["note"] = (
            "no similar papers: this paper (or this site) has no meaning vectors yet; "
            "`paperwire embed` makes them"
        )
    return result


# -- personal tools ----------------------------------------------------------------------


def _collection(c: Collection) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "size": c.size,
        "profile": c.is_profile,
        "description": c.description,
    }


def recommendations(
    services: Services, reader: User, collection: int | None, limit: int
) -> dict[str, Any]:
    """Recommendations for one of the reader's profiles (the API's /recommendations)."""
    try:
        found = (
            collection_cases.default_profile(services, reader)
            if collection is None
            else collection_cases.owned(services, reader, collection)
        )
        recs = collection_cases.recommendations(services, reader, found, limit)
    except UserError as exc:
        raise _problem(exc) from exc
    pairs = collection_cases.recommended_entries(services, recs)
    return {
        "collection": _collection(found),
        "papers": [
            {**brief(services, entry), "why": rec.why, "score": round(rec.score, 4)}
            for entry, rec in pairs
        ],
        "page_url": f"{_base(services)}/for-you",
    }


def collections(services: Services, reader: User, collection: int | None) -> dict[str, Any]:
    """The reader's collections; with an id, that collection's papers."""
    try:
        if collection is None:
            return {
                "collections": [
                    _collection(c) for c in collection_cases.collections(services, reader)
                ],
                "page_url": f"{_base(services)}/collections",
            }
        found = collection_cases.owned(services, reader, collection)
        items = collection_cases.items(services, found)
    except UserError as exc:
        raise _problem(exc) from exc
    entries = services.store.entries([item.paper for item in items])
    return {
        "collection": _collection(found),
        "papers": [
            {**brief(services, entry), "note": item.note}
            for entry, item in zip(entries, items, strict=True)
        ],
        "page_url": f"{_base(services)}/collections/{found.id}",
    }


def save(services: Services, reader: User, key: str, collection: int | None) -> dict[str, Any]:
    """Save a paper to one of the reader's collections (the Reading list by default)."""
    entry = _entry(services, key, reader)
    try:
        found = collection_cases.save(services, reader, collection, entry.paper.key)
    except UserError as exc:
        raise _problem(exc) from exc
    return {"saved": entry.paper.key, "collection": _collection(found)}


def dismiss(services: Services, reader: User, key: str, reason: str) -> dict[str, Any]:
    """ "Not interested": the paper is never recommended again."""
    entry = _entry(services, key, reader)
    try:
        collection_cases.give_feedback(services, reader, entry.paper.key, "not_interested", reason)
    except UserError as exc:
        raise _problem(exc) from exc
    return {"dismissed": entry.paper.key, "reason": reason}


def saved_searches(services: Services, reader: User) -> dict[str, Any]:
    """The searches the reader's digests follow."""
    found = []
    for subscription in services.store.subscriptions_of(reader.email):
        for s in subscription.searches:
            link = f"{_base(services)}/search?{urlencode({'q': s.query, 'mode': s.mode})}"
            found.append(
                {
                    "query": s.query,
                    "mode": s.mode,
                    "category": s.category,
                    "year_from": s.year_from,
                    "year_to": s.year_to,
                    "frequency": subscription.frequency,
                    "status": subscription.status,
                    "search_url": link,
                }
            )
    return {"saved_searches": found, "manage_url": f"{_base(services)}/account"}
