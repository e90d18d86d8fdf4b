"""Paper pages and what is done to papers: search, a paper with its similar papers,
upvoting, submitting, and curators hiding a submission."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from paperwire.cite import bibtex, cite_key
from paperwire.errors import UserError
from paperwire.models import User
from paperwire.presentation import anchor, paper_url
from paperwire.search.hybrid import Mode
from paperwire.web.deps import (
    CategoryQuery,
    CsrfChecked,
    NextField,
    PageQuery,
    ReaderDep,
    ServicesDep,
    YearQuery,
    rate_limit,
    signed_in,
)
from paperwire.web.render import render
from paperwire.web.responses import back, cached
from paperwire.web.usecases import collections, comments, feed, papers, search
from paperwire.web.usecases.search import SearchRequest

router = APIRouter(include_in_schema=False)


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    q: Annotated[str, Query(max_length=500)] = "",
    mode: Mode = "hybrid",
    category: CategoryQuery = None,
    year_from: YearQuery = None,
    year_to: YearQuery = None,
    page: PageQuery = 1,
) -> Response:
    """Hybrid search with filters; an arXiv id or URL goes to its paper (or offers to
    add it)."""
    found = search.find_by_id(services, q)
    if found is not None and found.entry is not None:
        return RedirectResponse(paper_url(found.entry.paper.key), status_code=303)
    wanted = SearchRequest(q, mode, category or None, year_from, year_to, page)
    error = None
    try:
        result = search.run_search(services, wanted, user)
    except UserError as exc:
        result, error = search.SearchResult(), str(exc)
    return render(
        request,
        "search.html",
        status=400 if error else 200,
        q=q,
        mode=mode,
        category=category,
        year_from=year_from,
        year_to=year_to,
        page=page,
        page_size=wanted.limit,
        result=result,
        error=error,
        missing_id=found.arxiv_id if found is not None else None,
    )


@router.get("/papers/{key:path}/cite.bib")
def cite(services: ServicesDep, key: str) -> Response:
    """The paper's BibTeX entry, as a file to save."""
    entry = papers.paper_entry(services, key, None)
    return Response(
        bibtex(entry.paper),
        media_type="application/x-bibtex; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{cite_key(entry.paper)}.bib"'},
    )


@router.get("/papers/{key:path}", response_class=HTMLResponse)
def paper(
    request: Request,
    services: ServicesDep,
    user: ReaderDep,
    key: str,
    page: PageQuery = 1,
    saved: Annotated[int | None, Query(ge=1, le=collections.MAX_ID)] = None,
    unsaved: Annotated[int | None, Query(ge=1, le=collections.MAX_ID)] = None,
) -> Response:
    """One paper: abstract, links, upvotes, listing, the reader's Save form (and after
    saving, ``?saved=ID``: "Saved to <collection>" with Undo; after Undo, ``?unsaved=ID``:
    "Removed from <collection>"), similar papers, and a page
    of its discussion (``?page=``)."""

    def build() -> HTMLResponse:
        entry = papers.paper_entry(services, key, user)
        mine = collections.collections(services, user) if user else []
        saved_to = (
            collections.saved_in(services, user, saved, entry.paper.key) if user and saved else None
        )
        removed_from = next((c for c in mine if c.id == unsaved), None)
        discussion = comments.discussion(services, entry.paper.key, page)
        similar = papers.similar_entries(services, entry.paper.key)
        feed.mark_voted(services, similar, user)
        return render(
            request,
            "paper.html",
            e=entry,
            similar=similar,
            d=discussion,
            body_of=comments.shown_body,
            confirmed=services.store.confirmed_authors(entry.paper.key),
            my_collections=mine,
            saved_to=saved_to,
            removed_from=removed_from,
        )

    return cached(request, services, build, page=page)


SAVE_ANCHOR = "save"  # the Save form's place on the paper page: a save returns there


@router.post("/papers/{key:path}/save")
def save(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("save papers"))],
    key: str,
    collection_id: Annotated[int | None, Form(ge=1, le=collections.MAX_ID)] = None,
) -> Response:
    """Save the paper from its own page (to the Reading list unless a collection is
    named), then back to the same place on the page, which says where it went and
    offers Undo."""
    found = collections.save(services, reader, collection_id, key)
    return back(f"{paper_url(key)}?saved={found.id}", None, SAVE_ANCHOR)


@router.post("/papers/{key:path}/unsave")
def unsave(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("save papers"))],
    key: str,
    collection_id: Annotated[int, Form(ge=1, le=collections.MAX_ID)],
) -> Response:
    """Undo a save: the paper leaves that collection; back to the Save form."""
    collections.remove(services, reader, collection_id, key)
    return back(f"{paper_url(key)}?unsaved={collection_id}", None, SAVE_ANCHOR)


@router.post("/papers/{key:path}/vote")
def vote(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("upvote"))],
    key: str,
    next: NextField = "/",
) -> Response:
    """Toggle the reader's upvote (JSON for the page's script, else a redirect back to
    the paper's card on the page, with the vote confirmed)."""
    rate_limit(services, request, "vote", f"user:{reader.id}")
    voted, total = papers.vote(services, reader, key, None)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"key": key, "voted": voted, "upvotes": total})
    return back(next, "voted" if voted else "unvoted", anchor(key))


@router.post("/papers/{key:path}/hide")
def hide(
    services: ServicesDep,
    _: CsrfChecked,
    curator: Annotated[User, Depends(signed_in("curate"))],
    key: str,
    hidden: Annotated[Literal["0", "1"], Form()] = "1",
) -> Response:
    """A curator hides a submission from the feed (or shows it again)."""
    papers.hide(services, curator, key, hidden == "1")
    return back(paper_url(key), "hidden" if hidden == "1" else "shown")


@router.post("/papers/{key:path}/confirm")
def confirm(
    services: ServicesDep,
    _: CsrfChecked,
    curator: Annotated[User, Depends(signed_in("curate"))],
    key: str,
) -> Response:
    """A curator confirms a paper only readers have sent: it joins the public feed,
    search and feeds."""
    paper = papers.confirm_paper(services, curator, key)
    return back(paper_url(paper.key), "confirmed")


@router.get("/submit", response_class=HTMLResponse)
def submit_form(
    request: Request, user: ReaderDep, arxiv: Annotated[str, Query(max_length=300)] = ""
) -> Response:
    """The submission form (filled in from a search for an id not here yet)."""
    return render(request, "submit.html", value=arxiv)


@router.post("/submit", response_class=HTMLResponse)
def submit(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("submit papers"))],
    arxiv: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Add a paper to today's feed by arXiv id or URL."""
    rate_limit(services, request, "submit", f"user:{reader.id}")
    try:
        entry, created = papers.submit(services, reader, arxiv)
    except papers.ArxivUnreachableError as exc:
        typed = papers.ManualPaper("", link=f"https://arxiv.org/abs/{exc.arxiv_id}")
        return render(
            request,
            "submit.html",
            status=exc.status,
            error=str(exc),
            value=arxiv,
            unreachable=True,
            typed=typed,
        )
    except UserError as exc:
        return render(request, "submit.html", status=exc.status, error=str(exc), value=arxiv)
    return back(paper_url(entry.paper.key), _notice(entry.paper.confirmed, created))


def _notice(confirmed: bool, created: bool) -> str:
    """What the page says after a submission."""
    if not confirmed:
        return "kept"
    return "submitted" if created else "listed"


@router.post("/submit/manual", response_class=HTMLResponse)
def submit_by_hand(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("submit papers"))],
    title: Annotated[str, Form(max_length=papers.MAX_TITLE * 2)] = "",
    authors: Annotated[str, Form(max_length=20_000)] = "",
    abstract: Annotated[str, Form(max_length=papers.MAX_ABSTRACT * 2)] = "",
    link: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Add a paper typed in by hand (when arXiv cannot be reached, or it is not on
    arXiv) and list it on today's feed."""
    rate_limit(services, request, "submit", f"user:{reader.id}")
    typed = papers.ManualPaper(title, authors, abstract, link)
    try:
        entry, created = papers.add_by_hand(services, reader, typed)
    except UserError as exc:
        return render(
            request,
            "submit.html",
            status=exc.status,
            manual_error=str(exc),
            typed=typed,
        )
    return back(paper_url(entry.paper.key), _notice(entry.paper.confirmed, created))


@router.post("/submit/file", response_class=HTMLResponse)
async def submit_file(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Annotated[User, Depends(signed_in("submit papers"))],
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Add the paper a file describes (a .bib entry, a JSON line, an arXiv Atom entry)
    and list it on today's feed."""
    rate_limit(services, request, "submit", f"user:{reader.id}")
    data = await file.read(papers.MAX_FILE_BYTES + 1) if file is not None else b""
    name = (file.filename if file is not None else "") or "the file"
    try:
        entry, created = await run_in_threadpool(papers.add_from_file, services, reader, name, data)
    except UserError as exc:
        return render(request, "submit.html", status=exc.status, file_error=str(exc))
    return back(paper_url(entry.paper.key), _notice(entry.paper.confirmed, created))
