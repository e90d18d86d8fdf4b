"""Search results and their snippets: which words matched, shown for each interface."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice

from paperwire.models import Paper

SNIPPET_WORDS = 40
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of a snippet; `hit` marks words that matched the query."""

    text: str
    hit: bool = False


@dataclass(slots=True)
class SearchHit:
    """One result: the paper, its score (higher is better), highlighted title and snippet."""

    paper: Paper
    score: float
    title: list[Fragment] = field(default_factory=list)
    snippet: list[Fragment] = field(default_factory=list)


def highlight(text: str, is_hit: Callable[[str], bool]) -> list[Fragment]:
    """Split text into fragments, marking the words for which `is_hit` is true."""
    fragments: list[Fragment] = []
    last = 0
    for match in _WORD.finditer(text):
        if is_hit(match.group(0)):
            if match.start() > last:
                fragments.append(Fragment(text[last : match.start()]))
            fragments.append(Fragment(match.group(0), hit=True))
            last = match.end()
    if last < len(text):
        fragments.append(Fragment(text[last:]))
    return fragments


def snippet(text: str, is_hit: Callable[[str], bool], words: int = SNIPPET_WORDS) -> list[Fragment]:
    """The `words`-word window of text holding the most matches, highlighted, with
    ellipses where it was cut. (Each distinct word is tested once: a results page asks
    this of thirty abstracts, and testing every word was half of a search's time.)"""
    tokens = _WORD.findall(text)
    hit_words = {word for word in set(tokens) if is_hit(word)}

    def known_hit(word: str) -> bool:
        return word in hit_words

    if len(tokens) <= words:
        return highlight(text, known_hit)
    if not hit_words:  # nothing to show off: the opening words
        end = next(islice(_WORD.finditer(text), words - 1, None)).end()
        return [Fragment(text[:end]), Fragment("…")]
    hits = [1 if token in hit_words else 0 for token in tokens]
    best_start, best, window = 0, -1, sum(hits[:words])
    for start in range(len(tokens) - words + 1):
        if start:
            window += hits[start + words - 1] - hits[start - 1]
        # Prefer a window that opens on its first hit, so the match is not at the far end.
        if window > best:
            best, best_start = window, start
    first = best_start
    while first < best_start + words - 1 and hits[first] == 0 and first - best_start < words // 3:
        first += 1
    first = max(0, first - 5) if best > 0 else 0
    last = min(len(tokens), first + words)
    matches = list(islice(_WORD.finditer(text), first, last))
    begin, end = matches[0].start(), matches[-1].end()
    fragments = highlight(text[begin:end], known_hit)
    if begin > 0:
        fragments.insert(0, Fragment("…"))
    if end < len(text):
        fragments.append(Fragment("…"))
    return fragments


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
