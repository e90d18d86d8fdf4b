"""How failures answer: pages for readers, RFC 9457 problem details for the API and the
feeds — never a traceback. Every error a use case or the store raises is mapped here."""

from __future__ import annotations

import logging
from http import HTTPStatus

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
        parts = []
        for error in exc.errors()[:5]:
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
