"""Responses the page routes share: anonymous pages from the page cache, and the
redirect back after a form (post/redirect/get) with a one-time notice."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire.web.render import NOTICES
from paperwire.web.security import SESSION_COOKIE, safe_next
from paperwire.web.services import Services

BANNER_COOKIE = "pw_banner"  # "off": the reader dismissed the digest banner or subscribed
BANNER_DAYS = 365
TLDR_COOKIE = "pw_tldr"  # "off": the reader hides the one-line TL;DRs on cards
PREF_DAYS = 365


def tldr_shown(request: Request) -> bool:
    """Whether cards show their TL;DR for this browser (shown unless turned off)."""
    return request.cookies.get(TLDR_COOKIE) != "off"


def set_tldr(response: Response, show: bool, https: bool) -> Response:
    """Remember in the browser whether cards show their TL;DR."""
    response.set_cookie(
        TLDR_COOKIE,
        "on" if show else "off",
        max_age=PREF_DAYS * 86400,
        httponly=True,
        secure=https,
        samesite="lax",
    )
    return response


def hide_banner(response: Response, https: bool) -> Response:
    """Remember in the browser that the digest banner is not wanted any more."""
    response.set_cookie(
        BANNER_COOKIE,
        "off",
        max_age=BANNER_DAYS * 86400,
        httponly=True,
        secure=https,
        samesite="lax",
    )
    return response


def cached(
    request: Request, services: Services, build: Callable[[], HTMLResponse], **reads: object
) -> Response:
    """Serve an anonymous page from the page cache (signed-in pages, and pages without
    the banner, are personal). `reads`: the query parameters the page reads, as the route
    parsed them: those the request named, with a known notice, are the cache key and the
    page's own address; any other parameter (``?cb=N``) is part of neither. The TL;DR
    preference (TLDR_COOKIE) changes the cards, so it is part of the key too (not of the
    address: it is not a parameter)."""
    personal = SESSION_COOKIE in request.cookies or BANNER_COOKIE in request.cookies
    if getattr(request.state, "user", None) is not None or personal:
        return build()
    asked = request.query_params
    kept = sorted((k, str(v)) for k, v in reads.items() if k in asked and v is not None)
    request.state.page_path = request.url.path + (f"?{urlencode(kept)}" if kept else "")
    notice = request.query_params.get("notice")
    key = request.state.page_path + ("#" + notice if notice in NOTICES else "")
    if not tldr_shown(request):
        key += " tldr=off"
    return services.pages.serve(key, build)


def back(target: str, notice: str | None = None, fragment: str = "") -> RedirectResponse:
    """303 to a path on this site (anything else goes home), with a notice to show and,
    given a fragment, to the place on the page the form was (a voted paper's card)."""
    url = safe_next(target).partition("#")[0]
    if notice:
        kept = [(k, v) for k, v in parse_qsl(urlsplit(url).query) if k != "notice"]
        url = urlsplit(url).path + "?" + urlencode([*kept, ("notice", notice)])
    if fragment:
        url += "#" + fragment
    return RedirectResponse(url, status_code=303)
