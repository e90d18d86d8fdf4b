"""The use cases of the web: what the pages, the API and the feeds show and do, written
once for all three — the daily feed, trending, search, a paper with its similar papers,
submitting, voting, curating, signing in and out, the account, API tokens and digest
subscriptions. Routes parse the request, call one of these and render; no route reaches
the store past this module."""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Literal, get_args
from urllib.parse import urlencode

from paperwire.deployment import upload_limits
from paperwire.digest.addresses import normalise_email
from paperwire.digest.subscribe import (
    SubscriptionError,
    TooManyConfirmationsError,
    check_profile,
    confirm,
    subscribe,
    validate,
)
from paperwire.errors import UserError
from paperwire.ingest import parse_any
from paperwire.ingest.common import ParseError
from paperwire.ingest.fetch import ArxivQuery, FetchError, fetch_arxiv_api
from paperwire.ingest.load import cleaned
from paperwire.models import (
    Author,
    FeedEntry,
    Paper,
    SavedSearch,
    Subscription,
    User,
    normalise_arxiv_id,
)
from paperwire.querylang import QueryError, parse_query, stem, with_filters
from paperwire.ranking import rank_trending, window_start
from paperwire.search import spelling
from paperwire.search.hybrid import Mode, NotEmbeddedError, embed_and_save, search, similar
from paperwire.search.lexical import LexicalIndex
from paperwire.search.results import SearchHit
from paperwire.search.spelling import Correction
from paperwire.store.base import FeedOrder
from paperwire.tokens import issue_api_token, read_subscription_token, subscription_token
from paperwire.web.paper_extras import STARS_DEPTH, by_stars
from paperwire.web.security import API_TOKEN_PREFIX, hash_token, new_token
from paperwire.web.services import Services

log = logging.getLogger(__name__)

View = Literal["day", "week", "month"]
VIEWS: tuple[View, ...] = get_args(View)
PAGE_SIZE = 30
MAX_PAGE = 1000
# Search results are served up to this rank and no further, pages and API alike: ranking
# a deeper page costs the work of every page before it (an API cursor at offset 100,000
# took 28 s of CPU on a 200k-paper store; at 1,000 it is the cost of one page).
MAX_SEARCH_RESULTS = 1000
SIGNIN_MINUTES = 15
SESSION_LIFETIME = timedelta(days=30)
SIGNIN_PER_ADDRESS = 5  # links per address per SIGNIN_MINUTES, across all workers


# -- the daily feed -------------------------------------------------------------------


def day_range(day: date, view: View) -> tuple[date, date]:
    """The first and last day a view of `day` covers (weeks start on Monday)."""
    if view == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=6)
    if view == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    return day, day


@dataclass
class DailyPage:
    """One page of the feed for a day, week or month."""

    day: date
    view: View
    order: FeedOrder
    first: date
    last: date
    entries: list[FeedEntry]
    total: int
    page: int
    pages: int
    earlier: date | None
    later: date | None


def daily(
    services: Services, day: date, view: View, order: FeedOrder, page: int, user: User | None
) -> DailyPage:
    """The papers listed for a day (or its week or month), PAGE_SIZE a page."""
    try:
        first, last = day_range(day, view)
    except OverflowError as exc:
        raise UserError(
            f"{day.isoformat()}: its {view} runs past the calendar's end (years 1 to 9999)"
        ) from exc
    page = max(1, min(page, MAX_PAGE))
    entries, total = services.store.feed(first, last, order, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    mark_voted(services, entries, user)
    if view == "day":
        earlier, later = services.store.adjacent_days(day)
    else:  # the neighbouring week or month (none past the calendar's ends)
        earlier = day_range(first - timedelta(days=1), view)[0] if first > date.min else None
        later = last + timedelta(days=1) if last < date.max else None
    if later is not None and later > services.clock().date():
        later = None  # nothing is listed in the future: no link into it
    return DailyPage(
        day, view, order, first, last, entries, total, page,
        max(1, -(-total // PAGE_SIZE)), earlier, later,
    )  # fmt: skip


def home_day(services: Services) -> date:
    """The day the home page shows: today, or (early in the day, or on a quiet site)
    the latest day with papers, so the first page a reader sees is never empty."""
    today = services.clock().date()
    if services.store.feed(today, today, "upvotes", 1, 0)[1]:
        return today
    earlier, _ = services.store.adjacent_days(today)
    return earlier or today


def trending(
    services: Services,
    limit: int,
    user: User | None,
    order: Literal["trending", "discussed"] = "trending",
) -> list[tuple[FeedEntry, float]]:
    """The listings of the last week by decayed upvotes (ranking.py), best first; with
    order "discussed", the whole week's listings by comments (equal counts in trending
    order), each still with its trending score."""
    now = services.clock()
    ranked = rank_trending(services.store.listed_since(window_start(now)), now)
    if order == "discussed":  # a stable sort keeps the trending order among equals
        ranked.sort(key=lambda pair: -pair[0].comments)
    ranked = ranked[:limit]
    mark_voted(services, [entry for entry, _ in ranked], user)
    return ranked


def mark_voted(services: Services, entries: list[FeedEntry], user: User | None) -> None:
    """Set `voted` on the entries this user has upvoted."""
    if user is None or not entries:
        return
    mine = services.store.voted_keys(user.id, [e.paper.key for e in entries])
    for entry in entries:
        entry.voted = entry.paper.key in mine


# -- search ---------------------------------------------------------------------------


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
            if query.sort == "stars":  # issue 29: reorder the best STARS_DEPTH by stars
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
    suggestion = did_you_mean(services, request.q) if request.mode != "semantic" else None
    if not hits and suggestion is not None:
        # Nothing matched the words as typed: show what the corrected words match.
        rescued = run_search(services, replace(request, q=suggestion), user)
        if rescued.hits:
            rescued.corrected_from = request.q
            rescued.suggestion = suggestion
            return rescued
    entries = services.store.entries([hit.paper for hit in hits])
    mark_voted(services, entries, user)
    return SearchResult(hits, entries, more, suggestion)


_WORD = re.compile(r"[^\W\d_]+")


def did_you_mean(services: Services, q: str) -> str | None:
    """The query with each word no paper holds replaced by the nearest word of the
    keyword index's vocabulary (search.spelling), written as the papers write it; None
    when every word is known or nothing is near (and on an index with no vocabulary to
    walk)."""
    index = services.engine.lexical
    if not isinstance(index, LexicalIndex):
        return None
    try:
        query = parse_query(q)
    except QueryError:
        return None
    typed = {w for term in query.positive for w in term.words if not term.prefix}
    changed = q
    found = False
    for word in sorted(typed):
        correction = spelling.correct(index, word)
        if correction is None:
            continue
        fix = _surface_word(services, index, correction)
        # The fix is letters only (a word of the papers, or an index term).
        changed = re.sub(rf"(?i)\b{re.escape(word)}\b", fix, changed)
        found = True
    return changed if found and changed != q else None


def _surface_word(services: Services, index: LexicalIndex, correction: Correction) -> str:
    """The word papers write for an indexed stem ("transform" -> "transformer", as the
    typo suggests): the commonest word with that stem in a few papers holding it, the
    nearest to the typo among equals."""
    pids = [pid for pid, _ in index.search(parse_query(correction.term), 20)]
    counts: dict[str, int] = {}
    for paper in services.store.get_papers(pids).values():
        for word in _WORD.findall(f"{paper.title} {paper.abstract}"):
            lowered = word.lower()
            if stem(lowered) == correction.term:
                counts[lowered] = counts.get(lowered, 0) + 1
    if not counts:
        return correction.term
    typo = correction.word.lower()
    return min(counts, key=lambda w: (spelling.distance(typo, w, 10), -counts[w], w))


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


def similar_entries(
    services: Services, key: str, limit: int = 8, explain: bool = False
) -> list[FeedEntry]:
    """The papers nearest in meaning (empty when the model is unavailable). With
    `explain` (the API), a paper with no vector yet is UserError(503) saying so and how
    one is made, not an empty answer."""
    if services.engine.embedder is None:
        return []
    try:
        hits = similar(services.engine, key, limit)
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


# -- changing things ------------------------------------------------------------------


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


# -- signing in -----------------------------------------------------------------------


def check_email(email: str) -> str:
    """A plausible address, lower-cased; UserError otherwise."""
    try:
        return normalise_email(email)
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def send_signin_link(services: Services, email: str, next_path: str) -> None:
    """Email a single-use sign-in link valid for SIGNIN_MINUTES minutes."""
    email = check_email(email)
    now = services.clock()
    window = timedelta(minutes=SIGNIN_MINUTES)
    if not services.store.hit_limit("signin-address", email, SIGNIN_PER_ADDRESS, window, now):
        raise UserError("too many sign-in links for this address; try again later", 429)
    token = new_token()
    services.store.add_login_token(
        hash_token(token), email, now, now + timedelta(minutes=SIGNIN_MINUTES)
    )
    # Links are built from the configured base URL, never from the request's Host.
    base = services.settings.base_url.rstrip("/")
    link = f"{base}/signin/confirm?{urlencode({'token': token, 'next': next_path})}"
    message = EmailMessage()
    message["To"] = email
    message["Subject"] = "Your paperwire sign-in link"
    message.set_content(
        f"Open this link to sign in to paperwire:\n\n{link}\n\n"
        f"It works once, for {SIGNIN_MINUTES} minutes. If you did not ask for it, ignore "
        "this message: nothing happens without the link.\n"
    )
    services.mailer.send(message)


def signin_link_address(services: Services, token: str) -> str | None:
    """The address a sign-in link would sign in as (shown before it is used, so that a
    forwarded link does not sign its opener in as someone else unawares); None when the
    link is used, expired or unknown."""
    if not token or len(token) > 128:
        return None
    return services.store.login_token_email(hash_token(token), services.clock())


def complete_signin(services: Services, token: str) -> tuple[User, str]:
    """Spend a sign-in link; returns the user and a new session token. UserError when
    the link is unknown, used or expired."""
    now = services.clock()
    email = services.store.use_login_token(hash_token(token), now) if token else None
    if email is None:
        raise UserError("this sign-in link is used, expired or unknown; ask for a new one", 400)
    user = services.store.get_or_create_user(email, now)
    session = new_token()
    services.store.add_session(hash_token(session), user.id, now, now + SESSION_LIFETIME)
    return user, session


def sign_out(services: Services, session: str | None) -> None:
    """End a browser session (nothing to do without one)."""
    if session:
        services.store.delete_session(hash_token(session))


def session_user(services: Services, session: str) -> User | None:
    """The reader a session cookie belongs to, if it is current."""
    if not session or len(session) > 128:
        return None
    return services.store.session_user(hash_token(session), services.clock())


def token_user(services: Services, token: str) -> User:
    """The owner of a personal API token; UserError(401) for an unknown or revoked one."""
    user = services.store.api_token_user(hash_token(token))
    if user is None:
        raise UserError("unknown or revoked API token", 401)
    return user


# -- readers and accounts -------------------------------------------------------------


@dataclass
class Profile:
    """A reader's public page: their submissions and upvotes."""

    person: User
    submitted: list[FeedEntry]
    upvoted: list[FeedEntry]


def profile(services: Services, handle: str, viewer: User | None) -> Profile:
    """The public page of a reader by handle; UserError(404) when unknown."""
    person = services.store.get_user_by_handle(handle)
    if person is None:
        raise UserError(f"no reader called {handle[:60]!r}", 404)
    return _profile(services, person, viewer)


def _profile(services: Services, person: User, viewer: User | None) -> Profile:
    submitted = services.store.user_submissions(person.id, viewer=viewer)
    upvoted = services.store.user_upvoted(person.id, viewer=viewer)
    mark_voted(services, submitted + upvoted, viewer)
    return Profile(person, submitted, upvoted)


@dataclass
class Account:
    """What the account page shows a reader about themselves."""

    profile: Profile
    tokens: list[tuple[str, str, str]]  # (id, name, created)
    subscriptions: list[tuple[Subscription, str]]  # with each one's manage token


def account(services: Services, reader: User) -> Account:
    """The reader's submissions, upvotes, API tokens and digest subscriptions."""
    return Account(
        _profile(services, reader, reader),
        services.store.list_api_tokens(reader.id),
        [
            (sub, subscription_token(services.secret, sub.id, services.clock().date()))
            for sub in services.store.subscriptions_of(reader.email)
        ],
    )


def create_api_token(services: Services, reader: User, name: str) -> str:
    """A new personal API token (returned once; only its hash is kept)."""
    return issue_api_token(services.store, reader.id, name, services.clock())


def fresh_api_token(services: Services, reader: User, token: str) -> str | None:
    """A token just created, to show once: only if it is a current token of this reader
    (a cookie left from someone else's session shows nothing)."""
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > 128:
        return None
    owner = services.store.api_token_user(hash_token(token))
    return token if owner is not None and owner.id == reader.id else None


def revoke_api_token(services: Services, reader: User, token_id: str) -> None:
    """Revoke one of the reader's own tokens (another reader's id changes nothing)."""
    services.store.delete_api_token(reader.id, token_id)


def recent_papers(
    services: Services, after: int, limit: int, user: User | None
) -> list[tuple[int, FeedEntry]]:
    """Papers in the order they were stored, after a position (API paging)."""
    rows = services.store.page_papers(after, limit)
    mark_voted(services, [entry for _, entry in rows], user)
    return rows


# -- digest subscriptions -------------------------------------------------------------


def start_subscription(
    services: Services,
    email: str,
    frequency: str,
    trending: bool,
    searches: list[SavedSearch],
    user: User | None,
    requester: str | None = None,
    recommended: bool = False,
    profile_id: int | None = None,
) -> tuple[Subscription, str | None]:
    """Store a sign-up and mail its confirmation link (a signed-in reader's own address
    is active at once). Returns it with its manage token when active; UserError when
    the request is not one that can be kept, 429 past the confirmation-mail limits
    (per address, and per `requester`: the client's address)."""
    try:
        made = subscribe(
            services.store, services.mailer, services.settings, services.clock(),
            email, frequency, trending, searches, user, requester, recommended, profile_id,
        )  # fmt: skip
    except TooManyConfirmationsError as exc:
        raise UserError(str(exc), 429) from exc
    except SubscriptionError as exc:
        raise UserError(str(exc)) from exc
    today = services.clock().date()
    token = subscription_token(services.secret, made.id, today) if made.status == "active" else None
    return made, token


def confirm_subscription(services: Services, token: str) -> tuple[Subscription, str]:
    """Activate a subscription by its confirmation link; returns it with its manage token."""
    made = confirm(services.store, token, services.clock())
    if made is None:
        raise UserError("this confirmation link is used, expired or unknown; subscribe again")
    return made, subscription_token(services.secret, made.id, services.clock().date())


def owned_subscription(services: Services, token: str, allow_expired: bool = False) -> Subscription:
    """The subscription a signed, unexpired manage link names (`allow_expired`: any
    genuine link, for unsubscribing); UserError(404) otherwise."""
    subscription_id = read_subscription_token(
        services.secret, token, services.clock().date(), allow_expired
    )
    subscription = services.store.get_subscription(subscription_id) if subscription_id else None
    if subscription is None:
        raise UserError(
            "this subscription link is not valid or has expired; "
            "your latest digest has a fresh one",
            404,
        )
    return subscription


def subscription_owner(services: Services, subscription: Subscription) -> User | None:
    """The reader whose own address a subscription is (who may get recommendations)."""
    owner = services.store.get_user(subscription.user_id) if subscription.user_id else None
    return owner if owner is not None and owner.email == subscription.email else None


def change_subscription(
    services: Services,
    token: str,
    frequency: str,
    trending: bool,
    searches: list[SavedSearch],
    recommended: bool = False,
    profile_id: int | None = None,
) -> tuple[Subscription, list[SavedSearch]]:
    """Save a manage form; returns the subscription as stored and the searches kept.
    UserError (with the subscription unchanged) for choices that cannot be kept."""
    subscription = owned_subscription(services, token)
    try:
        _, kept = validate(subscription.email, frequency, trending, searches, recommended)
        if recommended:  # the form sends its collection choice whether or not it is ticked
            check_profile(services.store, subscription_owner(services, subscription), profile_id)
    except SubscriptionError as exc:
        raise UserError(str(exc)) from exc
    services.store.update_subscription(
        subscription.id, frequency, trending, kept, recommended,
        profile_id if recommended else None,
    )  # fmt: skip
    return services.store.get_subscription(subscription.id) or subscription, kept


def unsubscribe(services: Services, token: str) -> Subscription:
    """Stop a subscription by its signed link, however old (doing it twice is harmless)."""
    subscription = owned_subscription(services, token, allow_expired=True)
    services.store.unsubscribe(subscription.id)
    return subscription
