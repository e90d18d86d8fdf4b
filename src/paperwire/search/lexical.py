"""Keyword search: BM25 over a tantivy index kept beside the store.

Why not the database's own full-text index: measured at 1M papers, SQLite FTS5 has to
score every paper holding a common word, so a one-word query took seconds, and its
tokenizer capped imports at ~12k papers/s on one core (bench/RESULTS.md). tantivy ranks
with block-max WAND in milliseconds and indexes on its own threads.

The index is derived data: it follows the store's change feed (``Store.changes``) from a
watermark saved after each commit, so an interrupted sync resumes, a lost index is
rebuilt, and the store is never at risk. Queries are built term by term from the parsed
query (no user text reaches a query parser), with the same analyzers the index uses."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import logging
import os
import re
import shutil
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import tantivy

from paperwire.acronyms import NO_EXPANSION, AcronymDictionary, Expansion, expand
from paperwire.querylang import (
    NAMES,
    NAMES_AS_WRITTEN,
    STEMMED,
    KeywordQuery,
    Term,
    parse_query,
    ranking_terms,
    stem,
)
from paperwire.search.results import SearchHit, highlight, snippet
from paperwire.search.subset import Subset
from paperwire.store.base import Store
from paperwire.store.records import PaperText
from paperwire.topics import categories_for

log = logging.getLogger(__name__)

# 2: one "text" field (title + abstract) in place of the abstract's own.
# 3: "topic" (keyword slugs) and "has" ("code") for topic: and has:code (issue 29).
# 4: "names", the author names with accents kept, for plain query words (issue 27).
# 5: the acronym dictionary (acronyms.json) kept beside the index, filled as it indexes
#    (issue 27): an older index has none, so it is rebuilt.
SCHEMA_VERSION = 5
# The corpus's "Long Form (ACRONYM)" pairs (paperwire.acronyms), in the index's folder.
ACRONYMS_FILE = "acronyms.json"
# A word is scored by BM25 over the paper's whole text (title + abstract, one document: the
# word's count saturates once and the length normalises once, as plain BM25 does), plus
# TITLE_BOOST x its BM25 in the title alone, plus PLAIN_AUTHORS_BOOST x in the author names.
# Summing BM25 of the title and the abstract scored separately (as up to schema 1) counts
# a word twice when it is in both and saturates it per field, the flaw Robertson et al.
# point at in "Simple BM25 extension to multiple weighted fields" (2004). The weights and
# the all-words bonus were chosen on the dev half of eval/judgments.json (`python
# eval/run.py --tune` prints the grid; bench/RESULTS.md §9 the before / after).
TITLE_BOOST = 0.25
TEXT_BOOST = 1.0
# A query word in the author names, accents kept (`author:` is a filter, folded): 2.0 up to
# schema 3, now below a word of the text, so that an author named Low does not beat the
# papers about "low rank" (issue 27), yet "vaswani attention" still lifts Vaswani's paper
# among those about attention. (The judged queries hold no author names: nDCG@10 is the
# same either way.)
PLAIN_AUTHORS_BOOST = 0.25
# A word that holds a letter beyond ASCII ("Löw", "Bölcskei") asks for a name: its match in
# the names counts as the author fields did up to schema 3.
ACCENTED_AUTHORS_BOOST = 2.0
# A query of 2-4 words that stand in that order in one author's name ("vincent poor") asks
# for that person: the name as a phrase counts this much on top of the words.
NAME_PHRASE_BOOST = 2.0
# A paper holding every (non-stop) word of the query scores (1 + bonus) x its BM25: a
# bonus, never a gate, so a long description still ranks the papers matching most words.
# 0 since the one text field (schema 2): on dev it moved nDCG@10 by 0.001 at most (0.718
# without, 0.717 with 0.25), and without it a query is one union of its words, not also an
# intersection of them all.
ALL_WORDS_BONUS = 0.0
MAX_LIMIT = 1000
SYNC_BATCH = 5000
# Commit (and save the watermark) this often during a long sync, so an interrupted
# backfill keeps most of its work.
COMMIT_EVERY = 250_000
# The indexing heap, shared by its two threads. 64 MiB measured at 1M papers: peak RSS 334 MiB
# and a faster build than 256 MiB (887 MiB peak): bigger buffers only meant bigger merges.
WRITER_HEAP = 64 * 1024 * 1024
# Filters whose passing papers (ids) are kept for the next search by meaning with them.
SUBSET_CACHE = 16
_EPOCH = date(1970, 1, 1)


def _names_boost(term: Term) -> float:
    """How much a term's match in the author names counts: ACCENTED_AUTHORS_BOOST when it
    holds a letter beyond ASCII, else PLAIN_AUTHORS_BOOST."""
    accented = not all(word.isascii() for word in term.words)
    return ACCENTED_AUTHORS_BOOST if accented else PLAIN_AUTHORS_BOOST


def _schema() -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("pid", stored=True, indexed=True, fast=True)
    builder.add_text_field("title", tokenizer_name="pw_stem", index_option="position")
    builder.add_text_field("text", tokenizer_name="pw_stem", index_option="position")
    builder.add_text_field("authors", tokenizer_name="pw_name", index_option="position")
    # The same names with accents kept: what plain query words match (see _term_query).
    builder.add_text_field("names", tokenizer_name="pw_name_kept", index_option="position")
    builder.add_text_field("category", tokenizer_name="raw", index_option="basic")
    # Keyword topic slugs (paperwire.topics) and "code" when a code link is known.
    builder.add_text_field("topic", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("has", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("year", indexed=True, fast=True)
    builder.add_integer_field("published", fast=True)
    return builder.build()


def _categories(paper: PaperText) -> list[str]:
    """Each category and its archive ("cs.LG" -> "cs.lg", "cs"), lower case."""
    found: dict[str, None] = {}
    for category in paper.categories:
        lowered = category.lower()
        found[lowered] = None
        found[lowered.split(".", 1)[0]] = None
    return list(found)


def _document(paper: PaperText) -> Any:
    return tantivy.Document(
        pid=paper.id,
        title=paper.title,
        text=[paper.title, paper.abstract],
        authors=" ; ".join(paper.authors),
        names=" ; ".join(paper.authors),
        category=_categories(paper),
        topic=paper.topics,
        has=["code"] if paper.has_code else [],
        year=paper.published.year if paper.published else 0,
        published=(paper.published - _EPOCH).days if paper.published else 0,
    )


@dataclass
class Watermark:
    """How far the index has followed the store."""

    store_id: str = ""
    position: tuple[int, int] = (0, 0)
    tombstone_seq: int = 0
    seq_seen: int = 0
    schema: int = SCHEMA_VERSION


class LexicalIndex:
    """The keyword index of one store (a folder beside it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._meta_file = path / "paperwire.json"
        self._acronyms_file = path / ACRONYMS_FILE
        self._sync_lock = threading.Lock()
        self._subset_lock = threading.Lock()
        self._subsets: OrderedDict[tuple[Any, ...], npt.NDArray[np.int64]] = OrderedDict()
        path.mkdir(parents=True, exist_ok=True)
        self.watermark = self._read_watermark()
        if self.watermark.schema != SCHEMA_VERSION:
            self._wipe()
        self.acronyms = AcronymDictionary.load(self._acronyms_file)
        self._acronyms_dirty = False
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        self.index.register_tokenizer("pw_stem", STEMMED)
        self.index.register_tokenizer("pw_name", NAMES)
        self.index.register_tokenizer("pw_name_kept", NAMES_AS_WRITTEN)

    @classmethod
    def for_store(cls, store: Store) -> LexicalIndex:
        """The index that lives beside a store."""
        return cls(store.index_dir("lexical"))

    # -- keeping in step with the store ----------------------------------------

    def _read_watermark(self) -> Watermark:
        try:
            raw = json.loads(self._meta_file.read_text("utf-8"))
            return Watermark(
                store_id=raw["store_id"],
                position=(int(raw["position"][0]), int(raw["position"][1])),
                tombstone_seq=int(raw["tombstone_seq"]),
                seq_seen=int(raw["seq_seen"]),
                schema=int(raw["schema"]),
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return Watermark()

    def _save_watermark(self) -> None:
        if self._acronyms_dirty:  # saved first: the watermark says it covers the papers
            self.acronyms.save(self._acronyms_file)
            self._acronyms_dirty = False
        temporary = self._meta_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.watermark.__dict__), "utf-8")
        os.replace(temporary, self._meta_file)

    def _wipe(self) -> None:
        for entry in self.path.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        self.watermark = Watermark()

    def is_current(self, store: Store) -> bool:
        """True when every committed change of the store is in the index (another
        process, e.g. a second web worker, may have brought it up to date)."""
        target = store.current_seq()
        store_id = store.get_state("store_id") or ""
        if self.watermark.seq_seen >= target and self.watermark.store_id == store_id:
            return True
        on_disk = self._read_watermark()
        if on_disk.store_id == store_id and on_disk.seq_seen > self.watermark.seq_seen:
            self.watermark = on_disk
            self.index.reload()
            self.acronyms = AcronymDictionary.load(self._acronyms_file)
        return self.watermark.seq_seen >= target and self.watermark.store_id == store_id

    def sync(self, store: Store, progress: Callable[[int], object] | None = None) -> int:
        """Apply the store's changes since the watermark; returns how many papers were
        indexed. Another process already writing the index is not an error here (a
        search goes on with what is committed); :meth:`update` says so instead."""
        try:
            return self.update(store, progress)
        except IndexBusyError as exc:
            log.info("%s", exc)
            return 0

    def update(self, store: Store, progress: Callable[[int], object] | None = None) -> int:
        """Apply the store's changes since the watermark; IndexBusyError when another
        live process holds the index's writer lock (an OS lock: a dead holder's is free)."""
        return self.follow(store, lambda: True, progress)

    def lag(self, store: Store) -> int:
        """How many papers changed or deleted in the store the index has not applied yet
        (as saved on disk, so another process's progress counts). Papers, not write
        batches: saving vectors takes batch numbers too, and counting those made a server
        embedding in the background look behind for minutes."""
        on_disk = self._read_watermark()
        if on_disk.store_id != (store.get_state("store_id") or ""):
            return store.count_papers()
        return store.count_changes(on_disk.position, on_disk.tombstone_seq)

    def follow(
        self,
        store: Store,
        done: Callable[[], bool],
        progress: Callable[[int], object] | None = None,
        poll_seconds: float = 0.2,
    ) -> int:
        """Index changes as they are committed until `done()` is true and none are
        left: an import runs this in a second process, so parsing and indexing use
        both cores."""
        if not self._sync_lock.acquire(blocking=False):
            return 0
        try:
            return self._sync(store, progress, done, poll_seconds)
        finally:
            self._sync_lock.release()

    def _sync(
        self,
        store: Store,
        progress: Callable[[int], object] | None,
        done: Callable[[], bool],
        poll_seconds: float,
    ) -> int:
        store_id = store.get_state("store_id") or ""
        target = store.current_seq()
        mark = self.watermark
        if mark.store_id != store_id or target < mark.seq_seen:
            # Another database, or the database was recreated: start over.
            mark = self.watermark = Watermark(store_id=store_id)
            rebuild = True
        else:
            rebuild = False
            if mark.seq_seen >= target and done():
                return 0
        try:
            writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=2)
        except ValueError as exc:  # held by another process
            raise IndexBusyError(
                f"the keyword index {self.path} is being written by another process ({exc}); "
                "run `paperwire reindex` once it is done"
            ) from exc
        if not rebuild:
            # Another process may have indexed since this one read the watermark: go on
            # from the saved one (the writer lock is held now, so it cannot move).
            on_disk = self._read_watermark()
            if on_disk.store_id == store_id and on_disk.position > mark.position:
                mark = self.watermark = on_disk
                self.acronyms = AcronymDictionary.load(self._acronyms_file)
        if rebuild:
            writer.delete_all_documents()
            self.acronyms = AcronymDictionary()
            self._acronyms_dirty = True
        # A fresh index holds none of these papers: no deletes to look for. (One that was
        # committed by a process killed before it saved its watermark is not fresh.)
        fresh = mark.position == (0, 0) and (rebuild or self.doc_count() == 0)
        indexed = since_commit = 0
        while True:
            changes = store.text_changes(mark.position, mark.tombstone_seq, SYNC_BATCH)
            for paper in changes.papers:
                if not fresh:
                    writer.delete_documents_by_term("pid", paper.id)
                if paper.confirmed:  # an unconfirmed paper is never found (issue 25)
                    writer.add_document(_document(paper))
                    # A paper changed since it was indexed counts its pairs again: the
                    # counts only order an acronym's long forms.
                    self.acronyms.add_text(f"{paper.title}. {paper.abstract}")
                    self._acronyms_dirty = True
            for pid in changes.deleted:
                writer.delete_documents_by_term("pid", pid)
            mark.position, mark.tombstone_seq = changes.position, changes.tombstone_seq
            indexed += len(changes.papers)
            since_commit += len(changes.papers)
            if progress:
                progress(len(changes.papers))
            if since_commit >= COMMIT_EVERY:
                writer.commit()
                self._save_watermark()
                since_commit = 0
            if len(changes.papers) < SYNC_BATCH:
                finished = done()  # read before the last look, so nothing slips past
                if finished:
                    target = max(target, store.current_seq())
                    tail = store.text_changes(mark.position, mark.tombstone_seq, 1)
                    if not tail.papers and not tail.deleted:
                        break
                else:
                    time.sleep(poll_seconds)
        mark.seq_seen = max(target, mark.position[0])
        writer.commit()
        writer.wait_merging_threads()
        self._save_watermark()
        self.index.reload()
        return indexed

    def rebuild(self, store: Store, progress: Callable[[int], object] | None = None) -> int:
        """Index the whole store again from nothing (IndexBusyError when another process
        is writing the index: nothing is changed then)."""
        saved = self.watermark
        self.watermark = Watermark(store_id="rebuild")
        try:
            return self.update(store, progress)
        except IndexBusyError:
            self.watermark = saved
            raise

    # -- querying ---------------------------------------------------------------

    def _field_query(self, field: str, term: Term, analyzer: Any) -> Any | None:
        tokens = analyzer.analyze(" ".join(term.words))
        if not tokens:
            return None
        if term.prefix:
            raw = NAMES.analyze(" ".join(term.words))
            if len(tokens) == 1:
                # Indexed terms are stems: match words starting with the stem or with
                # what was typed ("quantiz*" finds "quantization", stored as "quantiz").
                patterns = (
                    {re.escape(tokens[0]) + ".*", re.escape(raw[-1]) + ".*"}
                    if raw
                    else {re.escape(tokens[0]) + ".*"}
                )
                return tantivy.Query.boolean_query(
                    [
                        (tantivy.Occur.Should, tantivy.Query.regex_query(self.schema, field, p))
                        for p in sorted(patterns)
                    ]
                )
            return tantivy.Query.phrase_prefix_query(self.schema, field, tokens)
        if len(tokens) == 1:
            return tantivy.Query.term_query(self.schema, field, tokens[0])
        return tantivy.Query.phrase_query(self.schema, field, tokens)

    def _term_query(self, term: Term) -> Any | None:
        """One term across the fields, boosted by TEXT_BOOST, TITLE_BOOST and
        :func:`_names_boost`. A plain word meets the author names as written, accents kept: with
        them folded (as `author:` has them, so that `author:low` finds Löw), "low rank"
        ranked an author named Löw above the papers about low rank (issue 27)."""
        clauses = []
        fields = [
            ("text", STEMMED, TEXT_BOOST),
            ("title", STEMMED, TITLE_BOOST),
            ("names", NAMES_AS_WRITTEN, _names_boost(term)),
        ]
        for field, analyzer, boost in fields:
            query = self._field_query(field, term, analyzer) if boost > 0 else None
            if query is not None:
                if boost != 1.0:
                    query = tantivy.Query.boost_query(query, boost)
                clauses.append((tantivy.Occur.Should, query))
        return tantivy.Query.boolean_query(clauses) if clauses else None

    def _filters(self, query: KeywordQuery) -> list[tuple[Any, Any]]:
        must = tantivy.Occur.Must
        clauses: list[tuple[Any, Any]] = []
        filters = query.filters
        for name in filters.authors:
            for token in NAMES.analyze(" ".join(name)):
                clauses.append((must, tantivy.Query.term_query(self.schema, "authors", token)))
        if filters.year_from is not None or filters.year_to is not None:
            clauses.append(
                (
                    must,
                    tantivy.Query.range_query(
                        self.schema,
                        "year",
                        tantivy.FieldType.Integer,
                        # A paper without a date is indexed as year 0: no year range
                        # holds it (querylang.matches, PostgreSQL's NULL year agree).
                        max(filters.year_from or 1, 1),
                        filters.year_to,
                    ),
                )
            )
        if filters.categories:
            choices = [
                (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "category", c.lower()))
                for c in filters.categories
            ]
            clauses.append((must, tantivy.Query.boolean_query(choices)))
        for slug in filters.topics:  # querylang.matches: topics.topic_matches
            options = [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "topic", slug))]
            options += [
                (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "category", c.lower()))
                for c in categories_for(slug)
            ]
            clauses.append((must, tantivy.Query.boolean_query(options)))
        if filters.has_code:
            clauses.append((must, tantivy.Query.term_query(self.schema, "has", "code")))
        return clauses

    def _name_query(self, ranked: list[Term]) -> Any | None:
        """The query's words as one phrase in the author names (NAME_PHRASE_BOOST), when
        there are 2 to 4 of them: a reader who types a person's name gets that person,
        while one word that is also a surname ("low") stays a word."""
        tokens = [t for term in ranked for t in NAMES_AS_WRITTEN.analyze(" ".join(term.words))]
        if not 2 <= len(tokens) <= 4:
            return None
        phrase = tantivy.Query.phrase_query(self.schema, "names", tokens)
        return tantivy.Query.boost_query(phrase, NAME_PHRASE_BOOST)

    def expansion(self, query: KeywordQuery) -> tuple[list[Term], list[Term], Expansion]:
        """The query's ranked words and required phrases (querylang.ranking_terms) and
        what its acronyms and long forms add (paperwire.acronyms.expand, from this
        index's dictionary)."""
        ranked, required = ranking_terms(query)
        if not self.acronyms.pairs:
            return ranked, required, NO_EXPANSION
        singles = [t.words if len(t.words) == 1 and not t.prefix else () for t in ranked]
        words = [w for t in query.positive if not t.prefix for w in t.words]
        return ranked, required, expand(singles, words, self.acronyms)

    def _long_form_query(self, words: tuple[str, ...]) -> Any | None:
        """A long form as a phrase in the text (title and abstract), weighted as one word
        (BM25 sums a phrase's idf over its words: divided by their count). Not also in the
        title, as up to 280866a: a second phrase over the same words, and the cost of the
        expansion is the phrases' (bench/RESULTS.md §25: measured at 2.7M papers, equal
        nDCG@10 on both halves, the same hits for 99.6 % of the top 10 on real abstracts).
        Not its words without positions either: a conjunction of the words cost less
        (~40 % of the added time at 2.7M), but 28 % of an acronym's top 10 hits were then
        papers holding the words scattered, not the long form (1.7 % with the phrase)."""
        tokens = STEMMED.analyze(" ".join(words))
        if len(tokens) < 2:
            return None
        phrase = tantivy.Query.phrase_query(self.schema, "text", tokens)
        return tantivy.Query.boost_query(phrase, TEXT_BOOST / len(tokens))

    def _ranked_queries(self, query: KeywordQuery) -> tuple[list[Any], list[Any], list[Term]]:
        """(a query per ranked word, a query per required phrase, the ranked words). A word
        that is a known acronym matches it or its long forms (the better of them counts);
        a run of words that is a known long form matches them or its acronym (the better:
        measured on dev, adding the acronym as one more word cost the keyword leg 0.009,
        "pruning neural networks" counting "NN" on top of the words)."""
        ranked, required, expansion = self.expansion(query)
        built: dict[int, Any] = {}
        for position, term in enumerate(ranked):
            query_ = self._term_query(term)
            if query_ is None:
                continue
            alternatives = [
                q
                for q in map(self._long_form_query, expansion.long_forms.get(position, []))
                if q is not None
            ]
            if alternatives:
                query_ = tantivy.Query.disjunction_max_query([query_, *alternatives])
            built[position] = query_
        for acronym, positions in expansion.acronyms:
            acronym_query = self._term_query(Term(words=(acronym,)))
            run = [built.pop(p) for p in positions if p in built]
            if acronym_query is None or not run:
                continue
            # The long form's words or the acronym, whichever scores more (a paper
            # holding both counts the concept once).
            long_form = tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in run])
            built[positions[0]] = tantivy.Query.disjunction_max_query([long_form, acronym_query])
        words = [built[p] for p in sorted(built)]
        phrases = [q for q in map(self._term_query, required) if q is not None]
        return words, phrases, ranked

    def _build(self, query: KeywordQuery) -> Any:
        """The ranking query: every content word a SHOULD clause (BM25 summed over the words
        a paper holds; acronyms and long forms as _ranked_queries says), quoted phrases
        required, a paper holding every word boosted by ALL_WORDS_BONUS; filters and
        exclusions as MUST / MUST_NOT clauses."""
        words, phrases, ranked = self._ranked_queries(query)
        clauses: list[tuple[Any, Any]] = [(tantivy.Occur.Must, q) for q in phrases]
        if words:
            should = [(tantivy.Occur.Should, q) for q in words]
            name = self._name_query(ranked)
            if name is not None:
                should.append((tantivy.Occur.Should, name))
            if len(words) > 1 and ALL_WORDS_BONUS > 0:
                every = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in words])
                should.append(
                    (tantivy.Occur.Should, tantivy.Query.boost_query(every, ALL_WORDS_BONUS))
                )
            occur = tantivy.Occur.Should if phrases else tantivy.Occur.Must
            clauses.append((occur, tantivy.Query.boolean_query(should)))
        clauses += self._filters(query)
        for term in query.negative:
            excluded = self._term_query(term)
            if excluded is not None:
                clauses.append((tantivy.Occur.MustNot, excluded))
        if not words and not phrases:
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)

    def search(self, query: KeywordQuery, limit: int, offset: int = 0) -> list[tuple[int, float]]:
        """(paper id, score) best first: BM25 summed over the query words each paper holds
        (any of them), with the all-words bonus. A query of filters only lists the newest
        papers that pass them. No more hits are asked of tantivy than the index holds
        papers: it makes room for `limit + offset` hits up front, and an offset from a
        crafted API cursor (page 10**12) made it reserve petabytes and abort the process
        (review of issues 27/29)."""
        searcher = self.index.searcher()
        want = min(limit + offset, int(searcher.num_docs))
        if offset >= want:
            return []
        has_words = any(self._term_query(t) is not None for t in query.positive)
        if not has_words:
            if query.positive and not query.filters.active:
                return []  # only words with no indexable form (e.g. all punctuation)
            result = searcher.search(
                self._build(query), want, count=False, order_by_field="published"
            )
            pids = _pids(searcher, [addr for _key, addr in result.hits])
            return [(pid, 0.0) for pid in pids][offset:]
        result = searcher.search(self._build(query), want, count=False)
        # pid from the fast field: a column read, not a stored-document fetch per hit.
        ranked = [
            (pid, float(score))
            for pid, (score, _) in zip(
                _pids(searcher, [a for _s, a in result.hits]), result.hits, strict=True
            )
        ]
        return ranked[offset:want]

    def subset(self, query: KeywordQuery) -> Subset:
        """The papers passing the query's filters and exclusions (its words aside), for a
        search by meaning to look among: counted at once (a count collector, well under a
        millisecond), their ids read from the pid column only when asked (~0.9 us a
        paper: 9 ms for 10,000) and kept for the next query with the same filters, until
        the index changes (SUBSET_CACHE filters; a filter from a form's menu is asked
        again and again)."""
        filters = query.filters
        key = (
            self.watermark.store_id,
            self.watermark.seq_seen,
            tuple(filters.authors),
            filters.year_from,
            filters.year_to,
            tuple(c.lower() for c in filters.categories),
            tuple(filters.topics),
            filters.has_code,
            tuple((t.words, t.prefix) for t in query.negative),
        )
        with self._subset_lock:
            cached = self._subsets.get(key)
            if cached is not None:
                self._subsets.move_to_end(key)
                return Subset(len(cached), lambda: cached, known=True)
        only_filters = KeywordQuery(text=query.text, terms=query.negative, filters=filters)
        built = self._build(only_filters)
        searcher = self.index.searcher()
        # (the stubs lack SearchResult.count)
        count = int(searcher.search(built, 1, count=True).count)  # type: ignore[attr-defined]

        def ids() -> npt.NDArray[np.int64]:
            with self._subset_lock:
                known = self._subsets.get(key)
            if known is not None:
                return known
            found = np.zeros(0, dtype=np.int64)
            if count:
                hits = searcher.search(built, count, count=False).hits
                found = np.asarray(_pids(searcher, [a for _s, a in hits]), dtype=np.int64)
                found = found[found >= 0]
            with self._subset_lock:
                self._subsets[key] = found
                while len(self._subsets) > SUBSET_CACHE:
                    self._subsets.popitem(last=False)
            return found

        return Subset(count, ids)

    def count(self, query: KeywordQuery) -> int:
        """How many indexed papers hold the query's words and pass its filters (what
        "N papers contain ..." says; 0 when no paper holds a word of it)."""
        if query.positive and not any(self._term_query(t) is not None for t in query.positive):
            return 0
        found = self.index.searcher().search(self._build(query), 1, count=True)
        return _count_of(found)

    def undated_count(self, query: KeywordQuery) -> int:
        """How many papers a year range left out only for having no date: they hold the
        words and pass every other filter, and are indexed as year 0."""
        filters = query.filters
        if filters.year_from is None and filters.year_to is None:
            return 0
        free = replace(query, filters=replace(filters, year_from=None, year_to=None))
        if free.positive and not any(self._term_query(t) is not None for t in free.positive):
            return 0
        undated = tantivy.Query.range_query(self.schema, "year", tantivy.FieldType.Integer, 0, 0)
        both = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, self._build(free)), (tantivy.Occur.Must, undated)]
        )
        return _count_of(self.index.searcher().search(both, 1, count=True))

    def doc_count(self) -> int:
        """How many papers the index holds."""
        return int(self.index.searcher().num_docs)


def _count_of(result: Any) -> int:
    """The hit count of a search run with ``count=True`` (tantivy's type stub omits it)."""
    return int(result.count)


def _pids(searcher: Any, addresses: list[Any]) -> list[int]:
    """Paper ids of hits from the pid fast field (a column read, no document fetch)."""
    return [
        int(pid) if pid is not None else -1 for pid in searcher.fast_field_values("pid", addresses)
    ]


def query_stems(query: KeywordQuery) -> set[str]:
    """The indexed forms of the query's positive words and author names (for highlighting)."""
    found = set()
    for term in query.positive:
        found.update(STEMMED.analyze(" ".join(term.words)))
    for name in query.filters.authors:
        found.update(STEMMED.analyze(" ".join(name)))
    return found


def keyword_search(
    store: Store, index: Any, text: str | KeywordQuery, limit: int = 20, offset: int = 0
) -> list[SearchHit]:
    """BM25-ranked papers with highlighted titles and snippets (QueryError when the query
    has nothing to search). Brings the index up to date with the store first."""
    query = parse_query(text) if isinstance(text, str) else text
    limit = max(1, min(limit, MAX_LIMIT))
    if not index.is_current(store):
        index.sync(store)
    ranked = index.search(query, limit=limit, offset=max(0, offset))
    papers = store.get_papers([pid for pid, _ in ranked])
    stems = query_stems(query)

    def is_hit(word: str) -> bool:
        return stem(word) in stems

    hits = []
    for pid, score in ranked:
        paper = papers.get(pid)
        if paper is None or not paper.confirmed:  # deleted (or unconfirmed) since indexed
            continue
        hits.append(
            SearchHit(paper, score, highlight(paper.title, is_hit), snippet(paper.abstract, is_hit))
        )
    return hits


PASSING_CHUNK = 5000


def passing_ids(
    store: Store, index: Any, query: KeywordQuery, chunk: int = PASSING_CHUNK
) -> list[int]:
    """Every paper a query of filters only lets through, newest first (undated last),
    with no cap: what a page that counts and pages a set (an author's, a topic's papers)
    needs, where keyword_search stops at MAX_LIMIT. Ids only (the papers are fetched for
    the page shown); asked of the index `chunk` at a time, so any keyword index
    that lists a filters-only query newest first (tantivy's, the database's) serves it.
    Brings the index up to date with the store first."""
    if query.positive:
        raise ValueError("passing_ids takes a query of filters only")
    if not index.is_current(store):
        index.sync(store)
    found: dict[int, None] = {}
    asked = 0
    while True:
        got = index.search(query, limit=chunk, offset=asked)
        asked += chunk
        for pid, _score in got:
            found.setdefault(pid, None)
        if len(got) < chunk:
            return list(found)


def passing_page(
    store: Store, index: Any, query: KeywordQuery, limit: int, offset: int
) -> tuple[int, list[int]]:
    """How many papers a query of filters only lets through, and the ids of one page of
    them, newest first: counted by the index where it counts (tantivy: under a
    millisecond, then one page at its offset, where listing every id of a topic on 55k of
    100k papers takes ~0.5 s), else from every id (passing_ids)."""
    if query.positive:
        raise ValueError("passing_page takes a query of filters only")
    if not isinstance(index, LexicalIndex):
        every = passing_ids(store, index, query)
        return len(every), every[offset : offset + limit]
    if not index.is_current(store):
        index.sync(store)
    return index.count(query), [pid for pid, _ in index.search(query, limit, offset)]


class IndexBusyError(Exception):
    """Another live process is writing the keyword index."""


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux's
    PR_SET_PDEATHSIG), and end now if the parent is gone already."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(0)


def _follow_main(database_url: str, index_path: Path, stop: Any, indexed: Any, parent: int) -> None:
    """Body of the follower process (see :class:`BackgroundIndexer`). It dies with the
    import that started it: a follower outliving a killed import would hold the index's
    writer lock for good (found by an attack run: every later import and reindex
    indexed nothing)."""
    _die_with(parent)
    from paperwire.store import open_store

    store = open_store(database_url)
    try:
        index = LexicalIndex(index_path)

        def count(n: int) -> None:
            with indexed.get_lock():
                indexed.value += n

        def finished() -> bool:
            return bool(stop.is_set()) or os.getppid() != parent

        with contextlib.suppress(IndexBusyError):
            index.follow(store, finished, progress=count)
    finally:
        store.close()


class BackgroundIndexer:
    """Indexes a store's changes in a second process while this one imports, so that
    parsing and indexing run on two cores. ``finish()`` waits for the last batch."""

    def __init__(self, database_url: str, index_path: Path) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self.indexed = context.Value("q", 0)
        self._process = context.Process(
            target=_follow_main,
            args=(database_url, index_path, self._stop, self.indexed, os.getpid()),
            daemon=True,
        )
        self._process.start()

    def finish(self, timeout: float | None = None) -> int:
        """Tell the follower the import is over and wait for it to catch up."""
        self._stop.set()
        self._process.join(timeout)
        return int(self.indexed.value)
