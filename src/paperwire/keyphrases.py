"""Keyphrases extracted offline for papers upstream gives no keywords (issue 29):
KeyBERT's method (Grootendorst 2020) on the model paperwire already ships, no new model.

1. Candidates: the "noun-ish" phrases of the title and abstract — runs of words between
   punctuation, stop words, past participles and adverbs (so a candidate never holds
   "of", "the", "we", "trained", "significantly"...), cut into 1-3 word n-grams;
   numbers, single letters and the verbs of abstracts' boilerplate ("propose",
   "show") are not candidates. (No part-of-speech tagger: none ships.)
2. Each candidate is embedded and ranked by cosine to the paper's own vector (the one
   its meaning search uses, or the embedding of its text).
3. Maximal Marginal Relevance picks the top ones: relevance minus DIVERSITY x the
   similarity to those already picked, so "diffusion model" and "diffusion models" do
   not both take a place.

Measured against Hugging Face's ai_keywords on the recorded papers that have both
(eval/keyphrases.py; the figure is in bench/RESULTS.md)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from paperwire.querylang import STOP_WORDS
from paperwire.search.vectors import from_bytes

if TYPE_CHECKING:
    from paperwire.search.embed import Embedder
    from paperwire.store.base import Store

TOP_N = 5
MAX_WORDS = 3
DIVERSITY = 0.5  # KeyBERT's MMR default
MAX_CANDIDATES = 300  # embedding cost per paper is bounded
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]|[A-Za-z]|[.,;:!?()\[\]{}\"'$]")
_BREAK = set(".,;:!?()[]{}\"'$")
# Words of abstracts' boilerplate that are never a topic on their own or at an edge.
_BOILERPLATE = frozenset(
    [
        "propose",
        "proposed",
        "proposes",
        "present",
        "presents",
        "presented",
        "show",
        "shows",
        "shown",
        "demonstrate",
        "demonstrates",
        "demonstrated",
        "achieve",
        "achieves",
        "achieved",
        "introduce",
        "introduces",
        "introduced",
        "use",
        "used",
        "uses",
        "based",
        "novel",
        "new",
        "existing",
        "extensive",
        "experiments",
        "results",
        "method",
        "methods",
        "approach",
        "approaches",
        "paper",
        "work",
        "study",
        "studies",
        "also",
        "however",
        "furthermore",
        "moreover",
        "across",
        "via",
        "many",
        "various",
        "several",
        "different",
        "significantly",
        "significant",
        "state-of-the-art",
        "outperforms",
        "outperform",
        "improve",
        "improves",
        "improved",
        "improvement",
        "address",
        "addresses",
        "remains",
        "remain",
        "often",
        "well",
        "first",
        "finally",
        "yet",
        "even",
        "still",
        "thus",
        "like",
        "make",
        "makes",
        "made",
        "provide",
        "provides",
        "including",
        "include",
        "includes",
        "while",
        "whether",
        "since",
        "simple",
        "effective",
        "able",
        "allow",
        "allows",
        "enable",
        "enables",
        "need",
        "needs",
        "given",
        "find",
        "found",
    ]
)
_NOT_EDGE = STOP_WORDS | _BOILERPLATE
# Past participles and adverbs ("trained", "significantly") end a noun phrase; "-based"
# compounds ("cache-based") are nouns' modifiers and stay.
_VERBISH = re.compile(r"(?<!-bas)(?:ed|ly)$")

Embed = Callable[[Sequence[str]], np.ndarray]


def candidates(title: str, abstract: str) -> list[str]:
    """The candidate phrases of a paper, in order of first appearance, lower-cased."""
    runs: list[list[str]] = [[]]
    for token in _TOKEN.findall(f"{title} . {abstract}"):
        word = token.lower()
        if (
            token in _BREAK
            or word in _NOT_EDGE
            or len(word) < 2
            or word.isdigit()
            or _VERBISH.search(word)
        ):
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(word)
    found: dict[str, None] = {}
    for run in runs:
        for size in range(1, MAX_WORDS + 1):
            for start in range(len(run) - size + 1):
                phrase = " ".join(run[start : start + size])
                if len(phrase) >= 3:
                    found.setdefault(phrase, None)
    return list(found)[:MAX_CANDIDATES]


def mmr(doc: np.ndarray, vectors: np.ndarray, top_n: int, diversity: float) -> list[int]:
    """Maximal Marginal Relevance over L2-normalised rows: indexes of the chosen rows."""
    if len(vectors) == 0:
        return []
    relevance = vectors @ doc
    chosen = [int(np.argmax(relevance))]
    left = [i for i in range(len(vectors)) if i != chosen[0]]
    while left and len(chosen) < top_n:
        redundancy = (vectors[left] @ vectors[chosen].T).max(axis=1)
        scores = (1 - diversity) * relevance[left] - diversity * redundancy
        best = left[int(np.argmax(scores))]
        chosen.append(best)
        left.remove(best)
    return chosen


def extract(
    title: str,
    abstract: str,
    embed: Embed,
    doc_vector: np.ndarray | None = None,
    top_n: int = TOP_N,
    diversity: float = DIVERSITY,
) -> list[str]:
    """The paper's top keyphrases (see the module's method); `doc_vector`: the paper's
    own stored vector, else its text is embedded as the meaning search embeds it."""
    phrases = candidates(title, abstract)
    if not phrases:
        return []
    vectors = np.asarray(embed(phrases), dtype=np.float32)
    if doc_vector is None:
        text = f"{title.strip()}. {abstract.strip()}" if abstract.strip() else title.strip()
        doc_vector = np.asarray(embed([text]), dtype=np.float32)[0]
    return [phrases[i] for i in mmr(doc_vector, vectors, top_n, diversity)]


def frequency_baseline(title: str, abstract: str, top_n: int = TOP_N) -> list[str]:
    """The baseline the measurement compares with: the candidates most often written
    (longer phrases first on ties), no model."""
    text = f"{title} {abstract}".lower()
    phrases = candidates(title, abstract)
    counted = sorted(phrases, key=lambda p: (-text.count(p), -len(p.split())))
    return counted[:top_n]


BATCH = 64


def extract_pending(
    store: Store, embedder: Embedder, now: datetime, limit: int | None = None
) -> int:
    """Extract and keep keyphrases for every confirmed paper that has neither upstream
    keywords nor keyphrases yet (resumable: a paper done is not asked again); the
    paper's own vector is its document vector when it has one. Returns how many."""
    done = 0
    after = 0
    while limit is None or done < limit:
        batch = store.papers_needing_keyphrases(after, BATCH)
        if not batch:
            break
        after = batch[-1][0]
        stored = store.get_vectors(embedder.name, [pid for pid, _ in batch])
        found = []
        for pid, paper in batch:
            blob = stored.get(pid)
            doc = from_bytes([blob])[0] if blob else None
            found.append((pid, extract(paper.title, paper.abstract, embedder.embed, doc)))
        done += store.save_keyphrases(found, now)
    return done
