"""Collections, feedback and recommendations as pages: a reader's collections and each
collection's page (notes, order, share link, profile feed, export, library import),
public shared pages, the save and "not interested" buttons of every card, /for-you with a
tab per profile, and each profile's private Atom feed. Every form carries the CSRF token
and works without JavaScript (post, then redirect back)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from paperwire.errors import UserError
from paperwire.models import User
from paperwire.presentation import paper_url
from paperwire.store.collections import Collection
from paperwire.web.deps import CsrfChecked, NextField, ReaderDep, ServicesDep, rate_limit, signed_in
from paperwire.web.render import render, with_query
from paperwire.web.responses import back
from paperwire.web.routes.feeds import atom
from paperwire.web.services import Services
from paperwire.web.usecases import collections as cases
from paperwire.web.usecases import people

router = APIRouter(include_in_schema=False)

Reader = Annotated[User, Depends(signed_in("use collections"))]
KeyField = Annotated[str, Form(min_length=1, max_length=300)]
NameField = Annotated[str, Form(min_length=1, max_length=cases.MAX_NAME)]
FOR_YOU_SIZE = 30
FOLLOWED_DAYS = 7  # new papers of what the reader follows, shown above (issue 29)
FOLLOWED_ON_FOR_YOU = 10
CollectionId = Annotated[int, Path(ge=1, le=cases.MAX_ID)]


IMPORT_REPORT_COOKIE = "pw_import_report"


def _signin(path: str) -> RedirectResponse:
    return RedirectResponse(with_query("/signin", next=path), status_code=303)


# -- the buttons on every card --------------------------------------------------------


@router.post("/papers/save")
def save_paper(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Reader,
    key: KeyField,
    collection_id: Annotated[int | None, Form(ge=1, le=cases.MAX_ID)] = None,
    next: NextField = "/",
) -> Response:
    """Save a paper (to the Reading list unless a collection is named)."""
    cases.save(services, reader, collection_id, key)
    return back(next, "saved")


@router.post("/papers/feedback")
def paper_feedback(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Reader,
    key: KeyField,
    signal: Annotated[str, Form(max_length=20)] = "not_interested",
    reason: Annotated[str, Form(max_length=20)] = "",
    undo: Annotated[bool, Form()] = False,
    next: NextField = "/",
) -> Response:
    """Not interested (optionally why) or seen; `undo` takes it back."""
    if undo:
        cases.undo_feedback(services, reader, key, signal)
        return back(next, "feedback-undone")
    cases.give_feedback(services, reader, key, signal, reason)
    return back(next, "dismissed" if signal == "not_interested" else "marked-seen")


# -- collections ----------------------------------------------------------------------


@router.get("/collections", response_class=HTMLResponse)
def collections_page(request: Request, services: ServicesDep, user: ReaderDep) -> Response:
    """The reader's collections, with forms to create, seed and import."""
    if user is None:
        return _signin("/collections")
    return render(request, "collections.html", collections=cases.collections(services, user))


@router.post("/collections")
def create_collection(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Reader,
    name: NameField,
    profile: Annotated[bool, Form()] = False,
) -> Response:
    """A new collection."""
    made = cases.create(services, reader, name, profile)
    return back(f"/collections/{made.id}", "created")


@router.post("/collections/seed")
def seed_profile(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Reader,
    author: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    """A new profile of the papers by an author."""
    made = cases.seed_from_author(services, reader, author)
    return back(f"/for-you?profile={made.id}", "created")


def _collection_page(
    request: Request, services: Services, reader: User, found: Collection, **extra: Any
) -> HTMLResponse:
    return render(
        request,
        "collection.html",
        collection=found,
        paragraphs=cases.paragraphs(found.description),
        items=cases.items(services, found),
        owner=True,
        share_link=cases.share_link_token(services, found),
        **extra,
    )


@router.get("/collections/{collection_id}", response_class=HTMLResponse)
def collection_page(
    request: Request, services: ServicesDep, user: ReaderDep, collection_id: CollectionId
) -> Response:
    """One of the reader's collections (with the report of an import just made, once)."""
    if user is None:
        return _signin(f"/collections/{collection_id}")
    found = cases.owned(services, user, collection_id)
    carried = request.cookies.get(IMPORT_REPORT_COOKIE)
    report = cases.shown_report(carried) if carried else None
    response = _collection_page(request, services, user, found, report=report)
    if carried is not None:
        response.delete_cookie(
            IMPORT_REPORT_COOKIE,
            path=f"/collections/{collection_id}",
            httponly=True,
            samesite="strict",
        )
    return response


@router.get("/collections/{collection_id}/export")
def export_collection(
    services: ServicesDep,
    reader: Reader,
    collection_id: CollectionId,
    format: Annotated[str, Query(max_length=20)] = "bibtex",
) -> Response:
    """Download a collection as BibTeX, CSL JSON or JSON lines."""
    found = cases.owned(services, reader, collection_id)
    return _download(services, found, format)


def _download(services: Services, found: Collection, fmt: str) -> Response:
    body = cases.export(services, found, fmt)
    media_type, suffix = cases.MEDIA_TYPES[fmt]
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="collection-{found.id}.{suffix}"'},
    )


@router.get("/collections/{collection_id}/delete", response_class=HTMLResponse)
def delete_form(
    request: Request, services: ServicesDep, reader: Reader, collection_id: CollectionId
) -> Response:
    """Ask before deleting a collection (a page, so it works without JavaScript)."""
    found = cases.owned(services, reader, collection_id)
    count = f"{found.size} paper{'s' if found.size != 1 else ''}"
    return render(
        request,
        "confirm_delete.html",
        heading=f"Delete “{found.name}”?",
        explain=(
            f"The collection, its {count} and your notes on them are deleted; the papers "
            "stay on paperwire. A public link to it stops working. This cannot be undone."
        ),
        action=f"/collections/{found.id}/delete",
        button="Delete the collection",
        cancel=f"/collections/{found.id}",
    )


@router.post("/collections/{collection_id}/{action}")
def collection_action(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Reader,
    collection_id: CollectionId,
    action: str,
    name: Annotated[str, Form(max_length=cases.MAX_NAME)] = "",
    key: Annotated[str, Form(max_length=300)] = "",
    note: Annotated[str, Form(max_length=cases.MAX_NOTE)] = "",
    # Twice the limit: a browser sends each line break as CRLF, which the rule reads as one.
    description: Annotated[str, Form(max_length=2 * cases.MAX_DESCRIPTION)] = "",
    next: NextField = "",
    confirmed: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    """The forms of a collection page: rename, describe, delete, profile on/off, reset, share,
    unshare, feed, unfeed, and per paper remove, note, up, down."""
    here = next or f"/collections/{collection_id}"
    if action == "rename":
        cases.update(services, reader, collection_id, name=name)
    elif action == "describe":
        cases.update(services, reader, collection_id, description=description)
    elif action == "delete":
        if confirmed != "1":  # a stale one-click form: the question first
            cases.owned(services, reader, collection_id)
            return RedirectResponse(f"/collections/{collection_id}/delete", status_code=303)
        cases.delete(services, reader, collection_id)
        return back("/collections", "deleted")
    elif action in ("profile", "unprofile"):
        cases.update(services, reader, collection_id, profile=action == "profile")
    elif action == "reset":
        cases.reset(services, reader, collection_id)
    elif action == "share":
        cases.share(services, reader, collection_id)  # listed on the page from now on
        return back(f"/collections/{collection_id}", "shared", "share-heading")
    elif action == "unshare":
        cases.unshare(services, reader, collection_id)
        return back(f"/collections/{collection_id}", "unshared", "share-heading")
    elif action == "feed":
        token = cases.new_feed(services, reader, collection_id)
        found = cases.owned(services, reader, collection_id)
        return _collection_page(request, services, reader, found, feed_token=token)
    elif action == "unfeed":
        cases.revoke_feed(services, reader, collection_id)
    elif action == "remove":
        cases.remove(services, reader, collection_id, key)
    elif action == "note":
        cases.note(services, reader, collection_id, key, note)
    elif action in ("up", "down"):
        cases.move(services, reader, collection_id, key, -1 if action == "up" else 1)
    else:
        raise UserError(f"no action {action[:40]!r} on a collection", 404)
    return back(here, "changed")


@router.post("/collections/{collection_id}/import/library", response_class=HTMLResponse)
async def import_library(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Reader,
    collection_id: CollectionId,
    library: Annotated[UploadFile | None, File()] = None,
    pasted: Annotated[str, Form(max_length=cases.MAX_LIBRARY_BYTES)] = "",
) -> Response:
    """Import a BibTeX or CSL JSON file, or a pasted list of arXiv ids/URLs."""
    rate_limit(services, request, "import", f"user:{reader.id}")
    if library is not None and library.filename:
        data = await library.read(cases.MAX_LIBRARY_BYTES + 1)
        name = library.filename[:100]
    else:
        data, name = pasted.encode("utf-8"), "pasted list"
    # Parsing, storing and fetching from arXiv block: off the event loop, as submit_file.
    report = await run_in_threadpool(
        cases.import_library, services, reader, collection_id, data, name
    )
    # post/redirect/get: the report rides a short-lived cookie to the collection page
    # (a reload of that page imports nothing again).
    response = back(f"/collections/{report.collection.id}", None, "report-heading")
    response.set_cookie(
        IMPORT_REPORT_COOKIE,
        cases.report_cookie(report),
        max_age=300,
        path=f"/collections/{report.collection.id}",
        httponly=True,
        secure=services.settings.https,
        samesite="strict",
    )
    return response


@router.get("/shared/{token}", response_class=HTMLResponse)
def shared_page(request: Request, services: ServicesDep, user: ReaderDep, token: str) -> Response:
    """A collection its owner shared by link, as a page: its name, description and
    papers as cards (cases.SharedView: nothing private of the owner's)."""
    return render(request, "shared.html", view=cases.shared_view(services, token, user))


# -- for you --------------------------------------------------------------------------


@router.get("/for-you", response_class=HTMLResponse)
def for_you(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    profile: Annotated[int | None, Query(ge=1, le=cases.MAX_ID)] = None,
    seen: Annotated[bool, Query()] = False,
) -> Response:
    """Recommendations, a tab per profile (the Reading list's when there is none) and a
    Reading list tab: today's list, the same all day (cases.day_recommendations); with
    `seen`, the papers seen on earlier days too (live, not kept)."""
    if user is None:
        return _signin("/for-you")
    tabs = cases.profile_tabs(services, user)
    current = cases.owned(services, user, profile) if profile is not None else tabs[0]
    if current not in tabs:
        tabs.append(current)
    since = services.clock() - timedelta(days=FOLLOWED_DAYS)
    return render(
        request,
        "for_you.html",
        tabs=tabs,
        current=current,
        reading_list_id=cases.reading_list_of(services, user).id,
        show_seen=seen,
        results=cases.for_you_list(services, user, current, FOR_YOU_SIZE, show_seen=seen),
        followed=people.followed_since(services, user, since, FOLLOWED_ON_FOR_YOU),
    )


@router.get("/for-you/reading-list", response_class=HTMLResponse)
def for_you_reading_list(request: Request, services: ServicesDep, user: ReaderDep) -> Response:
    """The Reading list tab: the papers the reader saved, as cards."""
    if user is None:
        return _signin("/for-you/reading-list")
    saved_to, entries = cases.reading_list(services, user)
    return render(
        request,
        "for_you.html",
        tabs=cases.profile_tabs(services, user),
        current=None,
        reading_list_id=saved_to.id,
        saved_to=saved_to,
        saved=entries,
    )


@router.get("/for-you/open")
def for_you_open(
    services: ServicesDep,
    user: ReaderDep,
    key: Annotated[str, Query(min_length=1, max_length=300)],
) -> Response:
    """A paper opened from /for-you: marked seen (cases.open_recommended), then its
    page. Signed out, or a key not on the reader's list, it is just the page."""
    if user is not None:
        cases.open_recommended(services, user, key)
    return RedirectResponse(paper_url(key), status_code=303)


@router.get("/feeds/for-you/{token}.atom", response_class=Response)
def for_you_feed(request: Request, services: ServicesDep, token: str) -> Response:
    """A profile's recommendations as a private Atom feed (the token is the key; the
    owner can revoke it)."""
    owner, found = cases.feed_profile(services, token)
    recs = cases.recommendations(services, owner, found, 50)
    return atom(
        request,
        f"paperwire: for you ({found.name})",
        f"/feeds/for-you/{token}.atom",
        f"/for-you?profile={found.id}",
        [entry for entry, _ in cases.recommended_entries(services, recs)],
    )
