"""The JSON API of topics, authors and organizations (issue 29): the same use cases as
their pages (web/people.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from paperwire.models import FeedEntry
from paperwire.web.deps import ApiUserDep, ServicesDep
from paperwire.web.schemas import ERRORS, PaperOut, paper_out
from paperwire.web.usecases import people

router = APIRouter(prefix="/api/v1", tags=["api"])


class TopicPageOut(BaseModel):
    """A topic and its newest papers."""

    slug: str
    name: str
    data: list[PaperOut]


class OrganizationPageOut(BaseModel):
    """An organization (as upstream names it) and its newest papers."""

    name: str
    fullname: str
    data: list[PaperOut]


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


def _out(request: Request, entries: list[FeedEntry]) -> list[PaperOut]:
    base = request.app.state.services.settings.base_url
    return [paper_out(base, e) for e in entries]


@router.get("/topics/{slug}", response_model=TopicPageOut, responses=ERRORS)
def topic(request: Request, services: ServicesDep, user: ApiUserDep, slug: str) -> TopicPageOut:
    """A topic's newest papers."""
    page = people.topic_page(services, slug, user)
    return TopicPageOut(slug=page.slug, name=page.name, data=_out(request, page.entries))


@router.get("/organizations/{name}", response_model=OrganizationPageOut, responses=ERRORS)
def organization(
    request: Request, services: ServicesDep, user: ApiUserDep, name: str
) -> OrganizationPageOut:
    """An organization's newest papers."""
    page = people.organization_page(services, name, user)
    return OrganizationPageOut(
        name=page.name, fullname=page.fullname, data=_out(request, page.entries)
    )


@router.get("/authors/{slug}", response_model=AuthorPageOut, responses=ERRORS)
def author(request: Request, services: ServicesDep, user: ApiUserDep, slug: str) -> AuthorPageOut:
    """An author's papers, newest first, with co-authors and organizations."""
    page = people.author_page(services, slug, user)
    return AuthorPageOut(
        slug=page.slug,
        name=page.name,
        names=page.names,
        several_people=page.several,
        confirmed_authors=page.claimants,
        organizations=[full for _, full in page.organizations],
        coauthors=[CoauthorOut(name=n, slug=s, papers=c) for n, s, c in page.coauthors],
        data=_out(request, page.entries),
    )
