"""The guard every request passes through first (pure ASGI): oversized URLs, headers and
bodies refused before the body is read, HEAD answered as GET without the body (feed readers
and link checkers probe with HEAD), a CSRF cookie for every browser (the CSRF token is bound
to it and to the session), security headers on every response, and no caching of the pages
that show secrets (a new API token, the account, a subscription's links)."""

from __future__ import annotations

from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperwire.web.security import CSRF_COOKIE, SESSION_COOKIE, csrf_binding, new_token

MAX_BODY_BYTES = 64 * 1024
# A library import (a BibTeX or CSL JSON file of up to 5 MB, in a multipart form) may send
# more: the use case refuses a file over its own limit with a message naming it.
MAX_LIBRARY_BODY_BYTES = 6 * 1024 * 1024
LIBRARY_PATH_SUFFIX = "/import/library"


def body_limit(path: str) -> int:
    """How many bytes a request body to `path` may have."""
    return MAX_LIBRARY_BODY_BYTES if path.endswith(LIBRARY_PATH_SUFFIX) else MAX_BODY_BYTES


MAX_URL_BYTES = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024  # all request headers together (8 MB were accepted)
# Pages whose answers must never be kept by a browser or proxy cache: they show tokens,
# signed links or a reader's own account.
NO_STORE_PREFIXES = ("/account", "/subscriptions/", "/subscribe", "/signin", "/api/v1/me")
# Paths no browser form posts to (agents over MCP, with bearer tokens): no CSRF cookie is
# made or set there. An agent's HTTP client kept the cookie and sent it back on every
# call, work for nothing on both sides (bench/RESULTS.md §14, round 2).
NO_CSRF_PATHS = frozenset({"/mcp"})
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
        if sum(len(name) + len(value) + 4 for name, value in scope["headers"]) > MAX_HEADER_BYTES:
            await _plain(send, 431, f"request headers over {MAX_HEADER_BYTES} bytes")
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"0")
        limit = body_limit(scope.get("path", ""))
        if not length.isdigit() or int(length) > limit:
            await _plain(send, 413, f"request body over {limit} bytes")
            return
        fresh = False
        if scope.get("path", "") not in NO_CSRF_PATHS:
            cookies = headers.get(b"cookie", b"").decode("latin-1")
            cookie = _cookie(cookies, CSRF_COOKIE)
            fresh = cookie is None
            csrf_cookie = cookie or new_token()
            state = scope.setdefault("state", {})
            state["csrf_cookie"] = csrf_cookie
            state["csrf_binding"] = csrf_binding(csrf_cookie, _cookie(cookies, SESSION_COOKIE))
        no_store = scope.get("path", "").startswith(NO_STORE_PREFIXES)
        received = 0
        head = scope["method"] == "HEAD"
        if head:  # every GET route answers HEAD: the same status and headers, no body
            scope = dict(scope, method="GET")

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # a chunked body that lied by omission
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
                    value = f"{CSRF_COOKIE}={csrf_cookie}{flags}"
                    extra.append((b"set-cookie", value.encode()))
                given = list(message.get("headers", []))
                if no_store:
                    given = [(k, v) for k, v in given if k.lower() != b"cache-control"]
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = given + extra
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _BodyTooLargeError:
            await _plain(send, 413, f"request body over {limit} bytes")


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
