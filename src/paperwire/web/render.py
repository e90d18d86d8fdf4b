"""Rendering pages: one Jinja2 environment with autoescaping on for every template, and
the helpers templates use (paper links, author lines, highlighted fragments)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from paperwire import texmath
from paperwire.cite import bibtex
from paperwire.people.names import author_slug
from paperwire.presentation import anchor, author_line, paper_url, upstream_name, upvote_source
from paperwire.search.results import Fragment
from paperwire.web.paper_extras import extras_view, organization_url, topic_url
from paperwire.web.security import csrf_token

NOTICES = {
    "submitted": "Submitted: the paper is on today's feed.",
    "listed": "That paper is already listed: here is its entry.",
    "kept": (
        "Kept as your record: you and the curators see it; it joins the feed, search and "
        "feeds once confirmed."
    ),
    "confirmed": "Confirmed: the paper is in the feed, search and feeds.",
    "signed-out": "You are signed out.",
    "signed-in": "You are signed in.",
    "hidden": "The submission is hidden from the feed.",
    "shown": "The submission is shown in the feed again.",
    "token-revoked": "The token is revoked.",
    "channel-removed": "The channel is removed.",
    "token-created": "The token is created.",
    "voted": "Your upvote is counted.",
    "unvoted": "Your upvote is withdrawn.",
    "saved": "Saved.",
    "shared": "Shared: anyone with the link below can read this collection.",
    "unshared": "The public link is revoked: it no longer opens this collection.",
    "handle-changed": "Your handle is changed.",
    "dismissed": "Dismissed: it will not be recommended again.",
    "marked-seen": "Marked as seen.",
    "feedback-undone": "Undone.",
    "created": "Created.",
    "deleted": "Deleted.",
    "changed": "Done.",
    "followed": "Followed: its new papers come to your Following page.",
    "unfollowed": "Unfollowed.",
    "claimed": "Claim sent: a curator will confirm it. Until then only you see it.",
    "claim-confirmed": "The claim is confirmed.",
    "claim-rejected": "The claim is rejected.",
    "commented": "Your comment is posted.",
    "comment-edited": "Your comment is saved.",
    "comment-deleted": "Your comment is deleted.",
    "comment-reported": "Thank you: the curators will look at it.",
    "comment-hidden": "The comment is hidden.",
    "comment-shown": "The comment is shown again.",
}


def marked(fragments: list[Fragment]) -> Markup:
    """Highlighted fragments as HTML: every piece escaped, hits in <mark>."""
    out = []
    for fragment in fragments:
        text = escape(fragment.text)
        out.append(Markup("<mark>{}</mark>").format(text) if fragment.hit else text)
    return Markup("").join(out)


def with_query(path: str, **params: Any) -> str:
    """A link with query parameters (None values left out)."""
    kept = {k: v for k, v in params.items() if v is not None and v != ""}
    return f"{path}?{urlencode(kept)}" if kept else path


def page_numbers(current: int, pages: int, around: int = 2) -> list[int | None]:
    """The page numbers a pager shows: the first, the last, and `around` either side of
    the current one, with None where numbers are left out (shown as …)."""
    shown = sorted({1, pages, *range(max(1, current - around), min(pages, current + around) + 1)})
    out: list[int | None] = []
    for number in shown:
        if out and out[-1] is not None and number - out[-1] > 1:
            out.append(None)
        out.append(number)
    return out


_environment = Environment(
    loader=PackageLoader("paperwire.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.globals.update(
    paper_url=paper_url,
    author_line=author_line,
    marked=marked,
    tex_fold=texmath.folded,
    tex=texmath.html,
    tex_plain=texmath.plain,
    has_tex=texmath.has_tex,
    anchor=anchor,
    with_query=with_query,
    page_numbers=page_numbers,
    bibtex=bibtex,
    upstream_name=upstream_name,
    upvote_source=upvote_source,
    extras_view=extras_view,
    topic_url=topic_url,
    organization_url=organization_url,
    author_slug=author_slug,
)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page: the template with the reader, the CSRF token and a notice in context."""
    services = request.app.state.services
    binding = request.state.csrf_binding if hasattr(request.state, "csrf_binding") else ""
    notice = request.query_params.get("notice")
    context.setdefault("user", getattr(request.state, "user", None))
    body = _environment.get_template(template).render(
        csrf=csrf_token(services.secret, binding) if binding else "",
        path=request.url.path,
        full_path=getattr(request.state, "page_path", None) or _path_without_notice(request),
        notice=NOTICES.get(notice or ""),
        today=services.clock().date(),
        tldr=request.cookies.get("pw_tldr") != "off",  # responses.tldr_shown
        banner=request.cookies.get("pw_banner") != "off"
        and not request.url.path.startswith(("/subscribe", "/subscriptions")),
        base_url=services.settings.base_url.rstrip("/"),
        **context,
    )
    return HTMLResponse(body, status_code=status)


def _path_without_notice(request: Request) -> str:
    """This page's path and query, for "come back here" links (a one-time notice is
    not carried along)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "notice"]
    return request.url.path + (f"?{urlencode(kept)}" if kept else "")


def render_error(request: Request, status: int, detail: str) -> HTMLResponse:
    """The friendly error page; a 401 (a page that needs a reader) links to sign-in and
    back here."""
    try:
        return render(
            request,
            "error.html",
            status,
            title=HTTPStatus(status).phrase,
            detail=detail,
            needs_signin=status == 401,
        )
    except Exception:  # the page itself failed (e.g. the store is down): plain text
        return HTMLResponse(
            f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{escape(detail)}</p>",
            status_code=status,
        )
