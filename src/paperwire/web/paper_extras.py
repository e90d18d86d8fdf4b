"""What upstream says about a paper, as the pages, the JSON API and the Atom entries show
it (issue 29): the one-line TL;DR, keywords as topic links, the code badge with stars,
the project page, the organization, "used by N models", arXiv's comments and journal
reference, and for each field its source and read time. One view (:func:`extras_view`)
feeds every presentation, so they cannot disagree."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote

from pydantic import BaseModel, Field

from paperwire import upstream
from paperwire.models import Paper
from paperwire.search.results import SearchHit
from paperwire.topics import Topic, keyword_topics, slugify, topics_of
from paperwire.web.atom import AtomFeed

_SOURCE_NAMES = {"hf-daily": "Hugging Face", "local": "this site"}


def source_name(source: str) -> str:
    """A source as a reader knows it ("hf-daily" -> "Hugging Face")."""
    return _SOURCE_NAMES.get(source, source)


@dataclass(slots=True)
class CodeLink:
    """A code repository: its URL, host, and stars when upstream gave them."""

    url: str
    host: str
    stars: int | None = None


@dataclass(slots=True)
class ExtrasView:
    """Everything a page shows beyond the record (empty fields are None / empty)."""

    summary: str | None = None
    keywords: list[Topic] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    code: list[CodeLink] = field(default_factory=list)
    stars: int | None = None
    project_page: str | None = None
    organization: dict[str, str] | None = None
    models: int | None = None
    datasets: int | None = None
    spaces: int | None = None
    submitter: str | None = None
    # field -> "Hugging Face, read 2026-03-06T03:55:12Z"
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def has_code(self) -> bool:
        """True when the paper links a code repository."""
        return bool(self.code)


def _host(url: str) -> str:
    parts = url.split("/")
    return parts[2].removeprefix("www.") if len(parts) > 2 else url


def _count(extras: upstream.Extras, name: str) -> int | None:
    linked = upstream.value(extras, name)
    return int(linked["count"]) if linked else None


def extras_view(paper: Paper) -> ExtrasView:
    """The view of a paper's upstream fields (code links: upstream's repositories with
    their stars first, then those found in the abstract and arXiv comments)."""
    extras = paper.extras
    code: list[CodeLink] = []
    for repo in upstream.value(extras, upstream.CODE) or []:
        code.append(CodeLink(repo["url"], _host(repo["url"]), repo.get("stars")))
    for url in paper.code_urls:
        if url.startswith(("https://", "http://")) and all(c.url != url for c in code):
            code.append(CodeLink(url, _host(url)))
    return ExtrasView(
        summary=upstream.value(extras, upstream.SUMMARY),
        keywords=keyword_topics(paper),
        topics=topics_of(paper),
        code=code,
        stars=upstream.stars(extras),
        project_page=upstream.value(extras, upstream.PROJECT_PAGE),
        organization=upstream.value(extras, upstream.ORGANIZATION),
        models=_count(extras, upstream.MODELS),
        datasets=_count(extras, upstream.DATASETS),
        spaces=_count(extras, upstream.SPACES),
        submitter=upstream.value(extras, upstream.SUBMITTER),
        provenance={
            name: f"{source_name(e.source)}, read {e.read_at}" for name, e in extras.items()
        },
    )


# sort:stars reorders this many best results (the rest follow by relevance on no page).
STARS_DEPTH = 500


def by_stars(hits: list[SearchHit]) -> list[SearchHit]:
    """Search hits by their code's GitHub stars, most first; hits whose stars are not
    known keep their rank order after those (a stable sort)."""
    return sorted(hits, key=lambda h: -(upstream.stars(h.paper.extras) or -1))


def topic_url(topic: Topic | str) -> str:
    """The page of a topic."""
    slug = topic.slug if isinstance(topic, Topic) else slugify(topic)
    return f"/topics/{quote(slug)}"


def organization_url(name: str) -> str:
    """The page of an organization (by its upstream short name)."""
    return f"/organizations/{quote(name, safe='')}"


# -- the JSON API ---------------------------------------------------------------------


class CodeRepoOut(BaseModel):
    """A code repository of the paper."""

    url: str
    stars: int | None = Field(default=None, description="GitHub stars as upstream last read them")


class OrganizationOut(BaseModel):
    """The organization upstream files the paper under."""

    name: str
    fullname: str


class LinkedOut(BaseModel):
    """Hub repositories (models, datasets or Spaces) citing the paper."""

    count: int
    ids: list[str] = Field(default_factory=list, description="Those upstream listed by id")


class SourcedOut(BaseModel):
    """Where one field came from and when it was read."""

    source: str = Field(description='"hf-daily" (Hugging Face) or "local" (extracted here)')
    read_at: str = Field(description="UTC, ISO 8601")


class TopicOut(BaseModel):
    """One topic of the paper."""

    slug: str
    name: str
    kind: str = Field(description='"category", "keyword" (upstream) or "keyphrase" (local)')


class UpstreamOut(BaseModel):
    """What upstream says about the paper beyond its record."""

    summary: str | None = Field(default=None, description="One-line TL;DR (HF ai_summary)")
    keywords: list[str] = Field(default_factory=list, description="HF ai_keywords")
    topics: list[TopicOut] = Field(default_factory=list)
    organization: OrganizationOut | None = None
    project_page: str | None = None
    code: list[CodeRepoOut] = Field(default_factory=list)
    stars: int | None = Field(default=None, description="Most stars of its repositories")
    models: LinkedOut | None = None
    datasets: LinkedOut | None = None
    spaces: LinkedOut | None = None
    submitter: str | None = Field(default=None, description="Who listed it upstream")
    journal_ref: str | None = Field(default=None, description="arXiv's journal reference")
    arxiv_comments: str | None = Field(default=None, description="arXiv's comments line")
    provenance: dict[str, SourcedOut] = Field(
        default_factory=dict, description="Per upstream field: its source and read time"
    )


def upstream_out(paper: Paper) -> UpstreamOut:
    """The API form of a paper's upstream fields."""
    view = extras_view(paper)
    extras = paper.extras

    def linked(name: str) -> LinkedOut | None:
        value = upstream.value(extras, name)
        return LinkedOut(count=value["count"], ids=value["ids"]) if value else None

    return UpstreamOut(
        summary=view.summary,
        keywords=list(upstream.value(extras, upstream.KEYWORDS) or []),
        topics=[TopicOut(slug=t.slug, name=t.name, kind=t.kind) for t in view.topics],
        organization=OrganizationOut(**view.organization) if view.organization else None,
        project_page=view.project_page,
        code=[CodeRepoOut(url=c.url, stars=c.stars) for c in view.code],
        stars=view.stars,
        models=linked(upstream.MODELS),
        datasets=linked(upstream.DATASETS),
        spaces=linked(upstream.SPACES),
        submitter=view.submitter,
        journal_ref=paper.journal_ref,
        arxiv_comments=paper.comments,
        provenance={
            name: SourcedOut(source=e.source, read_at=e.read_at) for name, e in extras.items()
        },
    )


# -- Atom entries ---------------------------------------------------------------------


def atom_extras(feed: AtomFeed, item: ET.Element, paper: Paper, base: str) -> str:
    """Add a paper's upstream fields to its Atom entry: keywords as categories in the
    topics scheme, the code repositories and project page as related links (stars in
    the title); returns the HTML to put before the abstract (the TL;DR, the code and
    the organization), '' when there is none."""
    view = extras_view(paper)
    for topic in view.keywords:
        feed.add(item, "category", term=topic.slug, label=topic.name, scheme=base + "/topics/")
    for repo in view.code:
        stars = f" ({repo.stars} stars)" if repo.stars is not None else ""
        feed.add(item, "link", rel="related", href=repo.url, title=f"Code{stars}")
    if view.project_page:
        feed.add(item, "link", rel="related", href=view.project_page, title="Project page")
    parts: list[str] = []
    if view.summary:
        parts.append(f"<p><strong>TL;DR:</strong> {escape(view.summary)}</p>")
    facts: list[str] = []
    if view.organization:
        facts.append(f"Organization: {escape(view.organization['fullname'])}")
    if view.code:
        stars = f" ({view.stars} stars)" if view.stars is not None else ""
        facts.append(f"Code: {escape(view.code[0].url)}{stars}")
    if view.models:
        facts.append(f"Used by {view.models} model{'s' if view.models != 1 else ''}")
    if facts:
        parts.append(f"<p>{' · '.join(facts)}</p>")
    return "".join(parts)
