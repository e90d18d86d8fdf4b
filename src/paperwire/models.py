"""Plain records that flow between ingest, store, search and the interfaces.

The one identity rule of paperwire lives here: a paper's key is its arXiv id (without
version) when it has one, else its normalised title. Two records of the same paper merge
with :func:`merge_papers`; nothing known is dropped.

The one trust rule lives here too (:func:`merge_papers`): what a reader sends stays the
reader's until a trusted source or a curator confirms it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Literal

from paperwire import upstream

# New-style ids (0704.0001, 2303.12345) and old-style ids (hep-th/9901001, math.GT/0309136).
_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
ARXIV_ID_RE = re.compile(rf"^(?:arxiv:)?({_NEW_ID}|{_OLD_ID})(v\d+)?$", re.IGNORECASE)
ARXIV_ID_IN_TEXT_RE = re.compile(rf"(?<![\w.])({_NEW_ID}|{_OLD_ID})(?:v\d+)?(?![\w])")

# Keys longer than this are cut and given a hash suffix so URLs stay reasonable.
_MAX_TITLE_KEY = 100

# Where a record comes from: a trusted source (a harvest, the Hugging Face sync, the
# operator's `paperwire import`) or a reader (a submission, a library import on the web).
Provenance = Literal["trusted", "reader"]
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
# Each ASCII byte folded for normalise_title: letters lowered, digits kept, the rest a space.
_ASCII_FOLD = bytes(ord(chr(i).lower()) if chr(i).isalnum() else 32 for i in range(128)) + (
    b" " * 128
)


def normalise_arxiv_id(raw: str) -> str | None:
    """Return the canonical arXiv id (no version, no prefix) or None if `raw` is not one."""
    text = raw.strip()
    for prefix in ("https://", "http://"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    for host in ("export.arxiv.org/", "www.arxiv.org/", "arxiv.org/"):
        if text.lower().startswith(host):
            text = text[len(host) :]
            for path in ("abs/", "pdf/", "html/"):
                if text.startswith(path):
                    text = text[len(path) :]
            text = text.removesuffix(".pdf")
    if text.lower().startswith("oai:arxiv.org:"):
        text = text[len("oai:arxiv.org:") :]
    match = ARXIV_ID_RE.match(text)
    if not match:
        return None
    ident = match.group(1)
    # Old-style archive names are lower case, subject classes upper case (math.GT/0309136).
    if "/" in ident:
        archive, number = ident.split("/", 1)
        if "." in archive:
            name, cls = archive.split(".", 1)
            archive = f"{name.lower()}.{cls.upper()}"
        else:
            archive = archive.lower()
        ident = f"{archive}/{number}"
    return ident


@lru_cache(maxsize=1 << 16)
def normalise_title(title: str) -> str:
    """Fold a title for identity: NFKC, case-folded, accents dropped, punctuation and
    spaces collapsed to single hyphens. "Target-based  Surrogates!" -> "target-based-surrogates".
    (Cached: an import asks for each title's form several times.)"""
    if title.isascii():
        # The same as the regex below for ASCII, ~4x faster (an import folds every title;
        # issue 30): letters are lowered, every other byte but a digit becomes a space,
        # and the words left are joined by hyphens.
        folded = title.encode("ascii").translate(_ASCII_FOLD).split()
        return b"-".join(folded).decode("ascii")
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub("-", text).strip("-")


def title_key(title: str) -> str:
    """The key of a paper known only by its title (see :func:`normalise_title`)."""
    norm = normalise_title(title)
    if not norm:
        # A title of punctuation only still needs a stable identity.
        return "t-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:16]
    if len(norm) <= _MAX_TITLE_KEY:
        return norm
    digest = hashlib.sha256(norm.encode("utf-8")).hexdigest()[:8]
    return norm[: _MAX_TITLE_KEY - 9].rstrip("-") + "-" + digest


@dataclass(frozen=True, slots=True)
class Author:
    """One author; affiliation when the source names it."""

    name: str
    affiliation: str | None = None


@dataclass(slots=True)
class Paper:
    """A research paper as paperwire knows it, merged from every source that named it."""

    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    authors: list[Author] = field(default_factory=list)
    # Set when the source gives only a count (the listing pages); len(authors) otherwise.
    author_count: int | None = None
    published: date | None = None
    updated: date | None = None
    categories: list[str] = field(default_factory=list)
    doi: str | None = None
    url: str | None = None
    code_urls: list[str] = field(default_factory=list)
    upvotes: int = 0
    sources: list[str] = field(default_factory=list)
    journal_ref: str | None = None
    comments: str | None = None
    # False while only readers have sent the paper (see merge_papers): then it is out of
    # every public list, seen only by the readers who sent it and by curators.
    confirmed: bool = True
    # What upstream says beyond the record (summary, keywords, code and its stars, ...),
    # each field with its source and read time: see paperwire.upstream.
    extras: upstream.Extras = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Identity: the arXiv id when known, else the normalised title."""
        return self.arxiv_id if self.arxiv_id else title_key(self.title)

    @property
    def title_norm(self) -> str:
        """The normalised title used to match a paper across sources."""
        return normalise_title(self.title)

    @property
    def arxiv_url(self) -> str | None:
        """The arXiv abstract page, when the paper is on arXiv."""
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else None

    @property
    def pdf_url(self) -> str | None:
        """The arXiv PDF, when the paper is on arXiv."""
        return f"https://arxiv.org/pdf/{self.arxiv_id}" if self.arxiv_id else None

    @property
    def n_authors(self) -> int | None:
        """How many authors, from the names when known, else the count the source gave."""
        return len(self.authors) if self.authors else self.author_count

    @property
    def primary_category(self) -> str | None:
        """The first category, which arXiv lists as the primary one."""
        return self.categories[0] if self.categories else None


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in reader: known by email, shown by handle; curators may hide submissions."""

    id: int
    email: str
    handle: str
    is_curator: bool = False


@dataclass(frozen=True, slots=True)
class Submission:
    """A paper listed in the daily feed of one day (once: the day it was first submitted)."""

    id: int
    day: date
    submitted_at: datetime
    submitter: str | None  # the user's handle; None when it came in with an import
    hidden: bool = False
    # Listed by a source (e.g. "huggingface"): who listed it there, shown as
    # "submitted by NAME on Hugging Face".
    upstream_source: str | None = None
    upstream_submitter: str | None = None


@dataclass(slots=True)
class FeedEntry:
    """A paper as the feed, search and paper pages show it: with its upvotes (the count
    its source reported plus the votes cast here) and where it is listed."""

    paper: Paper
    upvotes: int
    submission: Submission | None = None
    voted: bool = False  # by the reader looking at it
    comments: int = 0  # visible comments on it


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """A query a subscriber wants new matches of (the query language, plus filters)."""

    query: str
    mode: str = "hybrid"
    category: str | None = None
    year_from: int | None = None
    year_to: int | None = None


@dataclass(slots=True)
class Subscription:
    """An address that receives digests: trending papers, saved-search matches and/or
    recommendations for a profile."""

    id: int
    email: str
    frequency: str  # "daily" | "weekly"
    trending: bool
    searches: list[SavedSearch]
    status: str  # "pending" | "active" | "paused" | "unsubscribed"
    created_at: datetime
    confirmed_at: datetime | None = None
    last_period: str | None = None
    covered_until: datetime | None = None
    user_id: int | None = None
    # "Recommended for you" (opt-in, accounts only): new papers ranked for a collection
    # of the reader's (None: their Reading list).
    recommended: bool = False
    profile_id: int | None = None


@dataclass(slots=True)
class OutboxItem:
    """A composed digest (or a reader's batch of comment notices: no subscription)
    waiting in (or claimed from) the outbox."""

    id: int
    subscription_id: int | None
    period: str
    recipient: str
    message_id: str
    message: bytes
    created_at: datetime
    attempts: int = 0


# arXiv's taxonomy shape: an archive ("hep-ph", "cond-mat", "math-ph") optionally followed by
# a subject class: two upper-case letters ("cs.LG", "math.GT") or lower-case words
# ("cond-mat.mes-hall", "physics.acc-ph", "astro-ph.CO").
_CATEGORY_RE = re.compile(r"^[a-z]+(?:-[a-z]+)*(?:\.(?:[A-Z]{2}|[a-z]+(?:-[a-z]+)*))?$")
# Dates outside this range are typing errors (a year 20233, month 00) or placeholders.
EARLIEST_YEAR = 1000
_VALID_UNTIL = date.today().year + 1


def valid_category(value: str) -> bool:
    """True when `value` has the shape of an arXiv category ("cs.LG", "hep-ph",
    "cond-mat.mes-hall"); "['hep-ph']" or "Computer Science - Databases" are not."""
    return len(value) <= 40 and _category_shape(value)


@lru_cache(maxsize=4096)
def _category_shape(value: str) -> bool:
    """The regex of valid_category, cached: arXiv has ~150 categories and an import asks
    twice a category (parse_any's check, then load.cleaned). Only short values get here."""
    return bool(_CATEGORY_RE.match(value))


def valid_date(value: date | None) -> bool:
    """True for a date a paper can have: from year 1000 to next year (None is "unknown",
    which is valid; it never replaces a known date)."""
    if value is None:
        return True
    # Years up to next year as of start-up are valid for good (the year only grows): the
    # clock is read only past them. (An import asked date.today() 4 times a paper.)
    if EARLIEST_YEAR <= value.year <= _VALID_UNTIL:
        return True
    return EARLIEST_YEAR <= value.year <= date.today().year + 1


def field_problems(paper: Paper) -> list[str]:
    """What is invalid in a record, one sentence each (empty when nothing is)."""
    problems = [
        f"category {c[:60]!r} is not an arXiv category; dropped"
        for c in paper.categories
        if not valid_category(c)
    ]
    for name in ("published", "updated"):
        value = getattr(paper, name)
        if not valid_date(value):
            problems.append(f"{name} date {value.isoformat()} is not plausible; dropped")
    return problems


def validated(paper: Paper) -> Paper:
    """The record with every invalid value removed (see :func:`field_problems`): an
    invalid value is never stored, so it can never replace a valid one either."""
    categories = [c for c in paper.categories if valid_category(c)]
    published = paper.published if valid_date(paper.published) else None
    updated = paper.updated if valid_date(paper.updated) else None
    if (
        len(categories) == len(paper.categories)
        and published == paper.published
        and updated == paper.updated
    ):
        return paper
    return replace(paper, categories=categories, published=published, updated=updated)


def _union(first: list[str], second: list[str]) -> list[str]:
    """Both lists, order kept, duplicates dropped."""
    seen = dict.fromkeys(first)
    seen.update(dict.fromkeys(second))
    return list(seen)


def _earliest(a: date | None, b: date | None) -> date | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


def _latest(a: date | None, b: date | None) -> date | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _fuller_authors(a: list[Author], b: list[Author]) -> list[Author]:
    """The longer list of names; on a tie the one with more affiliations."""
    if len(b) > len(a):
        return b
    if len(b) == len(a) and sum(x.affiliation is not None for x in b) > sum(
        x.affiliation is not None for x in a
    ):
        return b
    return a


def as_reader_record(paper: Paper) -> Paper:
    """A record as a reader sent it: unconfirmed, and with no upvote count (upvotes come
    only from votes cast here; a count a reader writes into a file means nothing)."""
    return replace(paper, confirmed=False, upvotes=0, extras={})


def with_provenance(paper: Paper, provenance: Provenance) -> Paper:
    """The record stamped with where it came from (a trusted record is confirmed)."""
    if provenance == "reader":
        return as_reader_record(paper)
    return paper if paper.confirmed else replace(paper, confirmed=True)


def merge_papers(old: Paper, new: Paper) -> Paper:
    """Merge two records of the same paper (`old` as stored, `new` as it arrives).

    The trust rule (issue 25) comes first:

    - a reader's record (``new.confirmed`` False) never changes a paper there is already
      a record of: it may only link to it, so `old` is returned as it is;
    - a trusted record meeting an unconfirmed one wins field by field, and the paper is
      confirmed (:func:`_confirm`): the title, ids, links and counts are the trusted
      record's, and the reader's values only fill what it leaves empty;
    - between trusted records, the merge below.

    Two trusted records merge so that missing fields are filled and nothing known is
    dropped: lists are unioned, the longer abstract and author list win, upvotes are the
    highest count seen, the publication date the earliest.

    The field-level rule: a merge never makes a good field worse. Values that fail
    validation (:func:`valid_category`, :func:`valid_date`) are dropped from both sides
    before merging, so an invalid value is never stored and never replaces a valid one;
    a missing value (None, empty) never replaces a known one. Upstream's extra fields
    (paperwire.upstream) merge field by field, the later trusted read winning."""
    if not new.confirmed:
        return old
    if not old.confirmed:
        return _confirm(old, new)
    old = validated(old)
    new = validated(new)
    authors = _fuller_authors(old.authors, new.authors)
    count = old.author_count if old.author_count is not None else new.author_count
    if authors:
        count = None
    return replace(
        old,
        title=old.title or new.title,
        abstract=new.abstract if len(new.abstract) > len(old.abstract) else old.abstract,
        arxiv_id=old.arxiv_id or new.arxiv_id,
        authors=authors,
        author_count=count,
        published=_earliest(old.published, new.published),
        updated=_latest(old.updated, new.updated),
        categories=_union(old.categories, new.categories),
        doi=old.doi or new.doi,
        url=old.url or new.url,
        code_urls=_union(old.code_urls, new.code_urls),
        upvotes=max(old.upvotes, new.upvotes),
        sources=_union(old.sources, new.sources),
        journal_ref=old.journal_ref or new.journal_ref,
        comments=old.comments or new.comments,
        extras=upstream.merge(old.extras, new.extras),
    )


def _confirm(unconfirmed: Paper, trusted: Paper) -> Paper:
    """A trusted record replacing an unconfirmed one, field by field: every value the
    trusted record has wins (its title always, even when the reader's is longer); what
    identifies or counts the paper (arXiv id, DOI, link, code links, upvotes) is never
    taken from the reader; descriptive fields the trusted record leaves empty (abstract,
    authors, dates, categories, journal, comments) keep the reader's values."""
    reader = validated(unconfirmed)
    trusted = validated(trusted)
    has_authors = bool(trusted.authors) or trusted.author_count is not None
    return replace(
        trusted,
        abstract=trusted.abstract or reader.abstract,
        authors=trusted.authors if has_authors else reader.authors,
        author_count=trusted.author_count if has_authors else reader.author_count,
        published=trusted.published or reader.published,
        updated=trusted.updated or reader.updated,
        categories=trusted.categories or reader.categories,
        sources=_union(trusted.sources, reader.sources),
        journal_ref=trusted.journal_ref or reader.journal_ref,
        comments=trusted.comments or reader.comments,
        extras=trusted.extras,
        confirmed=True,
    )


_CODE_URL_RE = re.compile(
    r"https?://(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org|huggingface\.co|"
    r"codeberg\.org|sourceforge\.net)/[^\s)\]}>\"',;]+",
    re.IGNORECASE,
)


def extract_code_urls(text: str) -> list[str]:
    """Code repositories named in free text ("Code is available at https://github.com/x/y.")."""
    found: list[str] = []
    if "http" not in text:
        return found
    for match in _CODE_URL_RE.finditer(text):
        url = match.group(0).rstrip(".:")
        if url.count("/") >= 4 and url not in found:  # host/owner at least
            found.append(url)
    return found
