"""Acronyms and their long forms, from the corpus's own "Long Form (ACRONYM)" pairs.

A reader types "gan", "resnet" or "LoRA"; the paper that introduced the idea may say only
"generative adversarial networks" or "residual networks". Each paper's title and abstract
are read for a parenthesised short form after its long form, the short form's letters
matched right to left to the long form's (its first letter at the start of a word): the
algorithm of Schwartz and Hearst, "A simple algorithm for identifying abbreviation
definitions in biomedical text" (2003), written here. The pairs make a dictionary
(:class:`AcronymDictionary`) that query time reads both ways: a query word that is a known
acronym also searches its long forms (as a phrase, counted like one word), and a query
holding a known long form also searches its acronym (:func:`expand`).

Where the dictionary lives: the keyword index beside the store (search/lexical.py) keeps it
in its folder, filled as it indexes; PostgreSQL's own keyword index finds the pairs at query
time among the papers holding the word in parentheses (store/pg_search.py), so it keeps no
local files. Both read pairs with :func:`definitions`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paperwire.querylang import STOP_WORDS, stem

# A short form: one token in parentheses (an optional plural s, and what follows a comma
# or semicolon in the parentheses ignored), 2-10 characters, a letter first, and at least
# one capital: "(GAN)", "(GANs)", "(LoRA)", "(ResNet; He et al.)" — not "(see below)".
_PAREN = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9\-]{1,9})\s*(?:[;,][^()]*)?\)")
_WORD = re.compile(r"\w+", re.UNICODE)
# At most this many long forms are kept per acronym (the most frequent): "SAM" is both
# "segment anything model" and "sharpness-aware minimization" in one corpus.
MAX_LONG_FORMS = 3
# A long form is kept only when at least this share as many papers define it as define the
# acronym's most frequent form: in the shipped corpora "LLM" is "large language models" in 23
# papers and "large scale language models" in 1, "AI" once "arti cial intelligence" (a broken
# ligature). Each long form kept is one more phrase a query searches, and a phrase over
# common words is what the expansion costs (bench/RESULTS.md §25: at 2.7M papers the second
# form of "llm" cost as much as the first); an acronym with two meanings as common as each
# other ("SAM") keeps both.
MIN_FORM_SHARE = 0.25
# A long form of more words than this is not looked for in queries.
MAX_LONG_WORDS = 8
# Characters read before a parenthesis for its long form (20 words at most are searched):
# bounded, so a text with thousands of parentheses costs time in proportion to its length.
_LOOK_BACK = 400
# At most this many (acronym, long form) pairs are kept: past it, the pairs defined by the
# fewest papers are dropped until at most PRUNED_TO are left. Without a cap the dictionary
# grew with the corpus: real abstracts define ~0.43 pairs a paper, 86 % of them by one
# paper only (the demo corpus's 5,000 arXiv records), at ~300 bytes a pair in Python, so
# ~350 MiB at 2.7M papers in the keyword indexer and in every web worker that loads it
# (issue 30). 200,000 pairs is ~60 MiB held and a ~7 MiB acronyms.json; an acronym many
# papers define (the ones a query expansion uses) keeps its long forms.
MAX_PAIRS = 200_000
PRUNED_TO = MAX_PAIRS // 2


def _short_key(short: str) -> str | None:
    """The acronym as a query word meets it (lower case, a plural s dropped: "GANs" ->
    "gan"), or None when it does not look like an acronym (no capital, or a plain word)."""
    if not any(c.isupper() for c in short):
        return None
    body = short[:-1] if short.endswith("s") and sum(c.isupper() for c in short) >= 2 else short
    key = body.replace("-", "").lower()
    # A capitalised common word in parentheses ("(ALL)", "(IT)") is not one to expand.
    if len(key) < 2 or key in STOP_WORDS or key.isdigit():
        return None
    return key


def _best_long_form(short: str, before: str) -> str | None:
    """Schwartz & Hearst's match: walk the short form's letters and digits right to left,
    each found further left in the text before the parenthesis; the first must start a
    word. The long form runs from that word to the parenthesis."""
    s, i = len(short) - 1, len(before) - 1
    while s >= 0:
        c = short[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while i >= 0 and (before[i].lower() != c or (s == 0 and i > 0 and before[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    start = max(before.rfind(" ", 0, i + 1), before.rfind("\n", 0, i + 1)) + 1
    return before[start:].strip()


def definitions(text: str) -> list[tuple[str, str]]:
    """(acronym key, long form as written) for each "long form (ACRONYM)" in a text."""
    found: list[tuple[str, str]] = []
    for match in _PAREN.finditer(text):
        short = match.group(1).rstrip("-")
        key = _short_key(short)
        if key is None:
            continue
        # The words before the parenthesis, within the sentence: at most
        # min(|A| + 5, 2|A|) of them, as Schwartz & Hearst bound the search.
        before = text[max(0, match.start() - _LOOK_BACK) : match.start()]
        head = re.split(r"[.;:!?()\[\]]", before)[-1].rstrip(" ,-")
        letters = len(key)
        words = head.split()[-min(letters + 5, 2 * letters) :]
        if not words:
            continue
        candidate = _best_long_form(short, " ".join(words))
        if candidate is None:
            continue
        long_words = _WORD.findall(candidate.lower())
        if len(long_words) < 2 or len(long_words) > MAX_LONG_WORDS:
            continue
        if key in long_words or len(candidate) <= len(short):
            continue
        found.append((key, " ".join(long_words)))
    return found


@dataclass
class AcronymDictionary:
    """Acronym -> {long form (lower-case words joined by spaces): papers defining it}."""

    pairs: dict[str, dict[str, int]] = field(default_factory=dict)
    # Stemmed long form -> acronym: built on first use, then kept up to date by add_text.
    _reverse: dict[tuple[str, ...], str] | None = field(default=None, repr=False, compare=False)
    # How many (acronym, long form) pairs `pairs` holds (kept up to date: see MAX_PAIRS).
    _size: int = field(default=0, init=False, repr=False, compare=False)
    max_pairs: int = field(default_factory=lambda: MAX_PAIRS, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._size = sum(len(forms) for forms in self.pairs.values())
        self._bound()

    @property
    def size(self) -> int:
        """How many (acronym, long form) pairs are held (never more than max_pairs)."""
        return self._size

    def add_text(self, text: str) -> None:
        """Count the pairs one paper defines (each once per paper)."""
        for key, long_form in set(definitions(text)):
            forms = self.pairs.setdefault(key, {})
            count = forms.get(long_form, 0)
            if not count:
                self._size += 1
            forms[long_form] = count + 1
            if self._reverse is not None:  # kept up to date once built (a query reads it)
                self._reverse.setdefault(_stemmed(long_form.split()), key)
        self._bound()

    def _bound(self) -> None:
        """Past max_pairs, drop the pairs defined by the fewest papers (every pair of the
        smallest counts that leaves at most half of max_pairs), so memory is capped
        whatever the corpus's size. A pair defined more often than those dropped is
        kept; a dropped pair met again starts counting from one."""
        if self._size <= self.max_pairs:
            return
        keep = self.max_pairs // 2
        counts = sorted((c for forms in self.pairs.values() for c in forms.values()), reverse=True)
        # The smallest count kept: every pair above it stays; ties at it all go.
        floor = counts[keep] + 1 if keep < len(counts) else 1
        for key in list(self.pairs):
            forms = {form: c for form, c in self.pairs[key].items() if c >= floor}
            if forms:
                self.pairs[key] = forms
            else:
                del self.pairs[key]
        self._size = sum(len(forms) for forms in self.pairs.values())
        self._reverse = None

    def long_forms(self, word: str) -> list[tuple[str, ...]]:
        """The long forms a word stands for, most papers first (at most MAX_LONG_FORMS,
        each defined by at least MIN_FORM_SHARE as many papers as the first); forms with
        the same stems ("network", "networks") are one, written as most often. A plural
        ("gans") stands for its acronym ("gan")."""
        word = word.lower()
        forms = self.pairs.get(word)
        if not forms and len(word) > 2 and word.endswith("s"):
            forms = self.pairs.get(word[:-1])
        if not forms:
            return []
        grouped: dict[tuple[str, ...], tuple[int, int, str]] = {}
        for form, count in sorted(list(forms.items())):
            stems = _stemmed(form.split())
            total, best, written = grouped.get(stems, (0, 0, form))
            grouped[stems] = (total + count, max(best, count), form if count > best else written)
        ranked = sorted(grouped.values(), key=lambda g: (-g[0], g[2]))[:MAX_LONG_FORMS]
        floor = ranked[0][0] * MIN_FORM_SHARE
        return [tuple(written.split()) for total, _best, written in ranked if total >= floor]

    def by_stems(self) -> dict[tuple[str, ...], str]:
        """Each long form's stems -> its acronym (the first seen): built on first use,
        then kept up to date by add_text."""
        if self._reverse is None:
            reverse: dict[tuple[str, ...], str] = {}
            # Snapshots (list() copies without running Python code): a sync may add pairs
            # from another thread meanwhile.
            for key, forms in list(self.pairs.items()):
                for form in list(forms):
                    reverse.setdefault(_stemmed(form.split()), key)
            self._reverse = reverse
        return self._reverse

    def merge(self, other: AcronymDictionary) -> None:
        """Add another dictionary's counts to this one."""
        self._reverse = None
        for key, forms in other.pairs.items():
            mine = self.pairs.setdefault(key, {})
            for form, count in forms.items():
                mine[form] = mine.get(form, 0) + count
        self._size = sum(len(forms) for forms in self.pairs.values())
        self._bound()

    def save(self, path: Path) -> None:
        """Write as JSON (to a temporary name first)."""
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.pairs, separators=(",", ":")), "utf-8")
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> AcronymDictionary:
        """Read a saved dictionary (empty when there is none or it is unreadable)."""
        try:
            raw = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        pairs = {
            str(k): {str(f): int(c) for f, c in v.items() if isinstance(c, int)}
            for k, v in raw.items()
            if isinstance(v, dict)
        }
        return cls(pairs)

    @classmethod
    def of_texts(cls, texts: Iterable[str]) -> AcronymDictionary:
        """The dictionary of some texts (one per paper)."""
        dictionary = cls()
        for text in texts:
            dictionary.add_text(text)
        return dictionary


def _stemmed(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(stem(w) for w in words)


@dataclass(frozen=True, slots=True)
class Expansion:
    """What a query's acronyms and long forms add: for a ranked word (by its position
    among the ranked words), the long forms it also searches; and, for a run of ranked
    words that is a known long form, its acronym with the positions of those words (the
    engine scores the better of "the words" and "the acronym", never both)."""

    long_forms: dict[int, list[tuple[str, ...]]]
    acronyms: list[tuple[str, tuple[int, ...]]]

    def __bool__(self) -> bool:
        return bool(self.long_forms or self.acronyms)


NO_EXPANSION = Expansion({}, [])


def _positions(ranked_words: Sequence[Sequence[str]], query_words: Sequence[str]) -> list[int]:
    """For each query word, its position among the ranked words (-1: not ranked, e.g. a
    stop word); the ranked words are the query's in order, some left out."""
    found, j = [], 0
    for word in query_words:
        while j < len(ranked_words) and len(ranked_words[j]) != 1:
            j += 1
        if j < len(ranked_words) and ranked_words[j][0] == word.lower():
            found.append(j)
            j += 1
        else:
            found.append(-1)
    return found


def expand(
    ranked_words: Sequence[Sequence[str]],
    query_words: Sequence[str],
    dictionary: AcronymDictionary,
) -> Expansion:
    """The expansion of a query: `ranked_words` are its ranked terms' words (one word
    each; a prefix or phrase term passes an empty tuple), `query_words` all its positive
    words in order (stop words kept, for long forms such as "mixture of experts").
    A ranked word equal to a known acronym gets its long forms; a run of query words whose
    stems equal a known long form's gets its acronym (unless the query holds it already),
    longest runs first, a word in one run at most."""
    long_forms: dict[int, list[tuple[str, ...]]] = {}
    for position, words in enumerate(ranked_words):
        if len(words) == 1:
            forms = dictionary.long_forms(words[0])
            if forms:
                long_forms[position] = forms
    acronyms: list[tuple[str, tuple[int, ...]]] = []
    present = {w.lower() for w in query_words}
    if len(query_words) >= 2 and dictionary.pairs:
        by_stems = dictionary.by_stems()
        lowered = [w.lower() for w in query_words]
        stems = _stemmed(lowered)
        where = _positions(ranked_words, lowered)
        taken: set[int] = set()
        for n in range(min(MAX_LONG_WORDS, len(stems)), 1, -1):
            for start in range(len(stems) - n + 1):
                run = stems[start : start + n]
                key = by_stems.get(run)
                if key is None or key in present or any(key == k for k, _ in acronyms):
                    continue
                covered = tuple(p for p in where[start : start + n] if p >= 0)
                if not covered or taken.intersection(covered):
                    continue
                # Only a long form the acronym is kept for (its most frequent ones).
                if run in {_stemmed(f) for f in dictionary.long_forms(key)}:
                    acronyms.append((key, covered))
                    taken.update(covered)
    return Expansion(long_forms, acronyms)
