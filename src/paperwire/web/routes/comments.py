"""Comments on paper pages, without JavaScript: post (and reply), edit, delete, report —
each a plain form with its CSRF token, answered by a redirect back to the comment
(post/redirect/get) or by the page again with the error beside the kept text; curators
hide and restore and see the reports at /curate/reports; a paper's discussion as Atom;
the one-click link that stops reply/mention mail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire.discussion import markup
from paperwire.errors import UserError
from paperwire.models import User
from paperwire.presentation import paper_url
from paperwire.texmath import plain as tex_plain
from paperwire.web.atom import AtomFeed
from paperwire.web.deps import CsrfChecked, ReaderDep, ServicesDep, client_id, signed_in
from paperwire.web.render import render, with_query
from paperwire.web.services import Services
from paperwire.web.usecases import comments as cases
from paperwire.web.usecases import papers

FEED_COMMENTS = 100  # the newest comments a discussion feed carries
router = APIRouter(include_in_schema=False)

BodyField = Annotated[str, Form(max_length=markup.MAX_CHARS * 2)]
CommentId = Annotated[int, Path(ge=1, le=2**62)]
Writer = Annotated[User, Depends(signed_in("comment"))]


def _at(services: Services, comment_key: str, comment_id: int, notice: str) -> RedirectResponse:
    """Back to the comment, on its page of the discussion."""
    page = cases.page_of(services, comment_id)
    query = with_query(paper_url(comment_key), page=page if page > 1 else None, notice=notice)
    return RedirectResponse(f"{query}#comment-{comment_id}", status_code=303)


def paper_with_error(
    request: Request,
    services: ServicesDep,
    user: User | None,
    key: str,
    error: UserError,
    **draft: object,
) -> HTMLResponse:
    """The paper page again, the error beside the text the reader wrote."""
    entry = papers.paper_entry(services, key, user)
    parent = draft.get("draft_parent")
    try:  # the page of the comment replied to, where the reply form with the draft is
        page = cases.page_of(services, parent) if isinstance(parent, int) else 1
        shown = cases.discussion(services, entry.paper.key, page)
    except UserError:  # a parent of another paper's discussion
        shown = cases.discussion(services, entry.paper.key)
    return render(
        request,
        "paper.html",
        status=error.status,
        e=entry,
        similar=[],
        d=shown,
        body_of=cases.shown_body,
        comment_error=str(error),
        **draft,
    )


@router.post("/papers/{key:path}/comments", response_class=HTMLResponse)
def post_comment(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Writer,
    key: str,
    body: BodyField = "",
    parent: Annotated[int | None, Form(ge=1, le=2**62)] = None,
) -> Response:
    """Write a comment or a reply."""
    papers.paper_entry(services, key, reader)  # an unknown paper: 404, nothing to show
    try:
        made = cases.post(services, reader, key, body, parent, client_id(request))
    except UserError as exc:
        return paper_with_error(
            request, services, reader, key, exc, draft=body, draft_parent=parent
        )
    return _at(services, made.paper_key, made.id, "commented")


@router.get("/comments/{comment_id}/edit", response_class=HTMLResponse)
def edit_form(
    request: Request, services: ServicesDep, reader: Writer, comment_id: CommentId
) -> Response:
    """The edit form of one's own comment."""
    comment = cases.own(services, reader, comment_id)
    return render(request, "comment_edit.html", c=comment, body=comment.body)


@router.post("/comments/{comment_id}/edit", response_class=HTMLResponse)
def edit(
    request: Request,
    services: ServicesDep,
    _: CsrfChecked,
    reader: Writer,
    comment_id: CommentId,
    body: BodyField = "",
) -> Response:
    """Save an edit of one's own comment."""
    comment = cases.own(services, reader, comment_id)
    try:
        changed = cases.edit(services, reader, comment_id, body, client_id(request))
    except UserError as exc:
        return render(
            request, "comment_edit.html", status=exc.status, c=comment, body=body, error=str(exc)
        )
    return _at(services, changed.paper_key, changed.id, "comment-edited")


@router.get("/comments/{comment_id}/delete", response_class=HTMLResponse)
def delete_form(
    request: Request, services: ServicesDep, reader: Writer, comment_id: CommentId
) -> Response:
    """Ask before deleting one's own comment (a page, so it works without JavaScript)."""
    comment = cases.own(services, reader, comment_id)
    return render(
        request,
        "confirm_delete.html",
        heading="Delete your comment?",
        explain=(
            f"Your comment on “{tex_plain(comment.paper_title)}” is removed; replies to it "
            "stay, under a note that it was deleted. This cannot be undone."
        ),
        action=f"/comments/{comment.id}/delete",
        button="Delete the comment",
        cancel=f"{paper_url(comment.paper_key)}#comment-{comment.id}",
    )


@router.post("/comments/{comment_id}/delete")
def delete(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Writer,
    comment_id: CommentId,
    confirmed: Annotated[Literal["", "1"], Form()] = "",
) -> Response:
    """Delete one's own comment, once confirmed (else: the question first)."""
    if confirmed != "1":
        cases.own(services, reader, comment_id)  # another reader's: 404, as ever
        return RedirectResponse(f"/comments/{comment_id}/delete", status_code=303)
    comment = cases.delete(services, reader, comment_id)
    return _at(services, comment.paper_key, comment.id, "comment-deleted")


@router.post("/comments/{comment_id}/report")
def report(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Writer,
    comment_id: CommentId,
    reason: Annotated[str, Form(max_length=cases.MAX_REASON * 2)] = "",
) -> Response:
    """Report a comment to the curators."""
    comment = cases.report(services, reader, comment_id, reason)
    return _at(services, comment.paper_key, comment.id, "comment-reported")


@router.post("/comments/{comment_id}/hide")
def hide(
    services: ServicesDep,
    _: CsrfChecked,
    curator: Annotated[User, Depends(signed_in("curate"))],
    comment_id: CommentId,
    hidden: Annotated[Literal["0", "1"], Form()] = "1",
) -> Response:
    """A curator hides a comment (hidden=1) or restores it (hidden=0)."""
    comment = cases.moderate(services, curator, comment_id, hidden == "1")
    return _at(
        services,
        comment.paper_key,
        comment.id,
        "comment-hidden" if hidden == "1" else "comment-shown",
    )


@router.get("/curate/reports", response_class=HTMLResponse)
def reports(
    request: Request, services: ServicesDep, curator: Annotated[User, Depends(signed_in("curate"))]
) -> Response:
    """The curators' queue of reported comments."""
    return render(
        request, "reports.html", reports=cases.reported(services, curator), body_of=cases.shown_body
    )


@router.post("/account/comment-mail")
def comment_mail(
    services: ServicesDep,
    _: CsrfChecked,
    reader: Writer,
    enabled: Annotated[Literal["0", "1"], Form()] = "1",
) -> Response:
    """The account page's setting: mail me replies and mentions (batched hourly)."""
    cases.set_mail(services, reader, enabled == "1")
    return RedirectResponse("/account?notice=changed#comment-mail", status_code=303)


@router.get("/comments/mail/{token}/unsubscribe", response_class=HTMLResponse)
def unsubscribe_form(
    request: Request, user: ReaderDep, token: Annotated[str, Path(max_length=80)]
) -> Response:
    """The mailed link's page: one button (a mail scanner's GET changes nothing)."""
    return render(request, "comment_mail_off.html", token=token, done=False)


@router.post("/comments/mail/{token}/unsubscribe", response_class=HTMLResponse)
def unsubscribe(
    request: Request, services: ServicesDep, token: Annotated[str, Path(max_length=80)]
) -> Response:
    """One-click (RFC 8058): the signed token is the authority; no session or CSRF."""
    cases.unsubscribe_mail(services, token)
    return render(request, "comment_mail_off.html", token=token, done=True)


@router.get("/feeds/papers/{key:path}/comments.atom", response_class=Response)
def comments_atom(services: ServicesDep, key: str) -> Response:
    """A paper's discussion as Atom: its visible comments, newest first."""
    entry = papers.paper_entry(services, key, None)
    comments = cases.recent_visible(services, key, FEED_COMMENTS)
    base = services.settings.base_url.rstrip("/")
    page = base + paper_url(entry.paper.key)
    updated = max((c.edited_at or c.created_at for c in comments), default=services.clock())
    feed = AtomFeed(
        f"{base}/feeds/papers/{entry.paper.key}/comments.atom",
        f"Discussion of “{tex_plain(entry.paper.title)}”",
        page,
        updated,
    )
    for comment in comments:
        item = feed.entry(
            f"{page}#comment-{comment.id}",
            markup.plain(comment.body, 80),
            comment.edited_at or comment.created_at,
            comment.author or "a former reader",
            comment.created_at,
        )
        feed.add(item, "content", str(cases.shown_body(comment, None) or ""), type="html")
    return feed.response()
