"""Export writers: paperwire JSON lines (lossless), BibTeX (BibLaTeX-compatible fields
too) and CSL JSON, each written as a stream (one paper at a time) and read back by the
importers of this package to the same papers (round-trip tested).

BibTeX is :func:`paperwire.cite.bibtex`, the entry the paper page shows (one rule for
key and escaping). What each format cannot carry: BibTeX keeps only the primary category
and no abstract, upvotes or further code links; CSL JSON keeps no categories, upvotes or code links.
Importing an export into a store that has the papers loses nothing, since merges only
add (see :func:`paperwire.models.merge_papers`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from paperwire import cite, upstream
from paperwire.cite import cite_key
from paperwire.ingest import jsonl
from paperwire.models import Paper

EXPORT_FORMATS = ("jsonl", "bibtex", "csl-json")


def unique_keys(papers: Iterable[Paper]) -> Iterator[tuple[Paper, str]]:
    """Each paper with its :func:`paperwire.cite.cite_key`; a key already used in this
    file takes the first free suffix ``b``, ``c``, ... (as Google Scholar does), so one
    file never holds a key twice."""
    used: set[str] = set()
    for paper in papers:
        base = key = cite_key(paper)
        n = 1
        while key in used:
            n += 1
            key = base + (chr(ord("a") + n - 1) if n <= 26 else str(n))
        used.add(key)
        yield paper, key


def csl_item(paper: Paper) -> dict[str, Any]:
    """One paper as a CSL JSON item: "Given Family" split at the last space (a single
    word is a literal name); arXiv papers typed ``article`` with ``number`` "arXiv:ID"
    and ``publisher`` "arXiv", as Zotero exports preprints."""
    item: dict[str, Any] = {
        "id": cite_key(paper),
        "type": "article-journal" if paper.journal_ref else "article",
        "title": paper.title,
    }
    authors: list[dict[str, str]] = []
    for author in paper.authors:
        given, _, family = author.name.rpartition(" ")
        authors.append({"given": given, "family": family} if given else {"literal": family})
    if authors:
        item["author"] = authors
    if paper.published:
        day = paper.published
        item["issued"] = {"date-parts": [[day.year, day.month, day.day]]}
    if paper.arxiv_id:
        item["number"] = f"arXiv:{paper.arxiv_id}"
        item["publisher"] = "arXiv"
    if paper.journal_ref:
        item["container-title"] = paper.journal_ref
    if paper.doi:
        item["DOI"] = paper.doi
    if paper.url:
        item["URL"] = paper.url
    if paper.abstract:
        item["abstract"] = paper.abstract
    note = cite.note(paper)
    if note:
        item["note"] = note
    keywords = upstream.value(paper.extras, upstream.KEYWORDS)
    if keywords:
        item["keyword"] = ", ".join(keywords)
    return item


def write(papers: Iterable[Paper], target: IO[str], format: str) -> int:
    """Write every paper in `format` (one of EXPORT_FORMATS) as it comes; the count."""
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {format!r}; one of {', '.join(EXPORT_FORMATS)}")
    count = 0
    if format == "csl-json":
        target.write("[")
    for paper, key in unique_keys(papers):
        if format == "jsonl":
            target.write(jsonl.dumps(paper) + "\n")
        elif format == "bibtex":
            target.write(("\n" if count else "") + cite.bibtex(paper, key))
        else:
            target.write(("," if count else "") + "\n  ")
            target.write(json.dumps(csl_item(paper) | {"id": key}, ensure_ascii=False))
        count += 1
    if format == "csl-json":
        target.write("\n]\n")
    return count
