"""The MCP server (the official `mcp` SDK's MCPServer): paperwire's papers as tools an
agent can call, over stdio (`paperwire mcp`) and streamable HTTP (`/mcp` inside
`paperwire serve`).

- Public tools (search, daily, trending, paper, similar) work without a token, as the
  public pages do; personal ones (recommendations, collections, save, dismiss,
  saved_searches) take a personal API token — 'Authorization: Bearer pw_…' over HTTP,
  PAPERWIRE_TOKEN for stdio — checked exactly as the JSON API checks it.
- Every call counts against the web's rate limiter (the same counters as the API, action
  "agent": per token owner, else per client address).
- Over HTTP, the Host and Origin headers must name this site (its base URL) or loopback
  (the SDK's DNS-rebinding protection): a page on another origin cannot drive a local
  server from a browser.
- Errors are tool results an agent can act on: which id forms a paper tool accepts, how
  to make a token (tools.NO_TOKEN).
- A tool answers its JSON as structured content and, for clients that read only text,
  the same JSON once more as compact text (:func:`answer`): serialised once by orjson,
  with no output schema to validate against on either side. The SDK's default for a
  `dict` result — the text indented, the dict validated against a schema that says only
  "an object" and dumped again, then re-validated by the client — cost a call about
  1 ms more at p50 for nothing an agent can use (bench/RESULTS.md §14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import orjson
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from paperwire.deployment import Deployment
from paperwire.errors import UserError
from paperwire.mcp import tools
from paperwire.models import User
from paperwire.web.services import Services

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)
INSTRUCTIONS = (
    "paperwire: research papers — the daily feed, trending, hybrid search, similar papers, "
    "and (with a personal token) a reader's recommendations and collections. Every paper "
    "comes with a `key` to pass back to `paper`, `similar`, `save` or `dismiss`, and a `url` "
    "a person can open."
)

Key = Annotated[
    str,
    Field(
        min_length=1,
        max_length=300,
        description="A paper: its key (as results give it), an arXiv id (2401.12345, "
        "2401.12345v2) or URL, or its page URL here",
    ),
]
CollectionId = Annotated[
    int | None,
    Field(ge=1, le=2**53, description="One of your collection ids (from `collections`)"),
]


def answer(data: dict[str, Any]) -> CallToolResult:
    """A tool's answer: `data` (JSON-ready) as structured content, and as compact JSON text."""
    text = orjson.dumps(data).decode()
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


class _Gate:
    """Who is calling, and whether they may: the token, then the rate limit."""

    def __init__(self, services: Services, stdio_token: str | None) -> None:
        self.services = services
        self.stdio_token = stdio_token

    def run(
        self, ctx: Context, work: Callable[[User | None], dict[str, Any]], personal: bool = False
    ) -> CallToolResult:
        try:
            reader = tools.reader_of(self.services, self._token(ctx))
            if personal:
                tools.need(reader)
            self._limit(ctx, reader)
            return answer(work(reader))
        except tools.ToolProblemError as exc:
            raise ToolError(str(exc)) from exc
        except UserError as exc:
            raise ToolError(str(exc)) from exc

    def _token(self, ctx: Context) -> str | None:
        headers = ctx.headers
        if headers is None:  # stdio: the token the server was started with
            return self.stdio_token
        authorization = headers.get("authorization", "")
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise tools.ToolProblemError(
                "Authorization must be 'Bearer pw_…' (a personal API token). " + tools.NO_TOKEN
            )
        return token.strip()

    def _limit(self, ctx: Context, reader: User | None) -> None:
        if reader is not None:
            who = f"user:{reader.id}"
        else:
            request = getattr(ctx.request_context, "request", None)
            client = getattr(request, "client", None)
            who = getattr(client, "host", None) or "stdio"
        wait = self.services.limiter.hit("agent", who)
        if wait > 0:
            raise tools.ToolProblemError(f"too many calls; try again in {int(wait) + 1} seconds")


def build_server(services: Services, stdio_token: str | None = None) -> MCPServer:
    """The MCP server over one site's services (`stdio_token`: the reader of a stdio
    session, from PAPERWIRE_TOKEN)."""
    server = MCPServer("paperwire", instructions=INSTRUCTIONS, version="0.1.0", log_level="WARNING")
    gate = _Gate(services, stdio_token)

    @server.tool(annotations=READ)
    def search(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=500,
                description="What to look for, in the site's query language: words, "
                '"phrases", -exclusions, author:NAME, year:2024, category:cs.LG, has:code',
            ),
        ],
        ctx: Context,
        mode: Annotated[
            Literal["hybrid", "lexical", "semantic"],
            Field(description="hybrid (words and meaning), lexical (words), semantic (meaning)"),
        ] = "hybrid",
        category: Annotated[
            str | None, Field(max_length=30, description="Only this arXiv category, e.g. cs.CL")
        ] = None,
        year_from: Annotated[int | None, Field(ge=1900, le=2999, description="First year")] = None,
        year_to: Annotated[int | None, Field(ge=1900, le=2999, description="Last year")] = None,
        limit: Annotated[int, Field(ge=1, le=50, description="How many results")] = 10,
    ) -> CallToolResult:
        """Search every paper held here, by keywords and meaning, with filters; best first."""
        return gate.run(
            ctx,
            lambda user: tools.search(
                services, user, query, mode, category, year_from, year_to, limit
            ),
        )

    @server.tool(annotations=READ)
    def daily(
        ctx: Context,
        date: Annotated[
            str | None,
            Field(
                max_length=10,
                description="YYYY-MM-DD; default: today (or the latest day with papers)",
            ),
        ] = None,
    ) -> CallToolResult:
        """The papers listed in the daily feed for one day, most upvoted first."""
        return gate.run(ctx, lambda user: tools.daily(services, user, date))

    @server.tool(annotations=READ)
    def trending(
        ctx: Context,
        period: Annotated[
            Literal["day", "week"],
            Field(description="week: listed in the last 7 days; day: in the last day"),
        ] = "week",
        limit: Annotated[int, Field(ge=1, le=100, description="How many papers")] = 20,
    ) -> CallToolResult:
        """Trending papers: upvotes with time decay (the formula is in the answer)."""
        return gate.run(ctx, lambda user: tools.trending(services, user, period, limit))

    @server.tool(annotations=READ)
    def paper(key: Key, ctx: Context) -> CallToolResult:
        """One paper in full: title, authors, abstract, ids, upvotes, BibTeX and links."""
        return gate.run(ctx, lambda user: tools.paper(services, user, key))

    @server.tool(annotations=READ)
    def similar(
        key: Key,
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=50, description="How many papers")] = 10,
    ) -> CallToolResult:
        """The papers nearest in meaning to one paper."""
        return gate.run(ctx, lambda user: tools.similar(services, user, key, limit))

    @server.tool(annotations=READ)
    def recommendations(
        ctx: Context,
        collection: CollectionId = None,
        limit: Annotated[int, Field(ge=1, le=100, description="How many papers")] = 20,
    ) -> CallToolResult:
        """Papers recommended for you (needs a token): for one of your profiles (default:
        your first), each with why."""
        return gate.run(
            ctx,
            lambda user: tools.recommendations(services, tools.need(user), collection, limit),
            personal=True,
        )

    @server.tool(annotations=READ)
    def collections(ctx: Context, collection: CollectionId = None) -> CallToolResult:
        """Your collections (needs a token); with a collection id, its papers and notes."""
        return gate.run(
            ctx, lambda user: tools.collections(services, tools.need(user), collection), True
        )

    @server.tool(annotations=WRITE)
    def save(key: Key, ctx: Context, collection: CollectionId = None) -> CallToolResult:
        """Save a paper to one of your collections (needs a token; default: Reading list)."""
        return gate.run(
            ctx, lambda user: tools.save(services, tools.need(user), key, collection), True
        )

    @server.tool(annotations=WRITE)
    def dismiss(
        key: Key,
        ctx: Context,
        reason: Annotated[
            Literal["", "topic", "paper"],
            Field(description="'topic': fewer like it; 'paper': just this one; '': unsaid"),
        ] = "",
    ) -> CallToolResult:
        """Not interested (needs a token): the paper is never recommended to you again."""
        return gate.run(
            ctx, lambda user: tools.dismiss(services, tools.need(user), key, reason), True
        )

    @server.tool(annotations=READ)
    def saved_searches(ctx: Context) -> CallToolResult:
        """The searches your email digests follow (needs a token)."""
        return gate.run(ctx, lambda user: tools.saved_searches(services, tools.need(user)), True)

    return server


def serve_stdio(deployment: Deployment, token: str | None) -> None:
    """`paperwire mcp`: the tools over stdio for one agent, as `token`'s reader (None:
    the public tools only). Logs go to stderr (stdout is the protocol), redacted."""
    import logging
    import sys

    from paperwire.logredact import install_log_redaction
    from paperwire.web.services import build_services

    install_log_redaction()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    deployment.check()
    services = build_services(deployment.settings, deployment.store)
    build_server(services, stdio_token=token).run("stdio")
