"""The JSON API's schemas, in one place: what each route takes and answers (they make
/openapi.json), and the one conversion from a feed entry to its API form."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from paperwire.models import FeedEntry
from paperwire.presentation import paper_url
from paperwire.search.hybrid import Mode
from paperwire.web.paper_extras import UpstreamOut, upstream_out

PROBLEM = {"content": {"application/problem+json": {}}, "description": "Problem details"}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: PROBLEM,
    401: PROBLEM,
    403: PROBLEM,
    404: PROBLEM,
    413: PROBLEM,
    422: PROBLEM,
    429: PROBLEM,
    502: PROBLEM,
    503: PROBLEM,
}


class Listing(BaseModel):
    """Where a paper is listed in the daily feed."""

    day: date
    submitter: str | None = Field(description="Handle of the submitter; null if imported")
    hidden: bool
    upstream_source: str | None = Field(
        default=None, description="The source that listed it (e.g. huggingface); null if none"
    )
    upstream_submitter: str | None = Field(
        default=None, description="Who listed it on that source (its user name there)"
    )


class PaperOut(BaseModel):
    """A paper with its community data."""

    key: str
    arxiv_id: str | None
    title: str
    abstract: str
    authors: list[str]
    author_count: int | None
    published: date | None
    categories: list[str]
    doi: str | None
    url: str = Field(description="The paper's page on this site")
    arxiv_url: str | None
    pdf_url: str | None
    code_urls: list[str]
    upvotes: int = Field(description="upstream_upvotes + local_upvotes")
    upstream_upvotes: int = Field(default=0, description="The count its source reported")
    local_upvotes: int = Field(default=0, description="Votes cast on this site")
    voted: bool = Field(description="Whether the caller has upvoted it")
    listed: Listing | None
    comments: int = Field(default=0, description="Visible comments on it")
    upstream: UpstreamOut = Field(description="What upstream says beyond the record")


class PaperPage(BaseModel):
    """A page of papers and the cursor of the next page (null at the end)."""

    data: list[PaperOut]
    next: str | None


class Hit(BaseModel):
    """A search result."""

    paper: PaperOut
    score: float
    snippet: str


class SearchPage(BaseModel):
    """Search results and the offset of the next page."""

    data: list[Hit]
    next: str | None


class TrendingItem(BaseModel):
    """A trending paper and its decayed score."""

    paper: PaperOut
    score: float


class TrendingList(BaseModel):
    """Trending papers, best first, and how they are ranked."""

    data: list[TrendingItem]
    formula: str


class DailyOut(BaseModel):
    """The papers listed on a day (or week, or month)."""

    data: list[PaperOut]
    first: date
    last: date
    total: int
    next: str | None


class VoteIn(BaseModel):
    """Cast (true) or withdraw (false) an upvote."""

    vote: bool = True


class VoteOut(BaseModel):
    """The caller's vote and the paper's total."""

    key: str
    voted: bool
    upvotes: int


class SubmissionIn(BaseModel):
    """A paper to add to today's feed."""

    arxiv: str = Field(min_length=1, max_length=300, examples=["2401.12345"])


class SubmissionOut(BaseModel):
    """The listed paper, and whether this request listed it."""

    paper: PaperOut
    created: bool


class Me(BaseModel):
    """The caller's account."""

    handle: str
    email: str
    is_curator: bool


def paper_out(base_url: str, entry: FeedEntry) -> PaperOut:
    """The API form of an entry; `url` is on the configured site."""
    paper = entry.paper
    base = base_url.rstrip("/")
    listing = entry.submission
    return PaperOut(
        key=paper.key,
        arxiv_id=paper.arxiv_id,
        title=paper.title,
        abstract=paper.abstract,
        authors=[author.name for author in paper.authors],
        author_count=paper.n_authors,
        published=paper.published,
        categories=paper.categories,
        doi=paper.doi,
        url=base + paper_url(paper.key),
        arxiv_url=paper.arxiv_url,
        pdf_url=paper.pdf_url,
        code_urls=paper.code_urls,
        upvotes=entry.upvotes,
        upstream_upvotes=paper.upvotes,
        local_upvotes=entry.upvotes - paper.upvotes,
        voted=entry.voted,
        comments=entry.comments,
        upstream=upstream_out(paper),
        listed=Listing(
            day=listing.day,
            submitter=listing.submitter,
            hidden=listing.hidden,
            upstream_source=listing.upstream_source,
            upstream_submitter=listing.upstream_submitter,
        )
        if listing
        else None,
    )


class SavedSearchIn(BaseModel):
    """A saved search: new papers matching it are mailed."""

    query: str = Field(min_length=1, max_length=500)
    mode: Mode = "hybrid"
    category: str | None = Field(default=None, max_length=30)
    year_from: int | None = Field(default=None, ge=1900, le=2999)
    year_to: int | None = Field(default=None, ge=1900, le=2999)


class SubscriptionIn(BaseModel):
    """A digest subscription: trending papers and/or saved searches, daily or weekly."""

    email: str = Field(min_length=3, max_length=254)
    frequency: Literal["daily", "weekly"] = "daily"
    trending: bool = True
    searches: list[SavedSearchIn] = Field(default_factory=list, max_length=10)
    recommended: bool = Field(
        False,
        description="A 'Recommended for you' section: the period's new papers ranked for one "
        "of your collections, each with why (your own address, signed in or by token)",
    )
    collection: int | None = Field(
        None, ge=1, le=2**53, description="Which collection (default: your Reading list)"
    )


class SubscriptionOut(BaseModel):
    """Pending: a confirmation link was mailed. Active: the caller's own address."""

    status: Literal["pending", "active"]
    email: str


# -- collections, feedback, recommendations ------------------------------------------


class CollectionIn(BaseModel):
    """A new collection."""

    name: str = Field(min_length=1, max_length=100)
    profile: bool = Field(False, description="Use it as a recommendation profile")


class CollectionOut(BaseModel):
    """One of the caller's collections."""

    id: int
    name: str
    size: int
    profile: bool
    shared: bool
    seed: str
    created: datetime
    description: str = Field(
        description="What the owner wrote about it (plain text, line breaks kept; '' if "
        "nothing): shown on its page and on its shared page"
    )


class CollectionList(BaseModel):
    """The caller's collections."""

    data: list[CollectionOut]


class ItemIn(BaseModel):
    """A paper saved to a collection, with an optional private note."""

    note: str = Field("", max_length=2000)


class ItemOut(BaseModel):
    """A paper in a collection."""

    key: str
    title: str
    note: str
    position: int
    added: datetime


class ItemList(BaseModel):
    """A collection's papers in order."""

    data: list[ItemOut]


class FeedbackIn(BaseModel):
    """A signal on a paper: not interested (optionally why) or seen."""

    signal: Literal["not_interested", "seen"]
    reason: Literal["", "topic", "paper"] = ""


class FeedbackOut(BaseModel):
    """The signal recorded."""

    key: str
    signal: str
    reason: str


class RecommendationOut(BaseModel):
    """A recommended paper, its score and why."""

    key: str
    title: str
    score: float
    why: str
    close_to: str | None = Field(description="Key of the profile paper it is closest to")
    terms: list[str] = Field(description="The shared terms that weigh most")


class RecommendationList(BaseModel):
    """Recommendations for one profile, best first."""

    data: list[RecommendationOut]
    collection: int
    method: str = Field(description="'model' (linear, >= 3 papers) or 'centroid'")


# -- comments ---------------------------------------------------------------------------


class CommentIn(BaseModel):
    """A new comment (Markdown with $math$), or a reply when parent_id is given."""

    body: str = Field(
        min_length=1,
        max_length=20_000,
        description="Markdown, at most 10,000 characters once trimmed",
    )
    parent_id: int | None = Field(
        default=None, ge=1, le=2**62, description="The comment replied to"
    )


class CommentPatch(BaseModel):
    """The new text of one's own comment."""

    body: str = Field(min_length=1, max_length=20_000)


class CommentOut(BaseModel):
    """A comment; `body`/`html` are null once it is deleted or hidden."""

    id: int
    paper: str = Field(description="The paper's key")
    author: str | None = Field(description="The writer's handle; null once the account is gone")
    parent_id: int | None
    thread_id: int | None = Field(description="The thread's top comment; null for a top comment")
    status: Literal["visible", "deleted", "hidden"]
    body: str | None = Field(description="The Markdown as written")
    html: str | None = Field(description="The body rendered and sanitised")
    created_at: datetime
    edited_at: datetime | None
    url: str


class CommentList(BaseModel):
    """A paper's comments, oldest first."""

    data: list[CommentOut]
    next: str | None = None
