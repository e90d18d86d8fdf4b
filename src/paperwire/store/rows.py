"""Paper <-> row conversion shared by the engines, and the identity planning of a batch
upsert: which incoming records are one paper, and which stored paper each one merges into."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

import orjson

from paperwire import upstream
from paperwire.models import Author, Paper, merge_papers
from paperwire.store.records import PaperText
from paperwire.topics import topics_column


class RowLike(Protocol):
    """A database row readable by column name (sqlite3.Row, psycopg dict rows)."""

    def __getitem__(self, key: str) -> Any: ...


# Column order of the papers table as the engines write it.
PAPER_COLUMNS = (
    "key",
    "arxiv_id",
    "title_norm",
    "title_hash",
    "title",
    "abstract",
    "authors",
    "authors_json",
    "author_count",
    "published",
    "updated",
    "year",
    "categories",
    "doi",
    "url",
    "code_urls",
    "upvotes",
    "sources",
    "journal_ref",
    "comments",
    "confirmed",
    "extras",
    "stars",
    "topics",
    "organization",
)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


# The extras columns of a paper without upstream fields (nearly every imported paper):
# (extras, stars, topics, organization) as paper_to_row would compute them.
_NO_EXTRAS = ("{}", None, "", None)


def _extras_columns(paper: Paper) -> tuple[str, int | None, str, str | None]:
    extras = paper.extras
    if not extras:
        return _NO_EXTRAS
    return (
        _dumps(upstream.to_json(extras)),
        upstream.stars(extras),
        topics_column(paper),
        upstream.organization_name(extras),
    )


def _list_json(values: list[str]) -> str:
    return _dumps(values) if values else "[]"


def paper_to_row(paper: Paper) -> tuple[Any, ...]:
    """The papers-table values of a Paper, in PAPER_COLUMNS order. (Written for speed:
    an import converts every paper, and this was 11 µs of a paper's ~113; issue 30.)"""
    norm = paper.title_norm
    authors = paper.authors
    names = [a.name for a in authors]
    published = paper.published
    extras, stars, topics, organization = _extras_columns(paper)
    return (
        paper.key,
        paper.arxiv_id,
        norm,
        title_hash(norm),
        paper.title,
        paper.abstract,
        "; ".join(names),
        _dumps([[a.name, a.affiliation] for a in authors]) if authors else "[]",
        len(authors) if authors else paper.author_count,
        published.isoformat() if published else None,
        paper.updated.isoformat() if paper.updated else None,
        published.year if published else None,
        " ".join(paper.categories),
        paper.doi,
        paper.url,
        _list_json(paper.code_urls),
        paper.upvotes,
        _list_json(paper.sources),
        paper.journal_ref,
        paper.comments,
        int(paper.confirmed),
        extras,
        stars,
        topics,
        organization,
    )


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def authors_of(authors_json: str | bytes) -> list[Author]:
    """The authors a papers row's authors_json holds ([[name, affiliation], ...])."""
    return [Author(name, affiliation) for name, affiliation in orjson.loads(authors_json)]


def row_to_paper(row: RowLike) -> Paper:
    """A Paper from a papers-table row (mapping by column name)."""
    authors = authors_of(row["authors_json"])
    return Paper(
        title=row["title"],
        abstract=row["abstract"],
        arxiv_id=row["arxiv_id"],
        authors=authors,
        author_count=None if authors else row["author_count"],
        published=_day(row["published"]),
        updated=_day(row["updated"]),
        categories=row["categories"].split() if row["categories"] else [],
        doi=row["doi"],
        url=row["url"],
        code_urls=orjson.loads(row["code_urls"]),
        upvotes=row["upvotes"],
        sources=orjson.loads(row["sources"]),
        journal_ref=row["journal_ref"],
        comments=row["comments"],
        confirmed=bool(row["confirmed"]),
        extras=upstream.from_json(orjson.loads(row["extras"])) if row["extras"] != "{}" else {},
    )


def text_from_row(row: Any) -> PaperText:
    """What the keyword index reads of a papers row: (id, seq, title, abstract,
    authors_json, categories, published, confirmed, topics, code_urls) in that order."""
    return PaperText(
        id=row[0],
        title=row[2],
        abstract=row[3],
        authors=[author[0] for author in orjson.loads(row[4])],
        categories=row[5].split() if row[5] else [],
        published=_day(row[6]),
        confirmed=bool(row[7]),
        topics=[slug for slug in (row[8] or "").split("|") if slug],
        has_code=bool(row[9]) and row[9] != "[]",
    )


@lru_cache(maxsize=1 << 14)
def title_hash(title_norm: str) -> int:
    """A signed 64-bit hash of a normalised title: the store indexes this instead of the
    long string (smaller index, cheaper inserts); matches are confirmed on the string.
    (Cached: an upsert asks for it twice, to look the title up and to write the row.)"""
    digest = hashlib.blake2b(title_norm.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def text_hash(paper: Paper) -> str:
    """Which text a vector was made from: changes when the title's folded form or the
    abstract's length changes (what a corrected record changes), computed the same
    way in SQL (``title_norm || ':' || length(abstract)``)."""
    return f"{paper.title_norm}:{len(paper.abstract)}"


def fold_batch(papers: Iterable[Paper]) -> list[Paper]:
    """Merge records of the same paper within one batch (same arXiv id, or same
    normalised title where at most one side has an arXiv id)."""
    folded: list[Paper] = []
    by_arxiv: dict[str, int] = {}
    by_title: dict[str, int] = {}
    for paper in papers:
        norm = paper.title_norm
        index = by_arxiv.get(paper.arxiv_id) if paper.arxiv_id else None
        if index is None and norm in by_title:
            candidate = by_title[norm]
            if not (paper.arxiv_id and folded[candidate].arxiv_id):
                index = candidate
        if index is None:
            folded.append(paper)
            index = len(folded) - 1
        else:
            folded[index] = merge_papers(folded[index], paper)
        merged = folded[index]
        if merged.arxiv_id:
            by_arxiv[merged.arxiv_id] = index
        by_title.setdefault(norm, index)
        if merged is not paper:  # a merge may keep the other record's title
            by_title.setdefault(merged.title_norm, index)
    return folded


@dataclass(slots=True)
class Stored:
    """A stored paper found for an incoming record: its row id, current key and value."""

    id: int
    key: str
    paper: Paper


@dataclass(slots=True)
class Plan:
    """What to write for one batch."""

    inserts: list[Paper]
    updates: list[tuple[Stored, Paper]]  # (what is stored, the merged value)
    unchanged: int


def plan_upserts(
    batch: list[Paper],
    by_arxiv: Callable[[list[str]], dict[str, Stored]],
    by_title: Callable[[list[str]], dict[str, Stored]],
) -> Plan:
    """Resolve each (already folded) record against the store: by arXiv id first, then by
    normalised title (never merging two different arXiv ids)."""
    known_ids = by_arxiv([p.arxiv_id for p in batch if p.arxiv_id])
    norms = [p.title_norm for p in batch]
    known_titles = by_title(norms)
    plan = Plan(inserts=[], updates=[], unchanged=0)
    claimed: dict[int, int] = {}  # stored id -> index in plan.updates
    for paper, norm in zip(batch, norms, strict=True):
        stored = known_ids.get(paper.arxiv_id) if paper.arxiv_id else None
        if stored is None:
            candidate = known_titles.get(norm)
            if candidate and not (paper.arxiv_id and candidate.paper.arxiv_id):
                stored = candidate
        if stored is None:
            plan.inserts.append(paper)
            continue
        if stored.id in claimed:  # two records of the batch met in one stored paper
            position = claimed[stored.id]
            previous = plan.updates[position][1]
            plan.updates[position] = (stored, merge_papers(previous, paper))
            continue
        merged = merge_papers(stored.paper, paper)
        if merged == stored.paper:
            plan.unchanged += 1
            continue
        claimed[stored.id] = len(plan.updates)
        plan.updates.append((stored, merged))
    return plan
