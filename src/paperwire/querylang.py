"""The query language, one module for every engine: parsed into a structure each engine
translates safely (no user text ever reaches a MATCH or tsquery unquoted), the analyzers
that say what a word is, and ``matches(paper, query)``, the rule for filters and
exclusions that the keyword index (tantivy), PostgreSQL's own index, the meaning leg and
saved-search digests all follow (tests/test_query_parity.py runs the same queries through
all four).

    diffusion "image generation" transform* -survey author:"Jane Doe" year:2020-2023 category:cs.LG

Words rank by BM25 (a paper holding more of them ranks higher; see search/lexical.py);
``"..."`` is a required phrase (an unclosed quote runs to the end); ``word*`` a prefix;
``-word`` excludes; ``author:``, ``year:`` (``2023``, ``2020-2023``, ``>=2021``, ``<2019``),
``category:`` (or ``cat:``), ``topic:`` (``topic:"diffusion models"``: a paper's keywords
or the human name of one of its categories, compared by slug, see paperwire.topics) and
``has:code`` (a code repository is known) filter; ``sort:stars`` orders the results by
their code's GitHub stars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import tantivy

from paperwire.models import Paper
from paperwire.topics import slugify, topic_matches

# More words than this add nothing to ranking but cost time; the rest are dropped.
MAX_TERMS = 32
MAX_QUERY_CHARS = 2000
_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(
    r"(?P<neg>-)?(?:(?P<field>author|authors|year|category|cat|categories|topic|has|sort):)?"
    r'(?:"(?P<quoted>[^"]*)(?:"|$)|(?P<bare>[^\s"]+))'
)
_YEAR_RANGE = re.compile(r"^(?P<a>\d{4})?\s*(?:-|\.\.)\s*(?P<b>\d{4})?$")
_YEAR_CMP = re.compile(r"^(?P<op>>=|<=|>|<)(?P<y>\d{4})$")


def _analyzer(stem: bool, fold: bool = True) -> Any:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
    )
    if fold:
        builder = builder.filter(tantivy.Filter.ascii_fold())
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


# The same analyzers index documents (search/lexical.py) and analyse query words, so terms
# always agree.
STEMMED = _analyzer(stem=True)
NAMES = _analyzer(stem=False)
# Author names as written (lower case, accents kept): what a plain query word is matched
# against, so that "low" does not find Löw; `author:` folds accents (NAMES).
NAMES_AS_WRITTEN = _analyzer(stem=False, fold=False)


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """The indexed form of one word ('' if it has none). Cached: snippets ask for every
    word of every abstract shown."""
    tokens = STEMMED.analyze(word)
    return tokens[0] if tokens else ""


class QueryError(ValueError):
    """The query cannot be searched; the message says why, for the user."""


@dataclass(frozen=True, slots=True)
class Term:
    """Words that must appear together (one word, or a phrase); `prefix` matches word
    starts; `negated` excludes papers containing it; `quoted`: the user put it in quotes
    (a phrase every result must hold), unlike a hyphenated word ("self-attention"), which
    ranks like any other word."""

    words: tuple[str, ...]
    prefix: bool = False
    negated: bool = False
    quoted: bool = False


@dataclass(slots=True)
class Filters:
    """Restrictions shared by every search mode."""

    authors: list[tuple[str, ...]] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    categories: list[str] = field(default_factory=list)
    # Topic slugs, each required (paperwire.topics.topic_matches).
    topics: list[str] = field(default_factory=list)
    has_code: bool = False

    @property
    def active(self) -> bool:
        """True when any filter restricts the results."""
        return bool(self.authors or self.categories or self.topics or self.has_code) or (
            self.year_from is not None or self.year_to is not None
        )


@dataclass(slots=True)
class KeywordQuery:
    """A parsed query: terms to rank by and filters to restrict by."""

    text: str
    terms: list[Term] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    truncated: bool = False
    # ``sort:stars``: the results reordered by their code's GitHub stars (papers whose
    # stars are unknown last, in rank order); None: by relevance.
    sort: str | None = None

    @property
    def positive(self) -> list[Term]:
        """Terms that must match."""
        return [t for t in self.terms if not t.negated]

    @property
    def negative(self) -> list[Term]:
        """Terms that must not match."""
        return [t for t in self.terms if t.negated]

    @property
    def free_text(self) -> str:
        """The words of the positive terms, for the meaning-based leg of hybrid search."""
        return " ".join(" ".join(t.words) for t in self.positive)


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(text))


def _year_filter(value: str, filters: Filters) -> None:
    value = value.strip()
    if value.isdecimal() and len(value) == 4:
        filters.year_from = filters.year_to = int(value)
        return
    match = _YEAR_RANGE.match(value)
    if match and (match.group("a") or match.group("b")):
        filters.year_from = int(match.group("a")) if match.group("a") else None
        filters.year_to = int(match.group("b")) if match.group("b") else None
        return
    match = _YEAR_CMP.match(value)
    if match:
        year, op = int(match.group("y")), match.group("op")
        if op.startswith(">"):
            filters.year_from = year if op == ">=" else year + 1
        else:
            filters.year_to = year if op == "<=" else year - 1
        return
    raise QueryError(f"year:{value[:20]} is not a year (2023), a range (2020-2023) or >=2021")


def parse_query(text: str) -> KeywordQuery:
    """Parse the query language; QueryError when nothing searchable is left."""
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
    query = KeywordQuery(text=text)
    for match in _TOKEN.finditer(text):
        negated = bool(match.group("neg"))
        raw = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
        name = (match.group("field") or "").lower()
        if name in {"author", "authors"}:
            words = _words(raw)
            if words:
                query.filters.authors.append(words)
            continue
        if name == "year":
            _year_filter(raw, query.filters)
            continue
        if name in {"category", "cat", "categories"}:
            query.filters.categories.extend(c for c in raw.split(",") if c.strip())
            continue
        if name == "topic":
            slug = slugify(raw)
            if slug and slug not in query.filters.topics:
                query.filters.topics.append(slug)
            continue
        if name == "sort":
            if raw.strip().lower() not in {"stars", "relevance"}:
                raise QueryError(f"sort:{raw[:20]} is not known (sort:stars, sort:relevance)")
            query.sort = None if raw.strip().lower() == "relevance" else "stars"
            continue
        if name == "has":
            if raw.strip().lower() != "code":
                raise QueryError(f"has:{raw[:20]} is not known (has:code is)")
            if negated:
                raise QueryError("-has:code cannot be searched; use has:code")
            query.filters.has_code = True
            continue
        prefix = match.group("bare") is not None and raw.endswith("*")
        words = _words(raw)
        if not words:
            continue
        if len(query.terms) >= MAX_TERMS:
            query.truncated = True
            break
        quoted = match.group("quoted") is not None
        query.terms.append(Term(words=words, prefix=prefix, negated=negated, quoted=quoted))
    if not query.positive and not query.filters.active:
        if query.negative:
            raise QueryError("a query needs at least one word or filter that is not excluded")
        raise QueryError("the query has no words to search for")
    return query


_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z.\-]{0,30}$")


def with_filters(
    text: str, category: str | None, year_from: int | None, year_to: int | None
) -> str:
    """A query in the query language with form fields added as filter terms
    (QueryError for a malformed category or an empty year range)."""
    parts = [text]
    if category:
        if not _CATEGORY.match(category):
            raise QueryError(f"category {category[:40]!r}: expected e.g. cs.CL or cs")
        parts.append(f"category:{category}")
    if year_from is not None or year_to is not None:
        low, high = year_from or 1900, year_to or 2999
        if low > high:
            raise QueryError(f"years: {low} is after {high}")
        parts.append(f"year:{low}-{high}")
    return " ".join(parts)


def words_of(paper: Paper) -> set[str]:
    """The stemmed (and plain, lower-case) words of a paper's title and abstract."""
    text = f"{paper.title} {paper.abstract}"
    return {stem(w) for w in text.split()} | {w.strip(".,;:()[]") for w in text.lower().split()}


def _author_names(paper: Paper) -> set[str]:
    return set(NAMES.analyze(" ".join(a.name for a in paper.authors)))


def matches(paper: Paper, query: KeywordQuery) -> bool:
    """True when a paper passes the query's filters and exclusions: its year within
    ``year:``; one of its categories (or their archive: cs.LG -> cs) among ``category:``
    (case-insensitive); every word of each ``author:`` name among its authors' names;
    with ``has:code``, a code link; each ``topic:`` among its topics
    (paperwire.topics.topic_matches); and no ``-term`` whose words it all holds
    (stemmed, in title or abstract). Words
    to rank by are not checked: each engine ranks those its own way."""
    filters = query.filters
    year = paper.published.year if paper.published else None
    if filters.year_from is not None and (year is None or year < filters.year_from):
        return False
    if filters.year_to is not None and (year is None or year > filters.year_to):
        return False
    if filters.categories:
        mine = {c.lower() for c in paper.categories} | {
            c.lower().split(".")[0] for c in paper.categories
        }
        if not any(c.lower() in mine for c in filters.categories):
            return False
    if filters.has_code and not paper.code_urls:
        return False
    if filters.topics and not all(topic_matches(paper, slug) for slug in filters.topics):
        return False
    if filters.authors:
        names = _author_names(paper)
        if not all(set(NAMES.analyze(" ".join(name))) <= names for name in filters.authors):
            return False
    if query.negative:
        words = words_of(paper)
        for term in query.negative:
            if all(stem(w) in words for w in term.words):
                return False
    return True


# Words that carry no topic: dropped from a query's ranking terms (not from phrases, and
# not when every word is one), so "the paper where ..." ranks by its content words.
_STOP_WORDS = """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers him his how i if in into is it its
    itself just me more most my no nor not of off on once one only or other our out over own
    paper papers same she should so some such than that the their theirs them then there
    these they this those through to too under until up using very was we were what when
    where which while who whom why will with would you your"""
# What a contraction leaves when a tokenizer splits it at the apostrophe ("won't" ->
# "won", "isn't" -> "isn"): stop words as much as the words they stand for (NLTK's
# English list holds them too).
_CONTRACTED = """aren couldn didn doesn don hadn hasn haven isn ll mightn mustn needn re
    shan shouldn ve wasn weren won wouldn"""
STOP_WORDS = frozenset(_STOP_WORDS.split() + _CONTRACTED.split())
"""The project's one list of English stop words: query ranking drops them, and a
recommendation's reasons never cite one (recommend.model)."""
# Shorter than this, a word is a fragment ("et" of "et al.", "fo", "bo"), not a topic.
MIN_CONTENT_CHARS = 3


def content_word(word: str) -> bool:
    """Whether a (lower-case) word says what a text is about: at least MIN_CONTENT_CHARS
    characters and not a stop word. A term of several words must have each one so."""
    return all(len(part) >= MIN_CONTENT_CHARS and part not in STOP_WORDS for part in word.split())


def ranking_terms(query: KeywordQuery) -> tuple[list[Term], list[Term]]:
    """(words to rank by, phrases every result must hold). A hyphenated word counts as its
    words ("masked-out" ranks by "masked"; measured on the dev queries: as an optional
    phrase it missed papers writing the words apart); stop words are dropped unless
    nothing else is left; a quoted phrase is kept whole and required."""
    words: list[Term] = []
    for term in query.positive:
        if term.quoted and len(term.words) > 1:
            continue
        if len(term.words) == 1:
            words.append(term)
        else:
            words += [Term(words=(w,)) for w in term.words[:-1]]
            words.append(Term(words=term.words[-1:], prefix=term.prefix))
    phrases = [t for t in query.positive if t.quoted and len(t.words) > 1]
    content = [t for t in words if t.prefix or t.words[0] not in STOP_WORDS]
    return (content if content or phrases else words), phrases
