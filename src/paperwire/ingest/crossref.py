"""BibTeX's ``crossref``: an entry takes the fields it lacks from the entry it names, in
either order of appearance within the file, as biber does (biblatex manual, appendix B,
"default inheritance setup"):

- every field is inherited under its own name unless the child has it, except the ones
  that identify an entry (``ids``, ``crossref``, ``xref``, ``label``, ``sortkey``, ...);
- from a book, collection, reference or proceedings into a part of it (``@inbook``,
  ``@incollection``, ``@inproceedings``, ...), the parent's ``title``/``subtitle``/
  ``titleaddon`` become the child's ``booktitle``/``booksubtitle``/``booktitleaddon``, its
  ``author`` also ``bookauthor``; from a multi-volume work (``@mvbook``, ...) they become
  ``maintitle``...; from a ``@periodical`` into an ``@article``, ``journaltitle``; short,
  sort and index titles are not inherited across those pairs;
- a child still without a title after that takes the parent's, as BibTeX does (BibTeX
  copies every missing field verbatim);
- a parent with no title of its own (classic BibTeX proceedings carry only ``booktitle``)
  is a container for its children, not a paper and not an error.

Read as a stream, in memory that does not grow with the library: the entries that can be
parents (the volume types of PARENT_KINDS, and entries without a title) are remembered,
up to MAX_REMEMBERED_CHARS of field text, so a later child finds its parent; a child whose
parent is not seen yet waits (up to MAX_WAITING entries) and is emitted when the parent
arrives, or at the end of the file with a warning that its crossref names no entry of the
file (BibTeX warns "a bad cross reference" too)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from paperwire.ingest.common import RecordError

if TYPE_CHECKING:
    from paperwire.ingest.bibtex import Entry

MAX_REMEMBERED_CHARS = 32 * 1024 * 1024
MAX_WAITING = 10_000
_MAX_DEPTH = 8
# What a crossref names in practice: a volume. Papers (articles, parts of volumes) are
# not remembered, so a library of 100,000 papers is read in the memory of one.
PARENT_KINDS = frozenset(
    (
        *("book", "mvbook", "collection", "mvcollection", "proceedings", "mvproceedings"),
        *("reference", "mvreference", "periodical", "journal", "booklet", "manual"),
    )
)

_NEVER = frozenset(
    (
        *("ids", "crossref", "xref", "entryset", "entrysubtype", "execute", "label"),
        *("options", "presort", "related", "relatedoptions", "relatedstring"),
        *("relatedtype", "shorthand", "shorthandintro", "sortkey"),
    )
)
_NOT_ACROSS = frozenset(("shorttitle", "sorttitle", "indextitle", "indexsorttitle"))
_PARTS_OF_BOOKS = {"inbook", "bookinbook", "suppbook"}
_PARTS_OF_COLLECTIONS = {"incollection", "inreference", "suppcollection"}
# (parent types, child types) -> the prefix the parent's titles take in the child.
_TITLE_PAIRS: list[tuple[set[str], set[str], str]] = [
    ({"mvbook"}, {*_PARTS_OF_BOOKS, "book"}, "main"),
    ({"mvcollection", "mvreference"}, {*_PARTS_OF_COLLECTIONS, "collection", "reference"}, "main"),
    ({"mvproceedings"}, {"proceedings", "inproceedings"}, "main"),
    ({"book"}, _PARTS_OF_BOOKS, "book"),
    ({"collection", "reference"}, _PARTS_OF_COLLECTIONS, "book"),
    ({"proceedings"}, {"inproceedings"}, "book"),
    ({"periodical"}, {"article", "suppperiodical"}, "journal"),
]


def _prefix(parent_kind: str, child_kind: str) -> str | None:
    for parents, children, prefix in _TITLE_PAIRS:
        if parent_kind in parents and child_kind in children:
            return prefix
    return None


def inherit(child: Entry, parent: Entry) -> Entry:
    """The child with the fields it takes from its parent (see the module)."""
    fields = dict(child.fields)
    prefix = _prefix(parent.kind, child.kind)
    for name, value in parent.fields.items():
        if name in _NEVER:
            continue
        target = name
        if prefix is not None:
            if name in _NOT_ACROSS:
                continue
            if name in ("title", "subtitle", "titleaddon"):
                target = prefix + name
                if prefix == "journal" and name == "title":
                    target = "journaltitle"
            elif name == "author" and prefix == "book":
                fields.setdefault("bookauthor", value)
        fields.setdefault(target, value)
    if not fields.get("title", "").strip() and parent.fields.get("title", "").strip():
        fields["title"] = parent.fields["title"]  # BibTeX's rule: a missing field is copied
    return replace(child, fields=fields, warnings=[*child.warnings, *parent.warnings])


def _name(key: str) -> str:
    return key.strip().lower()


def resolved(
    items: Iterable[Entry | RecordError],
) -> Iterator[tuple[Entry, str | None] | RecordError]:
    """Every entry with its crossref applied, as (entry, warning or None); the reader's
    RecordErrors pass through. An entry with no title that a crossref names is a
    container and left out; one that none names comes out last (the caller reports it)."""
    remembered: dict[str, Entry] = {}
    size = 0
    waiting: dict[str, list[Entry]] = {}
    waiting_count = 0
    named: set[str] = set()
    untitled: dict[str, Entry] = {}

    def lineage(entry: Entry, depth: int = 0) -> Entry:
        parent = remembered.get(_name(entry.fields.get("crossref", "")))
        if parent is None or depth >= _MAX_DEPTH:
            return entry
        return inherit(entry, lineage(parent, depth + 1))

    for entry in items:
        if isinstance(entry, RecordError):
            yield entry
            continue
        key = _name(entry.key)
        can_parent = entry.kind in PARENT_KINDS or not entry.fields.get("title", "").strip()
        if key and can_parent and size < MAX_REMEMBERED_CHARS:
            remembered.setdefault(key, entry)
            size += sum(len(v) for v in entry.fields.values())
        parent_key = _name(entry.fields.get("crossref", ""))
        if parent_key:
            named.add(parent_key)
            untitled.pop(parent_key, None)
            if parent_key in remembered:
                yield lineage(entry), None
            elif waiting_count < MAX_WAITING:
                waiting.setdefault(parent_key, []).append(entry)
                waiting_count += 1
            else:
                yield entry, f"crossref {parent_key!r} not seen yet; its fields are not used"
        elif entry.fields.get("title", "").strip() or not key:
            yield entry, None
        elif key not in named:
            if len(untitled) < MAX_WAITING:
                untitled[key] = entry  # a container, if a later entry names it
            else:
                yield entry, None
        for child in waiting.pop(key, []):
            waiting_count -= 1
            yield lineage(child), None
    for children in waiting.values():
        for child in children:
            crossref = child.fields.get("crossref", "")
            yield child, f"crossref {crossref[:60]!r} names no entry of this file; ignored"
    yield from ((entry, None) for entry in untitled.values())
