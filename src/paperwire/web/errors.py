"""How failures answer: pages for readers, RFC 9457 problem details for the API and the
feeds — never a traceback. Every error a use case or the store raises is mapped here."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from paperwire.digest.mailer import MailError
from paperwire.errors import UserError
from paperwire.store.base import StoreError
from paperwire.web.deps import RateLimitedError
from paperwire.web.render import render_error

log = logging.getLogger(__name__)


def _wants_json(request: Request) -> bool:
    # The API and the feeds answer machines: problem details, not pages.
    return request.url.path.startswith(("/api/", "/feeds/", "/openapi.json"))


def problem(status: int, detail: str, instance: str = "") -> JSONResponse:
    """An RFC 9457 problem details response."""
    return JSONResponse(
        {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "instance": instance,
        },
        status_code=status,
        media_type="application/problem+json",
    )


# What each field of a page's address or form is, in a reader's words.
FIELD_NAMES = {
    "day": "the date",
    "date": "the date",
    "page": "the page number",
    "view": "the view",
    "sort": "the order",
    "q": "the search",
    "mode": "the kind of match",
    "category": "the category",
    "year_from": "the first year",
    "year_to": "the last year",
    "email": "the email address",
    "name": "the name",
    "title": "the title",
    "arxiv": "the arXiv id",
    "token": "the link",
    "frequency": "how often",
}


def reader_message(error: Any) -> str:
    """One validation error as a sentence a reader understands: "“not-a-date” is not a
    date (write it as 2026-11-23)." — no validation paths, no pydantic wording."""
    loc = [str(part) for part in error.get("loc", ())]
    field = FIELD_NAMES.get(loc[-1] if loc else "", "a value")
    value = error.get("input")
    shown = f"“{str(value)[:60]}”" if isinstance(value, str | int) else field.capitalize()
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind.startswith("date"):
        return f"{shown} is not a date (write it as 2026-11-23)."
    if kind.startswith("int"):
        return f"{shown} is not a whole number, as {field} must be."
    if kind == "literal_error":
        return f"{shown} is not a choice here: {field} is one of {ctx.get('expected', '')}."
    if kind == "missing":
        return f"{field.capitalize()} is missing."
    if kind == "string_too_long":
        return f"{field.capitalize()} is too long (at most {ctx.get('max_length')} characters)."
    if kind == "string_too_short":
        return f"{field.capitalize()} is empty."
    if kind in ("greater_than_equal", "greater_than"):
        return f"{field.capitalize()} must be at least {ctx.get('ge', ctx.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"{field.capitalize()} must be at most {ctx.get('le', ctx.get('lt'))}."
    return f"{shown} is not a valid value for {field}."


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as a page or as problem details."""

    def answer(request: Request, status: int, detail: str) -> Response:
        if _wants_json(request):
            return problem(status, detail, request.url.path)
        return render_error(request, status, detail)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        response = answer(request, exc.status, str(exc))
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        response = answer(request, exc.status_code, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())[:5]
        if not _wants_json(request):  # readers get sentences, not validation paths
            said = [reader_message(error) for error in errors]
            return render_error(request, 422, " ".join(said) or "That address is not one we know.")
        parts = []
        for error in errors:
            where = ".".join(str(p) for p in error.get("loc", ()))
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
        return answer(request, 422, "; ".join(parts) or "invalid request")

    @app.exception_handler(StoreError)
    async def store_down(request: Request, exc: StoreError) -> Response:
        log.error("store error on %s: %s", request.url.path, exc)
        return answer(request, 503, "the database is not available; try again shortly")

    @app.exception_handler(MailError)
    async def mail_down(request: Request, exc: MailError) -> Response:
        log.error("mail error on %s: %s", request.url.path, exc)
        return answer(request, 503, "the email could not be sent; try again shortly")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return answer(request, 500, "something went wrong on our side; it has been logged")
