"""The JSON API (/api/v1) and the Atom feeds through the real app: paging, search,
daily, trending, votes and submissions by token or session, problem details, the
OpenAPI document — and exact vote counts under concurrent clients."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import feedparser
from fastapi.testclient import TestClient

from paperwire.models import Paper
from paperwire.web.security import hash_token, new_token

KEY = "target-based-surrogates-for-stochastic-optimization"


def token_for(site, address: str) -> str:
    user = site.store.get_or_create_user(address, site.clock.now)
    token = new_token("pw_")
    site.store.add_api_token(hash_token(token), user.id, "test", site.clock.now)
    return token


def test_papers_are_paged_by_cursor_without_gaps_or_repeats(site):
    seen, cursor = [], None
    while True:
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page = site.client.get("/api/v1/papers", params=params).json()
        seen += [p["key"] for p in page["data"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 245
    bad = site.client.get("/api/v1/papers", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["status"] == 400 and "cursor" in bad.json()["detail"]


def test_get_paper_and_its_fields(site):
    paper = site.client.get(f"/api/v1/papers/{KEY}").json()
    assert paper["title"] == "Target-based Surrogates for Stochastic Optimization"
    assert paper["url"] == f"http://testserver/papers/{KEY}"
    assert paper["listed"]["day"] == "2026-11-23" and paper["listed"]["submitter"] is None
    missing = site.client.get("/api/v1/papers/nothing-like-this")
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found"


def test_search_with_filters_and_cursor(site):
    first = site.client.get(
        "/api/v1/search", params={"q": "diffusion", "mode": "lexical", "limit": 3}
    )
    body = first.json()
    assert len(body["data"]) == 3 and body["next"]
    assert all(hit["score"] > 0 for hit in body["data"])
    second = site.client.get(
        "/api/v1/search",
        params={"q": "diffusion", "mode": "lexical", "limit": 3, "cursor": body["next"]},
    ).json()
    keys = [h["paper"]["key"] for h in body["data"] + second["data"]]
    assert len(set(keys)) == 6
    none = site.client.get("/api/v1/search", params={"q": "diffusion", "year_from": 2031})
    assert none.json()["data"] == []
    assert site.client.get("/api/v1/search", params={"q": ""}).status_code == 422
    assert site.client.get("/api/v1/search", params={"q": "-only"}).status_code == 400
    assert site.client.get("/api/v1/search", params={"q": "a", "mode": "magic"}).status_code == 422


def test_daily_and_trending(site):
    day = site.client.get("/api/v1/daily", params={"date": "2026-11-23"}).json()
    assert day["total"] == 245 and len(day["data"]) == 30 and day["next"]
    upvotes = [p["upvotes"] for p in day["data"]]
    assert upvotes == sorted(upvotes, reverse=True)
    later = site.client.get("/api/v1/daily", params={"date": "2026-11-23", "cursor": day["next"]})
    assert {p["key"] for p in later.json()["data"]}.isdisjoint({p["key"] for p in day["data"]})
    assert site.client.get("/api/v1/daily", params={"date": "2026-02-30"}).status_code == 422
    trending = site.client.get("/api/v1/trending", params={"limit": 5}).json()
    assert len(trending["data"]) == 5 and "1.8" in trending["formula"]
    scores = [item["score"] for item in trending["data"]]
    assert scores == sorted(scores, reverse=True)
    site.clock.now += timedelta(days=8)  # past the window: nothing trends
    assert site.client.get("/api/v1/trending").json()["data"] == []


def test_votes_by_token_are_idempotent(site):
    token = token_for(site, "ada@example.org")
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(2):
        cast = site.client.put(f"/api/v1/papers/{KEY}/vote", json={"vote": True}, headers=auth)
        assert cast.json() == {"key": KEY, "voted": True, "upvotes": 1}
    assert site.client.get(f"/api/v1/papers/{KEY}", headers=auth).json()["voted"] is True
    gone = site.client.put(f"/api/v1/papers/{KEY}/vote", json={"vote": False}, headers=auth)
    assert gone.json()["upvotes"] == 0
    assert site.client.put(f"/api/v1/papers/{KEY}/vote", json={}).status_code == 401
    wrong = {"Authorization": "Bearer pw_not-a-real-token"}
    assert site.client.put(f"/api/v1/papers/{KEY}/vote", json={}, headers=wrong).status_code == 401
    basic = {"Authorization": "Basic YTpi"}
    assert site.client.get("/api/v1/me", headers=basic).status_code == 401
    ada = site.store.get_or_create_user("ada@example.org", site.clock.now)
    assert site.client.get("/api/v1/me", headers=auth).json()["handle"] == ada.handle


def test_session_callers_need_the_csrf_header(site):
    site.sign_in("ada@example.org")
    refused = site.client.put(f"/api/v1/papers/{KEY}/vote", json={"vote": True})
    assert refused.status_code == 403
    allowed = site.client.put(
        f"/api/v1/papers/{KEY}/vote", json={"vote": True}, headers={"X-CSRF-Token": site.csrf()}
    )
    assert allowed.json()["voted"] is True


def test_submissions_through_the_api(site):
    auth = {"Authorization": f"Bearer {token_for(site, 'ada@example.org')}"}
    created = site.client.post("/api/v1/submissions", json={"arxiv": "2106.09685"}, headers=auth)
    assert created.status_code == 201
    ada = site.store.get_or_create_user("ada@example.org", site.clock.now)
    assert created.json()["paper"]["listed"]["submitter"] == ada.handle
    assert created.json()["paper"]["code_urls"] == ["https://github.com/microsoft/LoRA"]
    again = site.client.post(
        "/api/v1/submissions", json={"arxiv": "arXiv:2106.09685v1"}, headers=auth
    )
    assert again.status_code == 200 and again.json()["created"] is False
    listed = site.client.post("/api/v1/submissions", json={"arxiv": KEY}, headers=auth)
    assert listed.status_code == 400  # a title key is not an arXiv id
    bad = site.client.post(
        "/api/v1/submissions", json={"arxiv": "http://localhost:8080/abs/2106.09685"}, headers=auth
    )
    assert bad.status_code == 400 and len(site.arxiv.requests) == 1
    assert site.client.post("/api/v1/submissions", content=b"{", headers=auth).status_code == 422


def test_fifty_concurrent_voters_give_an_exact_count(site):
    tokens = [token_for(site, f"voter{i}@example.org") for i in range(50)]

    def vote(token: str) -> int:
        client = TestClient(site.client.app)  # its own connection; no lifespan
        response = client.put(
            f"/api/v1/papers/{KEY}/vote",
            json={"vote": True},
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(vote, tokens + tokens))  # each voter twice
    assert codes == [200] * 100
    assert site.store.entry(KEY).upvotes == 50
    with site.store.read() as conn:
        assert conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 50


def test_openapi_documents_every_route(site):
    schema = site.client.get("/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/papers", "/api/v1/papers/{key}", "/api/v1/papers/{key}/similar",
        "/api/v1/papers/{key}/vote", "/api/v1/search", "/api/v1/daily", "/api/v1/trending",
        "/api/v1/submissions", "/api/v1/me", "/feeds/daily.atom", "/feeds/trending.atom",
        "/feeds/search.atom",
    }  # fmt: skip
    assert expected <= set(paths)
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), (method, path)
    assert not any(p.startswith("/daily") or p == "/" for p in paths)  # pages stay out


def test_feeds_parse_and_escape(site):
    site.store.upsert_papers(
        [
            Paper(
                title="Fish & <Chips>: a ]]> study",
                abstract="<b>bold</b> & more",
                arxiv_id="2401.00002",
            )
        ]
    )
    site.store.submit("2401.00002", site.clock.now.date(), None, site.clock.now)
    for path in ("/feeds/daily.atom", "/feeds/trending.atom", "/feeds/search.atom?q=diffusion"):
        response = site.client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(response.content)
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        assert feed.version == "atom10" and feed.entries
        assert all(e.link.startswith("http://testserver/papers/") for e in feed.entries)
    daily = feedparser.parse(site.client.get("/feeds/daily.atom").content)
    titles = [e.title for e in daily.entries]
    assert "Fish & <Chips>: a ]]> study" in titles
    assert site.client.get("/feeds/search.atom").status_code == 422
