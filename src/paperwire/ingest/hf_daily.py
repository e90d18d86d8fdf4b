"""Hugging Face's daily papers (``https://huggingface.co/api/daily_papers``): an array
of items, each ``{"paper": {...}, "publishedAt", "title", "thumbnail", "numComments",
"submittedBy": {...}, "isAuthorParticipating"}``; the paper object holds ``id`` (the
arXiv id), ``title``, ``summary``, ``authors`` [{``name``, ``hidden``, ...}],
``publishedAt``, ``submittedOnDailyAt``, ``submittedOnDailyBy``, ``upvotes``,
``githubRepo``, ``githubStars``, ``ai_summary``, ``ai_keywords``, ``projectPage``.
Saved lists of bare paper objects (no wrapper) are read too.

:func:`parse_items` gives every field as a :class:`DailyItem` (for a sources feature
that needs the community signals); :func:`parse` gives Papers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from paperwire import upstream
from paperwire.ingest.common import (
    Input,
    Parsed,
    RecordError,
    RecordWarning,
    clean_ws,
    json_array_records,
)
from paperwire.models import Author, Paper, extract_code_urls, normalise_arxiv_id

FORMAT = "hf-daily"


def looks_like_hf_daily(first: dict[str, Any]) -> bool:
    """True for a daily-papers item (wrapped or bare paper object)."""
    paper = first.get("paper")
    if isinstance(paper, dict) and "id" in paper:
        return True
    return "id" in first and ("submittedOnDailyAt" in first or "submittedOnDailyBy" in first)


@dataclass(slots=True)
class DailyItem:
    """One daily-papers entry with the community fields a Paper does not carry."""

    arxiv_id: str
    title: str
    summary: str
    authors: list[str]
    published_at: datetime | None
    submitted_on_daily_at: datetime | None
    submitted_by: str | None
    upvotes: int
    num_comments: int
    github_repo: str | None
    github_stars: int | None
    project_page: str | None
    ai_summary: str | None
    ai_keywords: list[str] = field(default_factory=list)
    organization: str | None = None
    organization_name: str | None = None  # the full name ("Multimedia and Human ...")
    # Models, datasets and Spaces citing the paper: (count, ids) where the API gives them.
    linked: dict[str, tuple[int | None, list[str]]] = field(default_factory=dict)

    def extras(self, read_at: datetime) -> upstream.Extras:
        """What HF says beyond the record, stamped with the time it was read."""
        org = (
            {"name": self.organization, "fullname": self.organization_name or self.organization}
            if self.organization
            else None
        )
        fields: dict[str, Any] = {
            upstream.SUMMARY: self.ai_summary,
            upstream.KEYWORDS: self.ai_keywords,
            upstream.ORGANIZATION: org,
            upstream.PROJECT_PAGE: self.project_page,
            upstream.SUBMITTER: self.submitted_by,
        }
        if self.github_repo:
            fields[upstream.CODE] = [{"url": self.github_repo, "stars": self.github_stars}]
        for name, (count, ids) in self.linked.items():
            fields[name] = {"count": count, "ids": ids}
        return upstream.make(FORMAT, read_at, **fields)

    def to_paper(self, read_at: datetime | None = None) -> Paper:
        """The paper as paperwire stores it: the upvotes count HF reported, the GitHub
        repository as a code link, and HF's other fields as upstream extras read at
        `read_at` (now when not given)."""
        code = [self.github_repo] if self.github_repo else []
        for url in extract_code_urls(self.summary):
            if url not in code:
                code.append(url)
        return Paper(
            title=self.title,
            abstract=self.summary,
            arxiv_id=self.arxiv_id,
            authors=[Author(name) for name in self.authors],
            published=self.published_at.date() if self.published_at else None,
            upvotes=self.upvotes,
            code_urls=code,
            sources=[FORMAT],
            extras=self.extras(read_at or datetime.now(UTC)),
        )


def _time(value: Any, name: str, problems: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"{name} {str(value)[:40]!r} is not a time; ignored")
        return None


def _count(value: Any, name: str, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(f"{name} {str(value)[:20]!r} is not a count; ignored")
        return None
    return value


def _user(value: Any) -> str | None:
    if isinstance(value, dict):
        name = value.get("user") or value.get("name") or value.get("fullname")
        return str(name) if name else None
    return None


def _linked(paper: dict[str, Any], problems: list[str]) -> dict[str, tuple[int | None, list[str]]]:
    """Models, datasets and Spaces citing the paper (the paper API's ``numTotalModels``
    and ``linkedModels``, ... ; the daily list leaves them out)."""
    found: dict[str, tuple[int | None, list[str]]] = {}
    for name, key in (
        (upstream.MODELS, "Models"),
        (upstream.DATASETS, "Datasets"),
        (upstream.SPACES, "Spaces"),
    ):
        count = _count(paper.get(f"numTotal{key}"), f"numTotal{key}", problems)
        repos = paper.get(f"linked{key}")
        ids = (
            [str(r["id"]) for r in repos if isinstance(r, dict) and isinstance(r.get("id"), str)]
            if isinstance(repos, list)
            else []
        )
        if count is not None or ids:
            found[name] = (count, ids)
    return found


def item_to_daily(item: Any, problems: list[str]) -> DailyItem:
    """One daily-papers entry; ValueError names what is wrong with it."""
    if not isinstance(item, dict):
        raise ValueError(f"expected a JSON object, got {type(item).__name__}")
    wrapped = item.get("paper")
    paper: dict[str, Any] = wrapped if isinstance(wrapped, dict) else item
    raw_id = str(paper.get("id") or "")
    arxiv_id = normalise_arxiv_id(raw_id)
    if arxiv_id is None:
        raise ValueError(f"paper id {raw_id[:60]!r} is not an arXiv id")
    title = clean_ws(str(paper.get("title") or item.get("title") or ""))
    if not title:
        raise ValueError(f"paper {arxiv_id} has no title")
    authors = [
        clean_ws(str(a["name"]))
        for a in paper.get("authors") or []
        if isinstance(a, dict) and a.get("name")
    ]
    keywords = paper.get("ai_keywords") or []
    organization = paper.get("organization") or item.get("organization")
    github = paper.get("githubRepo")
    return DailyItem(
        arxiv_id=arxiv_id,
        title=title,
        summary=clean_ws(str(paper.get("summary") or "")),
        authors=authors,
        published_at=_time(paper.get("publishedAt"), "publishedAt", problems),
        submitted_on_daily_at=_time(
            paper.get("submittedOnDailyAt"), "submittedOnDailyAt", problems
        ),
        submitted_by=_user(paper.get("submittedOnDailyBy")) or _user(item.get("submittedBy")),
        upvotes=_count(paper.get("upvotes"), "upvotes", problems) or 0,
        num_comments=_count(item.get("numComments"), "numComments", problems) or 0,
        github_repo=str(github) if isinstance(github, str) and github.startswith("http") else None,
        github_stars=_count(paper.get("githubStars"), "githubStars", problems),
        project_page=str(paper["projectPage"]) if paper.get("projectPage") else None,
        ai_summary=clean_ws(str(paper["ai_summary"])) if paper.get("ai_summary") else None,
        ai_keywords=[str(k) for k in keywords if isinstance(k, str)]
        if isinstance(keywords, list)
        else [],
        organization=_user(organization) if isinstance(organization, dict) else None,
        organization_name=str(organization["fullname"])
        if isinstance(organization, dict) and organization.get("fullname")
        else None,
        linked=_linked(paper, problems),
    )


def parse_items(
    data: Input, source: str = "<hf-daily>"
) -> Iterator[DailyItem | RecordError | RecordWarning]:
    """Every entry of a daily-papers response with all its fields (constant memory)."""
    yield from json_array_records(data, source, item_to_daily)


def parse(data: Input, source: str = "<hf-daily>") -> Iterator[Parsed]:
    """Papers of a daily-papers response."""
    for item in parse_items(data, source):
        yield item.to_paper() if isinstance(item, DailyItem) else item
