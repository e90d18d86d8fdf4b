"""Topic, author and organization pages, follows and authorship claims (issue 29): the
use cases behind web/routes/people.py (and the feeds and API that show the same).

- A topic page lists the papers of a topic (`topic:` of the query language, so it
  agrees with search on every engine), today's listed ones, and the trending ones.
- An author page gathers the papers whose author list holds a name of the same key
  (people/names.py: accents, case and initials folded), newest first, with their
  co-authors and organizations; where the names under one key suggest several people,
  the page says so and lists the names rather than merge silently.
- Follows (authors, organizations, topics) and claims are private to their reader;
  curators see the claims queue. A confirmed author describes their page with the
  comment rules (size, links from new accounts, curators may hide it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from paperwire import upstream
from paperwire.discussion import markup, rules
from paperwire.errors import UserError
from paperwire.models import FeedEntry, Paper, User
from paperwire.people.follows import Follow, FollowKind, follows_match
from paperwire.people.names import author_slug, key_of_slug, name_key, several_people
from paperwire.querylang import KeywordQuery, QueryError, parse_query
from paperwire.search.lexical import passing_ids, passing_page
from paperwire.store.people import AuthorClaim, AuthorProfile, Byline
from paperwire.topics import CATEGORY_NAMES, categories_for, category_label, slugify, topic_matches
from paperwire.web.services import Services
from paperwire.web.usecases import feed

PAGE_SIZE = 50
# The highest page number an author's, topic's or organization's list is asked for: only a
# bound on the integer (50M papers); a page past the last is the 404 that names how many
# there are. Not feed.MAX_PAGE (1,000): a topic on 55k of 100k papers has 1,100 pages,
# and its pager links to the last.
MAX_PAGE = 1_000_000
TRENDING_SIZE = 10
FETCH_CHUNK = 2000  # papers read at once while an author's candidates are sifted


def _filters(services: Services, query: str) -> KeywordQuery:
    """A filters-only query, its keyword index checked (UserError for a bad query)."""
    try:
        parsed = parse_query(query)
    except QueryError as exc:
        raise UserError(str(exc)) from exc
    services.indexes.check(services.engine)
    return parsed


def _matching_ids(services: Services, query: str) -> list[int]:
    """Every paper a filters-only query lets through, newest first (the keyword index;
    no cap)."""
    return passing_ids(services.store, services.engine.lexical, _filters(services, query))


def _in_order(services: Services, ids: list[int]) -> list[Paper]:
    """The confirmed papers of `ids`, in that order (one gone or unconfirmed since it was
    indexed is left out)."""
    found = services.store.get_papers(ids)
    return [found[i] for i in ids if i in found and found[i].confirmed]


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def _check_page(page: int, total: int, what: str) -> None:
    """UserError 404 for a page past the last, naming how many there are."""
    pages = _pages(total)
    if page > pages:
        raise UserError(
            f"There is no page {page} of {what}: it has {pages} page{'s' if pages != 1 else ''}.",
            404,
        )


def _entries(services: Services, papers: list[Paper], user: User | None) -> list[FeedEntry]:
    entries = services.store.entries(papers)
    feed.mark_voted(services, entries, user)
    return entries


# -- topics -------------------------------------------------------------------------


@dataclass
class TopicPage:
    """A topic: its papers (newest first), today's list and what is trending in it."""

    slug: str
    name: str
    entries: list[FeedEntry]
    today: list[FeedEntry]
    trending: list[FeedEntry]
    following: bool = False
    total: int = 0  # papers with the topic (all of them, counted)
    page: int = 1
    pages: int = 1


def topic_name(slug: str, papers: list[Paper]) -> str:
    """How a topic is shown: its category's human name, else the keyword as a paper
    writes it, else the slug."""
    codes = categories_for(slug)
    if codes:
        names = {CATEGORY_NAMES.get(c, c) for c in codes}
        return (
            f"{names.pop()} ({', '.join(codes)})" if len(names) == 1 else category_label(codes[0])
        )
    for paper in papers:
        for phrase in upstream.value(paper.extras, upstream.KEYWORDS) or []:
            if slugify(phrase) == slug:
                return str(phrase)
    return slug.replace("-", " ")


def topic_page(services: Services, raw: str, user: User | None, page: int = 1) -> TopicPage:
    """A topic's page: its papers newest first, PAGE_SIZE a page, all of them counted
    (UserError 404 for a slug no paper has, or a page past the last)."""
    slug = slugify(raw)
    if not slug:
        raise UserError(f"topic {raw[:60]!r}: not a topic", 404)
    query = _filters(services, f"topic:{slug}")
    offset = (page - 1) * PAGE_SIZE
    total, ids = passing_page(services.store, services.engine.lexical, query, PAGE_SIZE, offset)
    if not total and not categories_for(slug):
        raise UserError(f"no paper has the topic {raw[:60]!r}", 404)
    _check_page(page, total, f"the topic {slug!r}")
    papers = _in_order(services, ids)
    today = services.clock().date()
    listed, _ = services.store.feed(today, today, "upvotes", 500, 0)
    trending = [e for e, _ in feed.trending(services, 500, user) if topic_matches(e.paper, slug)]
    following = user is not None and any(
        f.kind == "topic" and f.target == slug for f in services.store.follows(user.id)
    )
    return TopicPage(
        slug,
        topic_name(slug, papers),
        _entries(services, papers, user),
        [e for e in listed if topic_matches(e.paper, slug)],
        trending[:TRENDING_SIZE],
        following,
        total=total,
        page=page,
        pages=_pages(total),
    )


# -- organizations ------------------------------------------------------------------


@dataclass
class OrganizationPage:
    """An organization upstream files papers under, and its papers (newest first)."""

    name: str
    fullname: str
    entries: list[FeedEntry]
    following: bool = False
    total: int = 0  # its papers (all of them, counted)
    page: int = 1
    pages: int = 1


def organization_page(
    services: Services, name: str, user: User | None, page: int = 1
) -> OrganizationPage:
    """An organization's page: its papers newest first, PAGE_SIZE a page, all counted
    (UserError 404 when no paper names it, or for a page past the last)."""
    name = name[:200]
    total = services.store.count_organization_papers(name)
    if not total:
        raise UserError(f"no paper here is filed under the organization {name[:60]!r}", 404)
    _check_page(page, total, f"the organization {name[:60]!r}")
    papers = services.store.organization_papers(name, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    org = upstream.value(papers[0].extras, upstream.ORGANIZATION) or {"fullname": name}
    following = user is not None and any(
        f.kind == "organization" and f.target == name for f in services.store.follows(user.id)
    )
    return OrganizationPage(
        name,
        org["fullname"],
        _entries(services, papers, user),
        following,
        total=total,
        page=page,
        pages=_pages(total),
    )


# -- authors ------------------------------------------------------------------------


@dataclass
class AuthorPage:
    """The papers of a name (by key), who wrote with it, where they work."""

    slug: str
    key: str
    name: str  # the fullest name written under the key
    names: list[str]  # every way the name is written, most used first
    several: bool  # the names suggest several people under one key
    entries: list[FeedEntry]
    coauthors: list[tuple[str, str, int]]  # (name, slug, papers together)
    organizations: list[tuple[str, str]]  # (upstream name, full name)
    affiliations: list[str]
    claimants: list[str] = field(default_factory=list)  # confirmed readers' handles
    profile: AuthorProfile | None = None
    following: bool = False
    total: int = 0  # papers with the name (all of them, counted)
    page: int = 1
    pages: int = 1


def author_papers(services: Services, key: str) -> tuple[list[Byline], Counter[str]]:
    """The bylines of every paper with an author of name key `key`, newest first
    (undated last), and the names written. The candidates are all the papers holding the
    family name (the keyword index, no cap: a common family name has thousands), sifted
    by key on their bylines alone (store.bylines: three columns, not whole papers)."""
    family = key.split()[-1]
    candidates = _matching_ids(services, f'author:"{family}"')
    found: list[Byline] = []
    written: Counter[str] = Counter()
    for start in range(0, len(candidates), FETCH_CHUNK):
        ids = candidates[start : start + FETCH_CHUNK]
        bylines = services.store.bylines(ids)
        for pid in ids:
            byline = bylines.get(pid)
            if byline is None:  # gone, or unconfirmed, since it was indexed
                continue
            names = [a.name for a in byline.authors if name_key(a.name) == key]
            if names:
                found.append(byline)
                written.update(names)
    return found, written


def author_page(services: Services, slug: str, user: User | None, page: int = 1) -> AuthorPage:
    """An author's page: their papers newest first, PAGE_SIZE a page, all of them
    counted, with co-authors and organizations over all of them (UserError 404 when no
    paper has the name, or for a page past the last)."""
    key = key_of_slug(slug)
    if not key:
        raise UserError(f"author {slug[:60]!r}: not a name", 404)
    bylines, written = author_papers(services, key)
    if not bylines:
        raise UserError(f"no paper here has an author named like {slug[:60]!r}", 404)
    _check_page(page, len(bylines), f"the author {slug[:60]!r}")
    names = [n for n, _ in written.most_common()]
    coauthors: Counter[str] = Counter()
    newest_of_org: dict[str, int] = {}
    affiliations: Counter[str] = Counter()
    for byline in bylines:
        for author in byline.authors:
            if name_key(author.name) == key:
                if author.affiliation:
                    affiliations[author.affiliation] += 1
            else:
                coauthors[author.name] += 1
        if byline.organization:
            newest_of_org.setdefault(byline.organization, byline.id)
    # An organization's full name as its newest paper here gives it.
    newest = services.store.get_papers(list(newest_of_org.values()))
    orgs: dict[str, str] = {}
    for name, pid in newest_of_org.items():
        org = upstream.value(newest[pid].extras, upstream.ORGANIZATION) if pid in newest else None
        orgs[name] = org["fullname"] if org else name
    shown = _in_order(services, [b.id for b in bylines[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]])
    profile = services.store.profile(key)
    if profile is not None and profile.status == "hidden" and not (user and user.is_curator):
        profile = None
    following = user is not None and any(
        f.kind == "author" and f.target == key for f in services.store.follows(user.id)
    )
    return AuthorPage(
        slug=slug,
        key=key,
        name=max(names, key=len),
        names=names,
        several=several_people(names),
        entries=_entries(services, shown, user),
        coauthors=[(n, author_slug(n), c) for n, c in coauthors.most_common(20)],
        organizations=sorted(orgs.items()),
        affiliations=[a for a, _ in affiliations.most_common(10)],
        claimants=sorted({c.handle for c in services.store.confirmed_claimants(key)}),
        profile=profile,
        following=following,
        total=len(bylines),
        page=page,
        pages=_pages(len(bylines)),
    )


# -- follows ------------------------------------------------------------------------


def follow(services: Services, user: User, kind: FollowKind, target: str, on: bool) -> str:
    """Follow (or unfollow) an author (by a page slug), an organization (its name) or a
    topic (a slug); returns the page to go back to. UserError for what does not exist."""
    if kind == "author":
        key = key_of_slug(target)
        if not key:
            raise UserError(f"author {target[:60]!r}: not a name")
        page = f"/authors/{target}"
        stored, label = key, author_page(services, target, user).name
    elif kind == "organization":
        org = organization_page(services, target, user)
        page = f"/organizations/{target}"
        stored, label = target, org.fullname
    else:
        topic = topic_page(services, target, user)
        page = f"/topics/{topic.slug}"
        stored, label = topic.slug, topic.name
    if on:
        try:
            services.store.follow(user.id, kind, stored, label, services.clock())
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    else:
        services.store.unfollow(user.id, kind, stored)
    return page


def followed_since(
    services: Services, user: User, since: datetime, limit: int = 100
) -> list[tuple[FeedEntry, list[Follow]]]:
    """Papers listed since `since` that fall under the reader's follows, with which."""
    follows = services.store.follows(user.id)
    if not follows:
        return []
    found = []
    for entry in services.store.listed_since(since):
        matched = follows_match(follows, entry.paper)
        if matched:
            found.append((entry, matched))
    found.sort(
        key=lambda pair: pair[0].submission.submitted_at if pair[0].submission else since,
        reverse=True,
    )
    feed.mark_voted(services, [e for e, _ in found], user)
    return found[:limit]


# -- claims -------------------------------------------------------------------------


def claim(services: Services, user: User, key: str, author_name: str) -> AuthorClaim:
    """A reader claims to be one of a paper's authors (pending until a curator decides)."""
    try:
        return services.store.claim_authorship(user.id, key, author_name, services.clock())
    except LookupError as exc:
        raise UserError(str(exc).strip("'\""), 404) from exc
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def decide(services: Services, curator: User, claim_id: int, confirm: bool) -> AuthorClaim:
    """A curator confirms or rejects a claim."""
    if not curator.is_curator:
        raise UserError("only curators decide authorship claims", 403)
    decided = services.store.decide_claim(claim_id, curator.id, confirm, services.clock())
    if decided is None:
        raise UserError(f"no claim {claim_id}", 404)
    return decided


def describe(services: Services, user: User, slug: str, body: str, address: str) -> None:
    """A confirmed author writes their page, under the comment rules (size, rendered
    size, no links from accounts younger than a day, the rate of writes)."""
    key = key_of_slug(slug)
    text = rules.check_text(body)
    html, _ = markup.stored(text)
    rules.check_rendered(html)
    now = services.clock()
    writer = rules.Writer(user.id, address)
    rules.check_rate(services.store, writer, now)
    rules.check_writer(services.store, writer, text, html, now, editing=True)
    try:
        services.store.save_profile(key, user.id, text, html, now)
    except PermissionError as exc:
        raise UserError(str(exc), 403) from exc


def hide_profile(services: Services, curator: User, slug: str, hidden: bool) -> None:
    """A curator hides an author's page text (or shows it again)."""
    if not curator.is_curator:
        raise UserError("only curators hide author pages", 403)
    if not services.store.hide_profile(key_of_slug(slug), hidden):
        raise UserError("that author page has no text", 404)
