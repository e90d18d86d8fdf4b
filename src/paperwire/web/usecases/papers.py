"""One paper and what readers and curators do to it: the paper with its similar papers,
voting, submitting (by arXiv id, by hand, from a file), confirming and hiding, and the
API's list of papers in stored order."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from paperwire.deployment.imports import upload_limits
from paperwire.errors import UserError
from paperwire.ingest import parse_any
from paperwire.ingest.common import ParseError
from paperwire.ingest.fetch import ArxivQuery, FetchError, fetch_arxiv_api
from paperwire.ingest.load import cleaned
from paperwire.models import Author, FeedEntry, Paper, User, normalise_arxiv_id
from paperwire.search.hybrid import NotEmbeddedError, embed_and_save, similar
from paperwire.web.services import Services
from paperwire.web.usecases.feed import mark_voted

log = logging.getLogger(__name__)


def similar_entries(
    services: Services, key: str, limit: int = 8, explain: bool = False
) -> list[FeedEntry]:
    """The papers nearest in meaning (empty when the model is unavailable). With
    `explain` (the API), a paper with no vector yet is UserError(503) saying so and how
    one is made, not an empty answer."""
    if services.engine.embedder is None:
        return []
    try:
        # `current`: a change of model retiring the engine's model during the call
        # (hybrid.similar) answers with the model search moved to.
        hits = similar(services.engine, key, limit, current=lambda: services.engine)
    except KeyError:
        return []
    except NotEmbeddedError as exc:
        if explain:
            raise UserError(str(exc), 503) from exc
        return []
    except (RuntimeError, OSError) as exc:
        log.warning("similar papers unavailable: %s", exc)
        return []
    return services.store.entries([hit.paper for hit in hits])


def paper_entry(services: Services, key: str, user: User | None) -> FeedEntry:
    """One paper with its upvotes and listing; UserError(404) when unknown, or when it is
    unconfirmed and `user` is not one who may see it (store.visibility): a paper only
    readers have sent is not shown to anyone else, nor is it said to exist."""
    entry = services.store.entry(key, user)
    if entry is None:
        raise UserError(f"no paper {key[:200]!r} here", 404)
    mark_voted(services, [entry], user)
    return entry


def vote(services: Services, user: User, key: str, value: bool | None) -> tuple[bool, int]:
    """Cast, withdraw or toggle an upvote; UserError(404) for an unknown paper (or one
    the reader may not see)."""
    if services.store.entry(key, user) is None:
        raise UserError(f"no paper {key[:200]!r} here", 404)
    try:
        result = services.store.set_vote(user.id, key, value, services.clock())
    except KeyError as exc:
        raise UserError(f"no paper {key[:200]!r} here", 404) from exc
    services.pages.clear()
    return result


def submit(services: Services, user: User, text: str) -> tuple[FeedEntry, bool]:
    """List a paper on today's feed by arXiv id or URL, fetching it from arXiv when it is
    not stored yet, or stored only as readers sent it (arXiv's record then replaces
    theirs and confirms the paper). Returns (entry, newly listed); an already-listed
    paper is returned as it is. Only arXiv's own hosts are ever contacted."""
    arxiv_id = normalise_arxiv_id(text.strip()) if len(text) <= 300 else None
    if arxiv_id is None:
        raise UserError(
            f"{text[:80]!r} is not an arXiv id or arXiv URL "
            "(for example 2401.12345 or https://arxiv.org/abs/2401.12345)"
        )
    store = services.store
    entry = store.entry(arxiv_id)  # confirmed papers only
    if entry is None:
        try:
            with services.outbound.claim(user.id):
                fetch_arxiv_api(
                    services.arxiv, store, ArxivQuery(id_list=[arxiv_id]), max_results=1
                )
        except FetchError as exc:
            log.warning("arXiv unreachable for %s: %s", arxiv_id, exc)
            raise ArxivUnreachableError(arxiv_id) from exc
        entry = store.entry(arxiv_id)
        if entry is None:
            raise UserError(f"arXiv has no paper {arxiv_id}", 404)
        _embed_now(services, arxiv_id)
    return _list(services, user, entry)


class ArxivUnreachableError(UserError):
    """arXiv did not answer in time for a submission (the page offers a retry and the
    form to add the paper by hand)."""

    def __init__(self, arxiv_id: str) -> None:
        super().__init__(
            f"arXiv did not answer for {arxiv_id} just now. Try again in a minute, "
            "or add the paper by hand below.",
            504,
        )
        self.arxiv_id = arxiv_id


MAX_TITLE = 500
MAX_ABSTRACT = 10_000
MAX_AUTHORS = 200


@dataclass
class ManualPaper:
    """A paper as a reader types it when arXiv cannot be asked: title, authors (one a
    line, or separated by commas or "and"), abstract, link (an arXiv or other http(s)
    URL, optional)."""

    title: str
    authors: str = ""
    abstract: str = ""
    link: str = ""

    def paper(self) -> Paper:
        """The Paper to store; UserError naming the field that cannot be kept."""
        title = " ".join(self.title.split())
        if not title:
            raise UserError("the title is empty: a paper needs one")
        if len(title) > MAX_TITLE:
            raise UserError(f"the title is over {MAX_TITLE} characters")
        abstract = self.abstract.strip()
        if len(abstract) > MAX_ABSTRACT:
            raise UserError(f"the abstract is over {MAX_ABSTRACT:,} characters")
        names = [
            " ".join(name.split())
            for name in re.split(r"\n|,|;|\band\b", self.authors)
            if name.strip()
        ]
        if len(names) > MAX_AUTHORS:
            raise UserError(f"more than {MAX_AUTHORS} authors: give the first ones")
        link = self.link.strip()
        arxiv_id = normalise_arxiv_id(link) if link else None
        if link and arxiv_id is None and not re.fullmatch(r"https?://[^\s<>\"]+", link):
            raise UserError(f"the link {link[:80]!r} is not an http(s) URL")
        return Paper(
            title=title,
            abstract=abstract,
            arxiv_id=arxiv_id,
            authors=[Author(name) for name in names],
            url=None if arxiv_id else (link or None),
            sources=["manual"],
        )


def add_by_hand(services: Services, user: User, typed: ManualPaper) -> tuple[FeedEntry, bool]:
    """Keep a paper a reader typed in as the reader's record and list it on today's feed
    (see :func:`_add_and_list`). Returns (entry, newly listed)."""
    return _add_and_list(services, user, typed.paper())


MAX_FILE_BYTES = 48 * 1024


def add_from_file(services: Services, user: User, name: str, data: bytes) -> tuple[FeedEntry, bool]:
    """Store the one paper a file describes (BibTeX, JSON Lines, arXiv Atom — any format
    `paperwire import` reads, detected from the content) and list it on today's feed.
    UserError naming the file when it is empty, unreadable or holds more than one paper
    (many papers are an import, not a submission)."""
    label = (name or "the file")[:80]
    if not data.strip():
        raise UserError(f"{label} is empty")
    if len(data) > MAX_FILE_BYTES:
        raise UserError(f"{label} is over {MAX_FILE_BYTES // 1024} KB: one paper's record is less")
    try:
        limits = upload_limits(services.settings)
        papers = [p for p in parse_any(data, label, limits=limits) if isinstance(p, Paper)]
    except ParseError as exc:
        raise UserError(f"{label} could not be read: {exc.message}") from exc
    if not papers:
        raise UserError(f"{label} holds no paper this site can read (title missing?)")
    if len(papers) > 1:
        raise UserError(
            f"{label} holds {len(papers)} papers; submit one at a time "
            "(`paperwire import` takes many)"
        )
    return _add_and_list(services, user, papers[0])


def _add_and_list(services: Services, user: User, paper: Paper) -> tuple[FeedEntry, bool]:
    """A reader's record, linked to the stored paper it names or kept as a new
    unconfirmed one (never changing a stored paper: models.merge_papers), and listed on
    today's feed as the reader's submission: one transaction (Store.link_reader_records),
    so a submission that fails writes nothing. An unconfirmed paper stays out of the
    public lists until a trusted source or a curator confirms it."""
    now = services.clock()
    links = services.store.link_reader_records(user, [cleaned(paper)], now, list_on=now.date())
    link = links[0] if links else None
    if link is not None and link.pending:
        raise UserError(
            f"a paper matching {paper.title[:80]!r} is awaiting a curator's confirmation; "
            "submit it by its arXiv id, or wait for it to be confirmed",
            409,
        )
    entry = services.store.entry(link.key, user) if link and link.key else None
    if entry is None:  # a record with nothing to name it by: nothing was written
        raise UserError(f"the paper {paper.title[:80]!r} has no title or id to keep it by")
    if link is not None and link.listed:
        services.pages.clear()
    return entry, bool(link and link.listed)


def _list(services: Services, user: User, entry: FeedEntry) -> tuple[FeedEntry, bool]:
    """List a stored paper on today's feed as the reader's submission, unless it is
    listed already; (entry, newly listed)."""
    if entry.submission is not None:
        return entry, False
    now = services.clock()
    listed, created = services.store.submit(entry.paper.key, now.date(), user.id, now)
    services.pages.clear()
    return listed, created


def _embed_now(services: Services, key: str) -> None:
    """Embed one new paper so search by meaning finds it at once (best effort)."""
    try:
        engine = services.engine
        if engine.embedder is None or engine.vectors is None:
            return
        ids = services.store.paper_ids([key])
        papers = services.store.get_papers(list(ids.values()))
        embed_and_save(services.store, engine.embedder, list(papers.items()))
    except (RuntimeError, OSError) as exc:
        log.warning("could not embed %s now (run `paperwire embed`): %s", key, exc)


def confirm_paper(services: Services, user: User, key: str) -> Paper:
    """A curator confirms a paper only readers have sent: it joins the public feed,
    search and feeds as it stands (and is embedded now, best effort)."""
    if not user.is_curator:
        raise UserError("only curators can confirm papers", 403)
    paper = services.store.confirm_paper(key) if len(key) <= 300 else None
    if paper is None:
        raise UserError(f"no paper {key[:200]!r} here", 404)
    services.pages.clear()
    _embed_now(services, paper.key)
    return paper


def hide(services: Services, user: User, key: str, hidden: bool) -> None:
    """A curator hides (or shows again) a listing."""
    if not user.is_curator:
        raise UserError("only curators can hide submissions", 403)
    if not services.store.hide_submission(key, user.id, hidden):
        raise UserError(f"{key[:200]!r} is not listed in the feed", 404)
    services.pages.clear()


def recent_papers(
    services: Services, after: int, limit: int, user: User | None
) -> list[tuple[int, FeedEntry]]:
    """Papers in the order they were stored, after a position (API paging)."""
    rows = services.store.page_papers(after, limit)
    mark_voted(services, [entry for _, entry in rows], user)
    return rows
