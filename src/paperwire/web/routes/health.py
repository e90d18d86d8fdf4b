"""Health for machines and people: /healthz (the process answers), /readyz (database,
migrations, keyword index), /metrics (Prometheus), and /status, the curators' page of
sources, their last runs, lag and errors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

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
def readyz(services: ServicesDep) -> JSONResponse:
    """Ready to serve: 200, else 503 with the problems."""
    ready = health.readiness(services)
    body = {
        "status": "ready" if ready.ready else "unready",
        "database": ready.database,
        "missing_migrations": ready.missing_migrations,
        "keyword_index_lag": ready.index_lag,
        "to_embed": ready.to_embed,
        "problems": ready.problems,
    }
    return JSONResponse(
        body, status_code=200 if ready.ready else 503, headers={"Cache-Control": "no-store"}
    )


@router.get("/metrics")
def metrics(services: ServicesDep) -> Response:
    """Prometheus' text format."""
    body, media_type = health.metrics(services)
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})


@router.get("/status", response_class=HTMLResponse)
def status(request: Request, services: ServicesDep, user: CuratorDep) -> HTMLResponse:
    """The sources, their last runs, lag and errors (curators only)."""
    page = health.status(services, user)
    return render(request, "status.html", page=page)
