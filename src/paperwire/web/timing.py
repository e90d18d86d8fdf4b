"""Request latency per route for /metrics (pure ASGI): the time from a request's arrival
to the end of its response, labelled by the route's template (``/papers/{key}``, never
the raw path, so a scraper sees a bounded set of series)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from paperwire.metrics import REQUEST_SECONDS


class Timing:
    """Times every HTTP request by route template and method."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            REQUEST_SECONDS.labels(_route(scope), scope.get("method", "GET")).observe(
                time.perf_counter() - started
            )


def _route(scope: Scope) -> str:
    """The template of the route that answered (the router leaves it in the scope),
    "static" for the files under /static (a mount, which leaves no route template), or
    "unmatched" (a 404, or a request refused before routing)."""
    route = getattr(scope.get("route"), "path", None)
    if route is None and str(scope.get("path", "")).startswith("/static/"):
        return "static"
    return str(route or "unmatched")
