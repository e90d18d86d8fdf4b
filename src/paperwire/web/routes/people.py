"""Topic, author and organization pages with their Atom feeds; following them; claiming
authorship (issue 29). Glue over web/people.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from paperwire.models import User
from paperwire.people.follows import Follow
from paperwire.presentation import paper_url
from paperwire.web.deps import (
    CsrfChecked,
    ListPageQuery,
    ReaderDep,
    ServicesDep,
    client_id,
    signed_in,
)
from paperwire.web.paper_extras import organization_url
from paperwire.web.render import render
from paperwire.web.responses import back
from paperwire.web.routes.feeds import atom
from paperwire.web.usecases import people

router = APIRouter(include_in_schema=False)
FOLLOWED_DAYS = 7


@router.get("/topics/{slug}.atom", response_class=Response)
def topic_feed(request: Request, services: ServicesDep, slug: str) -> Response:
    """A topic's newest papers as Atom."""
    page = people.topic_page(services, slug, None)
    return atom(
        request,
        f"paperwire: {page.name}",
        f"/topics/{page.slug}.atom",
        f"/topics/{page.slug}",
        page.entries,
    )


@router.get("/topics/{slug}", response_class=HTMLResponse)
def topic(
    request: Request, services: ServicesDep, user: ReaderDep, slug: str, page: ListPageQuery = 1
) -> HTMLResponse:
    """A topic: today's list, trending, its papers newest first (paged)."""
    return render(request, "topic.html", page=people.topic_page(services, slug, user, page))


@router.get("/organizations/{name}.atom", response_class=Response)
def organization_feed(request: Request, services: ServicesDep, name: str) -> Response:
    """An organization's newest papers as Atom."""
    page = people.organization_page(services, name, None)
    url = organization_url(page.name)
    return atom(request, f"paperwire: {page.fullname}", f"{url}.atom", url, page.entries)


@router.get("/organizations/{name}", response_class=HTMLResponse)
def organization(
    request: Request, services: ServicesDep, user: ReaderDep, name: str, page: ListPageQuery = 1
) -> HTMLResponse:
    """An organization and its papers, newest first (paged)."""
    shown = people.organization_page(services, name, user, page)
    return render(request, "organization.html", page=shown)


@router.get("/authors/{slug}.atom", response_class=Response)
def author_feed(request: Request, services: ServicesDep, slug: str) -> Response:
    """An author's newest papers as Atom."""
    page = people.author_page(services, slug, None)
    path = f"/authors/{page.slug}"
    return atom(request, f"paperwire: {page.name}", f"{path}.atom", path, page.entries)


@router.get("/authors/{slug}", response_class=HTMLResponse)
def author(
    request: Request, services: ServicesDep, user: ReaderDep, slug: str, page: ListPageQuery = 1
) -> HTMLResponse:
    """An author: papers newest first (paged), co-authors, organizations."""
    return render(request, "author.html", page=people.author_page(services, slug, user, page))


@router.post("/follow")
def follow(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("follow"))],
    kind: Annotated[Literal["author", "organization", "topic"], Form()],
    target: Annotated[str, Form(min_length=1, max_length=200)],
    on: Annotated[Literal["0", "1"], Form()] = "1",
) -> Response:
    """Follow (or unfollow) an author, an organization or a topic."""
    page = people.follow(services, reader, kind, target, on == "1")
    return back(page, "followed" if on == "1" else "unfollowed")


def _follow_url(f: Follow) -> str:
    if f.kind == "organization":
        return organization_url(f.target)
    if f.kind == "topic":
        return f"/topics/{f.target}"
    return f"/authors/{_follow_target(f)}"


def _follow_target(f: Follow) -> str:
    """The form value that names a follow again (an author by its label's slug)."""
    if f.kind == "author":
        from paperwire.people.names import author_slug

        return author_slug(f.label)
    return f.target


@router.get("/following", response_class=HTMLResponse)
def following(
    request: Request,
    services: ServicesDep,
    reader: Annotated[User, Depends(signed_in("see what you follow"))],
) -> HTMLResponse:
    """The reader's follows, what is new from them, and their claims (theirs alone)."""
    since = services.clock() - timedelta(days=FOLLOWED_DAYS)
    return render(
        request,
        "following.html",
        follows=services.store.follows(reader.id),
        found=people.followed_since(services, reader, since),
        claims=services.store.my_claims(reader.id),
        days=FOLLOWED_DAYS,
        follow_url=_follow_url,
        follow_target=_follow_target,
    )


@router.post("/papers/{key:path}/claim")
def claim(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("claim authorship"))],
    key: str,
    author: Annotated[str, Form(min_length=1, max_length=300)],
) -> Response:
    """Claim to be one of a paper's authors (a curator confirms)."""
    made = people.claim(services, reader, key, author)
    return back(paper_url(made.paper_key), "claimed")


@router.get("/claims", response_class=HTMLResponse)
def claims(
    request: Request,
    services: ServicesDep,
    curator: Annotated[User, Depends(signed_in("decide authorship claims"))],
) -> HTMLResponse:
    """The curators' queue of authorship claims."""
    if not curator.is_curator:
        return render(request, "error.html", 403, title="Forbidden", detail="Curators only.")
    return render(request, "claims.html", claims=services.store.pending_claims())


@router.post("/claims/{claim_id}")
def decide(
    services: ServicesDep,
    _: CsrfChecked,
    curator: Annotated[User, Depends(signed_in("decide authorship claims"))],
    claim_id: int,
    confirm: Annotated[Literal["0", "1"], Form()],
) -> Response:
    """A curator confirms or rejects a claim."""
    people.decide(services, curator, claim_id, confirm == "1")
    return back("/claims", "claim-confirmed" if confirm == "1" else "claim-rejected")


@router.post("/authors/{slug}/profile")
def describe(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("describe your author page"))],
    slug: str,
    body: Annotated[str, Form(max_length=20_000)],
) -> Response:
    """A confirmed author writes their page."""
    people.describe(services, reader, slug, body, client_id(request))
    return back(f"/authors/{slug}", "changed")


@router.post("/authors/{slug}/profile/hide")
def hide_profile(
    services: ServicesDep,
    _: CsrfChecked,
    curator: Annotated[User, Depends(signed_in("curate"))],
    slug: str,
    hidden: Annotated[Literal["0", "1"], Form()] = "1",
) -> Response:
    """A curator hides an author's page text (or shows it again)."""
    people.hide_profile(services, curator, slug, hidden == "1")
    return back(f"/authors/{slug}", "changed")
