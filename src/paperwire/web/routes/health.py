"""Health for machines and people: /healthz (the process answers), /readyz (database,
migrations, keyword index: "ok" or "not ok", nothing more), /metrics (Prometheus, for the
holder of the metrics token only), and /status, the curators' page of sources, their last
runs, lag, errors and what keeps the service from being ready.

Neither /readyz nor /metrics tells a stranger anything (issue 25): the counts of papers,
users, outbox messages and errors, the routes' traffic, which migration is missing, are
the operator's. Without PAPERWIRE_METRICS_TOKEN, /metrics is not there at all (404): a
loopback-only rule would hand it to everyone behind a reverse proxy on the same host."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from paperwire.models import User
from paperwire.web.deps import ServicesDep, signed_in
from paperwire.web.render import render
from paperwire.web.usecases import health

router = APIRouter(include_in_schema=False)
CuratorDep = Annotated[User, Depends(signed_in("see the status page"))]


@router.get("/healthz")
def healthz() -> JSONResponse:
    """Alive: the process answers (nothing else is checked)."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


@router.get("/readyz")
def readyz(services: ServicesDep) -> PlainTextResponse:
    """Ready to serve: 200 "ok", else 503 "not ok" (why: on /status, for curators)."""
    ready = health.readiness(services).ready
    return PlainTextResponse(
        "ok\n" if ready else "not ok\n",
        status_code=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/metrics")
def metrics(
    services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    """Prometheus' text format, to `Authorization: Bearer <metrics_token>` only (401
    otherwise); 404 when no token is configured."""
    expected = services.settings.metrics_token
    if not expected:
        return PlainTextResponse("Not Found\n", status_code=404)
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        return PlainTextResponse(
            "metrics need the bearer token (PAPERWIRE_METRICS_TOKEN)\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
        )
    body, media_type = health.metrics(services)
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})


@router.get("/status", response_class=HTMLResponse)
def status(request: Request, services: ServicesDep, user: CuratorDep) -> HTMLResponse:
    """The sources, their last runs, lag and errors (curators only)."""
    page = health.status(services, user)
    return render(request, "status.html", page=page)
