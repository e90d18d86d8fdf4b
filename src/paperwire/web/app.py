"""The application factory: ``create_app(settings, store)`` wires the pages, the JSON API
and the feeds to one Services object, with the guards every request passes through
(body and URL size limits, security headers, the CSRF cookie) and error handlers that
answer friendly pages or RFC 9457 problem details — never a traceback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperwire.config import Settings
from paperwire.digest.mailer import Mailer, MailError
from paperwire.digest.periods import FREQUENCIES
from paperwire.digest.run import Scheduler, compose_due
from paperwire.digest.send import deliver
from paperwire.ingest.fetch import PoliteClient
from paperwire.search.native import check_placement
from paperwire.store.base import Store, StoreError
from paperwire.web import api, feeds, pages, subscriptions
from paperwire.web.deps import RateLimitedError
from paperwire.web.render import render_error
from paperwire.web.security import CSRF_COOKIE, new_token
from paperwire.web.services import Services, build_services
from paperwire.web.views import UserError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_URL_BYTES = 8 * 1024
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class Guard:
    """Pure ASGI middleware: refuses oversized URLs and bodies (413/414 before the body
    is read into memory), gives every browser a CSRF cookie, adds security headers."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("raw_path", b"")) + len(scope.get("query_string", b"")) > MAX_URL_BYTES:
            await _plain(send, 414, "URL too long")
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            await _plain(send, 413, f"request body over {MAX_BODY_BYTES} bytes")
            return
        cookie = _cookie(headers.get(b"cookie", b"").decode("latin-1"), CSRF_COOKIE)
        fresh = cookie is None
        scope.setdefault("state", {})["csrf_binding"] = cookie or new_token()
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:  # a chunked body that lied by omission
                    raise _BodyTooLargeError()
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"content-security-policy", _CSP.encode()),
                ]
                if self.https:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                if fresh:
                    flags = "; HttpOnly; SameSite=Lax; Path=/; Max-Age=31536000"
                    flags += "; Secure" if self.https else ""
                    value = f"{CSRF_COOKIE}={scope['state']['csrf_binding']}{flags}"
                    extra.append((b"set-cookie", value.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _BodyTooLargeError:
            await _plain(send, 413, f"request body over {MAX_BODY_BYTES} bytes")


class _BodyTooLargeError(Exception):
    pass


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value and len(value) <= 128:
            return value
    return None


async def _plain(send: Send, status: int, text: str) -> None:
    body = f'{{"title": "{HTTPStatus(status).phrase}", "status": {status}, "detail": "{text}"}}'
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/problem+json")],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})


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


def _install_error_handlers(app: FastAPI) -> None:
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


def create_app(
    settings: Settings,
    store: Store,
    *,
    mailer: Mailer | None = None,
    arxiv: PoliteClient | None = None,
    services: Services | None = None,
) -> FastAPI:
    """The whole web service over one store. Tests pass their own mailer (to a real
    local SMTP server) and arXiv client (replaying recorded responses)."""
    check_placement(store, settings.keyword_index)  # refuse at start, not at the first search
    services = services or build_services(settings, store, mailer, arxiv)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        if settings.digest_schedule:
            scheduler = Scheduler(lambda compose: run_scheduled(services, compose),
                                  settings, services.clock)  # fmt: skip
            scheduler.start()
        yield
        if scheduler is not None:
            scheduler.stop()
        services.store.close()

    app = FastAPI(
        title="paperwire",
        version="0.1.0",
        summary="Research papers: the daily feed, trending, hybrid search, similar papers.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.services = services
    _install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(subscriptions.router)
    app.include_router(pages.router)
    static = resources.files("paperwire.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(Guard, https=settings.https)
    return app


def run_scheduled(services: Services, compose: bool) -> None:
    """One step of the in-server scheduler: compose the due periods (from the configured
    hour on), then deliver whatever the outbox has due."""
    if compose:
        embedder = services.engine.embedder
        for frequency in FREQUENCIES:
            compose_due(
                services.store, services.settings, services.secret, embedder, frequency,
                services.clock(),
            )  # fmt: skip
    lease = timedelta(seconds=services.settings.outbox_lease_seconds)
    deliver(services.store, services.mailer, services.clock, lease=lease)


def app_from_environment() -> Any:
    """The factory ``uvicorn --factory`` calls in each worker process: settings from
    the environment (``paperwire serve`` passes its own there)."""
    import os

    from paperwire.config import load_settings
    from paperwire.store import open_store

    settings = load_settings(os.environ.get("PAPERWIRE_CONFIG"))
    return create_app(
        settings, open_store(settings.database_url, index_root=Path(settings.cache_dir))
    )
