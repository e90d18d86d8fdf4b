"""The JSON API of topics, authors and organizations (issue 29): the same use cases as
their pages (web/people.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from paperwire.models import FeedEntry
from paperwire.web.cursors import CursorQuery, decode_cursor, encode_cursor
from paperwire.web.deps import ApiUserDep, ServicesDep
from paperwire.web.schemas import ERRORS, PaperOut, paper_out
from paperwire.web.usecases import people

router = APIRouter(prefix="/api/v1", tags=["api"])


class TopicPageOut(BaseModel):
    """A topic and its newest papers."""

    slug: str
    name: str
    data: list[PaperOut]
    total: int = Field(description="All its papers here (data holds one page of them)")
    next: str | None = Field(description="The cursor of the next page (none after the last)")


class OrganizationPageOut(BaseModel):
    """An organization (as upstream names it) and its newest papers."""

    name: str
    fullname: str
    data: list[PaperOut]
    total: int = Field(description="All its papers here (data holds one page of them)")
    next: str | None = Field(description="The cursor of the next page (none after the last)")


class CoauthorOut(BaseModel):
    """Someone who wrote with the author."""

    name: str
    slug: str
    papers: int = Field(description="Papers written together (here)")


class AuthorPageOut(BaseModel):
    """An author name: its papers (newest first), co-authors and organizations."""

    slug: str
    name: str
    names: list[str] = Field(description="Every way the name is written, most used first")
    several_people: bool = Field(
        description="The names suggest several people under one name (not merged)"
    )
    confirmed_authors: list[str] = Field(description="Handles of readers confirmed as this author")
    organizations: list[str]
    coauthors: list[CoauthorOut]
    data: list[PaperOut]
    total: int = Field(description="All its papers here (data holds one page of them)")
    next: str | None = Field(description="The cursor of the next page (none after the last)")


def _out(request: Request, entries: list[FeedEntry]) -> list[PaperOut]:
    base = request.app.state.services.settings.base_url
    return [paper_out(base, e) for e in entries]


def _next(page: int, pages: int) -> str | None:
    return encode_cursor(page) if page < pages else None


@router.get("/topics/{slug}", response_model=TopicPageOut, responses=ERRORS)
def topic(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    slug: str,
    cursor: CursorQuery = None,
) -> TopicPageOut:
    """A topic's papers, newest first, a page at a time (follow `next`)."""
    page = people.topic_page(services, slug, user, decode_cursor(cursor) + 1)
    return TopicPageOut(
        slug=page.slug,
        name=page.name,
        data=_out(request, page.entries),
        total=page.total,
        next=_next(page.page, page.pages),
    )


@router.get("/organizations/{name}", response_model=OrganizationPageOut, responses=ERRORS)
def organization(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    name: str,
    cursor: CursorQuery = None,
) -> OrganizationPageOut:
    """An organization's papers, newest first, a page at a time (follow `next`)."""
    page = people.organization_page(services, name, user, decode_cursor(cursor) + 1)
    return OrganizationPageOut(
        name=page.name,
        fullname=page.fullname,
        data=_out(request, page.entries),
        total=page.total,
        next=_next(page.page, page.pages),
    )


@router.get("/authors/{slug}", response_model=AuthorPageOut, responses=ERRORS)
def author(
    request: Request,
    services: ServicesDep,
    user: ApiUserDep,
    slug: str,
    cursor: CursorQuery = None,
) -> AuthorPageOut:
    """An author's papers, newest first, a page at a time (follow `next`), with
    co-authors and organizations over all of them."""
    page = people.author_page(services, slug, user, decode_cursor(cursor) + 1)
    return AuthorPageOut(
        slug=page.slug,
        name=page.name,
        names=page.names,
        several_people=page.several,
        confirmed_authors=page.claimants,
        organizations=[full for _, full in page.organizations],
        coauthors=[CoauthorOut(name=n, slug=s, papers=c) for n, s, c in page.coauthors],
        data=_out(request, page.entries),
        total=page.total,
        next=_next(page.page, page.pages),
    )
