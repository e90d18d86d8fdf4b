"""The site's own furniture: the API documentation page (Swagger UI served from the
package, so it works offline and under the CSP: no CDN, no inline script) and the
favicon every browser and link checker asks for."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from paperwire.web.render import render

router = APIRouter(include_in_schema=False)
FAVICON = resources.files("paperwire.web").joinpath("static", "favicon.ico")


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    """Swagger UI over /openapi.json, its script and styles from /static/swagger-ui."""
    return render(request, "api_docs.html", spec=request.app.openapi_url or "/openapi.json")


@router.get("/favicon.ico")
def favicon() -> Response:
    """The site's icon (browsers ask for this path whatever the page links)."""
    return Response(
        FAVICON.read_bytes(),
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )
