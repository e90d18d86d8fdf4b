"""The application factory: ``create_app(settings, store)`` wires the routes (one module
per resource, web.routes) to one Services object, behind the request guard
(web.middleware) and the error handlers (web.errors), with the MCP server at /mcp
(paperwire.mcp). The deployment's background jobs (embedding new papers, scheduled
digests, sources, channels) run beside the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles

from paperwire.config import Settings
from paperwire.digest.mailer import Mailer
from paperwire.ingest.fetch import PoliteClient
from paperwire.logredact import install_log_redaction, protect_routes
from paperwire.mcp import http as mcp_http
from paperwire.search.native import check_placement
from paperwire.store.base import Store
from paperwire.web.errors import install_error_handlers
from paperwire.web.middleware import Guard
from paperwire.web.routes import ROUTERS
from paperwire.web.services import Services, build_services
from paperwire.web.timing import Timing


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
    install_log_redaction()  # no token in any log line, uvicorn's access log included
    check_placement(store, settings.keyword_index)  # refuse at start, not at the first search
    services = services or build_services(settings, store, mailer, arxiv)
    # MCP at /mcp; imported here, as paperwire.mcp's tools import the web's use cases.
    from paperwire.mcp.server import build_server

    agents = build_server(services)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with services.deployment.running_jobs():
            async with mcp_http.running(agents, settings.base_url):
                yield
        services.deployment.close()

    app = FastAPI(
        title="paperwire",
        version="0.1.0",
        summary="Research papers: the daily feed, trending, hybrid search, similar papers.",
        lifespan=lifespan,
        docs_url=None,  # routes/docs.py: Swagger UI from the package, under the CSP
        redoc_url=None,
    )
    app.state.services = services
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    # First: a request is matched against the routes in order, and /mcp after every
    # router's routes was ~110 failed matches a call (bench/RESULTS.md §14, round 2).
    app.router.routes.insert(0, mcp_http.route(agents))
    static = resources.files("paperwire.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    # Every route's token parameters are redacted from the logs: read from the routes
    # themselves, so a new route is covered without being listed anywhere.
    protect_routes(route_paths(app))
    app.add_middleware(Guard, https=settings.https)
    app.add_middleware(Timing)  # outermost: the time includes the guard
    return app


def route_paths(app: FastAPI) -> list[str]:
    """Every route's path template (``/shared/{token}``), routers' routes included."""
    return [context.path for context in iter_route_contexts(app.routes) if context.path]
