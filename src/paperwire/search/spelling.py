"""Typo suggestions from the keyword index's own vocabulary: a query word no paper holds
("trasnformer") is matched to the indexed term nearest by edit distance (transpositions
count one), the most frequent among equals — "did you mean transformer".

Candidates come from the tantivy term dictionary: the terms sharing the word's first two
letters, and the most frequent terms sharing its first letter (a typo in the second
letter). Only the tantivy index has a term dictionary to walk; other keyword indexes
give no suggestion."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paperwire.querylang import QueryError, parse_query, stem
from paperwire.search.lexical import LexicalIndex
from paperwire.store.base import Store

# Title and abstract, indexed together (search/lexical.py).
TEXT_FIELDS = ("text",)
MIN_LENGTH = 4  # shorter words are too often acronyms to correct
PREFIX2_LIMIT = 20_000
PREFIX1_LIMIT = 5_000


@dataclass(frozen=True)
class Correction:
    """A word of the query no paper holds, and the indexed term (a stem) to use."""

    word: str
    term: str
    papers: int  # how many papers hold the term


def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein with adjacent swaps
    counting one), or limit + 1 as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        # Later rows build on this row, and (by a swap) on the one before it, plus one.
        if min(current) > limit and min(previous) >= limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def known(index: LexicalIndex, word: str) -> bool:
    """Whether any paper's title or abstract holds the word (as its indexed form)."""
    term = stem(word)
    if not term:
        return True  # nothing to correct
    searcher = index.index.searcher()
    return any(searcher.doc_freq(field, term) > 0 for field in TEXT_FIELDS)


def correct(index: LexicalIndex, word: str) -> Correction | None:
    """The indexed term nearest to a word no paper holds, or None (the word is known,
    too short, not a word, or nothing is near enough: one edit for words up to six
    letters, two beyond)."""
    lowered = word.lower()
    if len(lowered) < MIN_LENGTH or not lowered.isalpha() or known(index, lowered):
        return None
    typo = stem(lowered) or lowered
    limit = 1 if len(lowered) <= 6 else 2
    searcher = index.index.searcher()
    counts: dict[str, int] = {}
    for field in TEXT_FIELDS:
        for prefix, most in ((lowered[:2], PREFIX2_LIMIT), (lowered[:1], PREFIX1_LIMIT)):
            for term, count in searcher.terms_with_prefix(field, prefix, limit=most):
                counts[term] = max(counts.get(term, 0), int(count))
    best: tuple[int, int, str] | None = None
    for term, count in counts.items():
        if len(term) < MIN_LENGTH - 1:
            continue
        d = distance(typo, term, limit)
        if d <= limit and (best is None or (d, -count, term) < best):
            best = (d, -count, term)
    if best is None:
        return None
    return Correction(word, best[2], -best[1])


_WORD = re.compile(r"[^\W\d_]+")


def did_you_mean(index: object, store: Store, q: str) -> str | None:
    """The query with each word no paper holds replaced by the nearest word of the
    keyword index's vocabulary (`correct`), written as the papers write it; None
    when every word is known or nothing is near (and on an index with no vocabulary to
    walk): `index` is the engine's keyword index, `store` the papers it holds. A
    suggestion is only ever words the papers hold: when a word no paper holds has
    nothing near it ("zzqxv flor"), there is no suggestion at all, never "zzqxv floor"."""
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
        correction = correct(index, word)
        if correction is None:
            if not known(index, word):
                return None  # an unknown word would stay in the suggestion
            continue
        fix = _surface_word(store, index, correction)
        # The fix is letters only (a word of the papers, or an index term).
        changed = re.sub(rf"(?i)\b{re.escape(word)}\b", fix, changed)
        found = True
    return changed if found and changed != q else None


def _surface_word(store: Store, index: LexicalIndex, correction: Correction) -> str:
    """The word papers write for an indexed stem ("transform" -> "transformer", as the
    typo suggests): the commonest word with that stem in a few papers holding it, the
    nearest to the typo among equals."""
    pids = [pid for pid, _ in index.search(parse_query(correction.term), 20)]
    counts: dict[str, int] = {}
    for paper in store.get_papers(pids).values():
        for word in _WORD.findall(f"{paper.title} {paper.abstract}"):
            lowered = word.lower()
            if stem(lowered) == correction.term:
                counts[lowered] = counts.get(lowered, 0) + 1
    if not counts:
        return correction.term
    typo = correction.word.lower()
    return min(counts, key=lambda w: (distance(typo, w, 10), -counts[w], w))
