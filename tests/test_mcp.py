"""The MCP server through the `mcp` SDK's own client: over stdio (`python -m paperwire.cli
mcp` spawned on a test store) and over streamable HTTP (the web app under a real uvicorn on
a free port), listing the tools and calling each; a personal tool without a token answers
how to make one; another reader's collection is refused as if it did not exist; a
foreign Host or Origin is refused (DNS rebinding)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
import uvicorn
from fastapi.testclient import TestClient
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from paperwire.deployment import Deployment
from paperwire.ingest.hf_daily import parse
from paperwire.ingest.load import load
from paperwire.mcp.server import build_server
from paperwire.models import Paper
from paperwire.web.app import create_app
from support import ENGINES, engine_url, make_site

pytestmark = pytest.mark.timeout(180)

PUBLIC = {"search", "daily", "trending", "paper", "similar"}
PERSONAL = {"recommendations", "collections", "save", "dismiss", "saved_searches"}


@pytest.fixture(params=ENGINES)
def site(request, tmp_path):
    """The app over the sample corpus on each engine."""
    made = make_site(
        tmp_path, now=datetime.now(UTC),  # the stdio server's clock is the real one
        database_url=engine_url(request, tmp_path, sample=True), sample_loaded=True,
        embed_in_background=False, sources_schedule=False, channels_schedule=False,
    )  # fmt: skip
    yield made
    made.store.close()


def _token(site, email: str) -> str:
    return Deployment(site.services.settings, store=site.store).new_api_token(email, "agent")


async def _exercise(client: Client, key: str, other_collection: int) -> dict[str, Any]:
    """List the tools, call each, and return what each call said."""
    listed = await client.list_tools()
    names = {tool.name for tool in listed.tools}
    assert names == PUBLIC | PERSONAL
    for tool in listed.tools:
        assert tool.description and tool.input_schema["type"] == "object"
    search_schema = next(t for t in listed.tools if t.name == "search").input_schema
    assert search_schema["properties"]["mode"]["enum"] == ["hybrid", "lexical", "semantic"]
    assert "query language" in search_schema["properties"]["query"]["description"]
    calls = {
        "search": {"query": "diffusion guidance", "mode": "lexical", "limit": 3},
        "daily": {},
        "trending": {"period": "week", "limit": 5},
        "paper": {"key": key},
        "similar": {"key": key, "limit": 3},
        "recommendations": {"limit": 3},
        "collections": {},
        "save": {"key": key},
        "dismiss": {"key": key, "reason": "paper"},
        "saved_searches": {},
    }
    answers = {}
    for name, arguments in calls.items():
        result = await client.call_tool(name, arguments)
        answers[name] = (result.is_error, result.structured_content, result.content)
    unknown = await client.call_tool("paper", {"key": "no-such-paper-here"})
    answers["unknown"] = (unknown.is_error, None, unknown.content)
    other = await client.call_tool("collections", {"collection": other_collection})
    answers["other"] = (other.is_error, None, other.content)
    return answers


def _check(answers: dict[str, Any], personal_ok: bool) -> None:
    for name in PUBLIC:
        assert not answers[name][0], (name, answers[name][2])
    found = answers["search"][1]["results"]
    assert found and all(
        r["key"] and r["url"].startswith("http://testserver/papers/") for r in found
    )
    record = answers["paper"][1]
    assert record["bibtex"].startswith("@") and record["links"]["page"] == record["url"]
    assert answers["trending"][1]["papers"] and answers["daily"][1]["papers"]
    unknown = answers["unknown"][2][0].text
    assert answers["unknown"][0] and "arXiv id" in unknown and "arXiv URL" in unknown
    for name in PERSONAL:
        if personal_ok:
            assert not answers[name][0], (name, answers[name][2])
        else:
            assert answers[name][0] and "paperwire users token" in answers[name][2][0].text
    if personal_ok:
        assert answers["save"][1]["collection"]["name"] == "Reading list"
        assert [c["description"] for c in answers["collections"][1]["collections"]] == [""]
        assert answers["other"][0] and "you have no collection" in answers["other"][2][0].text


def _other_readers_collection(site) -> int:
    other = site.store.get_or_create_user("other@example.org", site.clock())
    return site.store.collections_of(other.id, site.clock())[0].id


def test_stdio_lists_and_calls_every_tool(site, tmp_path):
    key = site.store.listed_since(site.clock.now.replace(year=2000))[0].paper.key
    token = _token(site, "reader@example.org")
    other = _other_readers_collection(site)
    env = {
        **os.environ,
        "PAPERWIRE_DATABASE_URL": site.services.settings.database_url,
        "PAPERWIRE_CACHE_DIR": str(tmp_path / "cache"),
        "PAPERWIRE_BASE_URL": "http://testserver",
    }

    async def run(with_token: bool) -> dict[str, Any]:
        extra = {"PAPERWIRE_TOKEN": token} if with_token else {}
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "paperwire.cli", "mcp"], env={**env, **extra}
        )
        async with Client(params) as client:
            return await _exercise(client, key, other)

    _check(asyncio.run(run(False)), personal_ok=False)
    _check(asyncio.run(run(True)), personal_ok=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(site):
    port = _free_port()
    settings = site.services.settings.model_copy(update={"base_url": "http://testserver"})
    app = create_app(settings, site.store, services=site.services)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started and time.monotonic() < end:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def test_streamable_http_lists_and_calls_every_tool(site, served):
    key = site.store.listed_since(site.clock.now.replace(year=2000))[0].paper.key
    token = _token(site, "reader@example.org")
    other = _other_readers_collection(site)

    async def run(headers: dict[str, str]) -> dict[str, Any]:
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(f"{served}/mcp", http_client=http)) as client,
        ):
            return await _exercise(client, key, other)

    _check(asyncio.run(run({})), personal_ok=False)
    _check(asyncio.run(run({"Authorization": f"Bearer {token}"})), personal_ok=True)
    # A revoked or made-up token is refused with what to do.
    bad = asyncio.run(run({"Authorization": "Bearer pw_" + "x" * 40}))
    assert bad["collections"][0] and "unknown or revoked API token" in bad["collections"][2][0].text


def test_foreign_host_or_origin_is_refused(served):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    evil_host = httpx.post(f"{served}/mcp", json=body, headers={**headers, "Host": "evil.example"})
    assert evil_host.status_code in {403, 421}
    evil_origin = httpx.post(
        f"{served}/mcp", json=body, headers={**headers, "Origin": "https://evil.example"}
    )
    assert evil_origin.status_code == 403


RICH = Path(__file__).parent / "data" / "hf_daily_papers_rich.json"
RICH_KEY = "2602.23229"


def test_the_paper_tool_and_lists_carry_the_rich_fields(site):
    """A paper imported from a recorded HF daily_papers item: `paper` carries the API's
    `upstream` block (the same view), search/daily/trending carry the fields in brief."""
    load(site.store, [p for p in parse(RICH.read_bytes()) if isinstance(p, Paper)])
    site.store.submit_many([RICH_KEY], site.clock.now.date(), site.clock.now)
    server = build_server(site.services)

    async def run() -> dict[str, Any]:
        async with Client(server) as client:
            calls = {
                "paper": {"key": f"https://arxiv.org/abs/{RICH_KEY}"},
                "search": {"query": "CIRCLE in-context learning", "mode": "lexical"},
                "daily": {},
                "trending": {"period": "week", "limit": 100},
            }
            found = {}
            for name, arguments in calls.items():
                result = await client.call_tool(name, arguments)
                assert not result.is_error, (name, result.content)
                found[name] = result.structured_content
            return found

    answers = asyncio.run(run())
    record = answers["paper"]
    with TestClient(create_app(site.services.settings, site.store, services=site.services)) as c:
        api = c.get(f"/api/v1/papers/{RICH_KEY}").json()
    assert record["upstream"] == api["upstream"]  # one view, not a copy
    up = record["upstream"]
    assert up["summary"].startswith("Large Multimodal Models demon")
    assert "in-context learning" in up["keywords"]
    assert any(t["kind"] == "keyword" for t in up["topics"])
    assert up["code"] == [{"url": "https://github.com/marco-garosi/CIRCLE", "stars": 9}]
    assert up["project_page"] == "https://circle-lmm.github.io/"
    assert up["organization"]["name"] == "MHUGLab"
    assert up["provenance"]["summary"]["source"] == "hf-daily"
    assert "journal_ref" in up and "arxiv_comments" in up and "models" in up
    assert record["links"]["code"] == ["https://github.com/marco-garosi/CIRCLE"]
    assert record["links"]["project_page"] == "https://circle-lmm.github.io/"
    listed = [
        *answers["search"]["results"], *answers["daily"]["papers"], *answers["trending"]["papers"]
    ]  # fmt: skip
    rich = [p for p in listed if p["key"] == RICH_KEY]
    assert len(rich) == 3, [p["key"] for p in listed]
    for p in rich:
        assert p["summary"] == up["summary"] and p["stars"] == 9
        assert p["code"] == "https://github.com/marco-garosi/CIRCLE"
        assert p["organization"] == "Multimedia and Human Understanding Group"
        assert "in-context learning" in p["keywords"]
    plain = [p for p in listed if p["key"] != RICH_KEY]
    assert plain and all("summary" not in p and "stars" not in p for p in plain)


def test_mcp_answers_set_no_csrf_cookie_and_match_first(site, served):
    """/mcp is for agents (bearer tokens, no forms): the guard makes and sets no CSRF
    cookie there (a page still gets one), and the route is the app's first, so a call
    is not matched against every page's route before it."""
    body = {
        "jsonrpc": "2.0", "id": 1, "method": "tools/list",
        "params": {"_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        }},
    }  # fmt: skip
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/list",
    }
    listed = httpx.post(f"{served}/mcp", json=body, headers=headers)
    assert listed.status_code == 200, listed.text
    assert {t["name"] for t in listed.json()["result"]["tools"]} == PUBLIC | PERSONAL
    assert "set-cookie" not in listed.headers
    assert listed.headers["x-content-type-options"] == "nosniff"  # still guarded
    assert "pw_csrf=" in httpx.get(f"{served}/").headers.get("set-cookie", "")
    app = create_app(site.services.settings, site.store, services=site.services)
    assert getattr(app.router.routes[0], "path", None) == "/mcp"
