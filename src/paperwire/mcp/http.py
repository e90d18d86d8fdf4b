"""/mcp inside the web app: the SDK's streamable HTTP transport, stateless (each POST is
answered on its own, so any worker of `paperwire serve --workers N` can answer any
call) with JSON responses, behind the web's own request guard. The session manager runs
for the app's lifespan; a new one is made for each (a manager runs once)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

PATH = "/mcp"


def transport_security(base_url: str) -> TransportSecuritySettings:
    """Host and Origin must name the configured site or loopback."""
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    hosts = [parts.netloc, f"{parts.hostname}:*", "127.0.0.1:*", "localhost:*", "[::1]:*"]
    hosts += ["127.0.0.1", "localhost", "[::1]"]
    origins = [origin, "http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(dict.fromkeys(hosts)),
        allowed_origins=list(dict.fromkeys(origins)),
    )


class _Endpoint:
    """The ASGI app at /mcp: whatever session manager is running now."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.server.session_manager.handle_request(scope, receive, send)


def route(server: MCPServer) -> Route:
    """The route to add to the web app."""
    return Route(PATH, endpoint=_Endpoint(server))


@asynccontextmanager
async def running(server: MCPServer, base_url: str) -> AsyncIterator[None]:
    """Run the transport for the block (the web app's lifespan)."""
    server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(base_url),
    )
    async with server.session_manager.run():
        yield
