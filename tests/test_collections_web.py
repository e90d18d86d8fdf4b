"""Collections, feedback and recommendations through the real app, on both engines: the
JSON API, the pages and their forms (CSRF on every one, no JavaScript needed), library
import and export, the profile's private feed, and every route refusing another reader's
ids exactly as ids that do not exist."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import feedparser
import pytest
from click.testing import CliRunner

from paperwire.cli import cli
from paperwire.models import Author, Paper
from paperwire.web.security import hash_token, new_token

TARGET = "target-based-surrogates-for-stochastic-optimization"


def token_for(site, address: str) -> str:
    user = site.store.get_or_create_user(address, site.clock.now)
    token = new_token("pw_")
    site.store.add_api_token(hash_token(token), user.id, "test", site.clock.now)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def keys_with(site, word: str) -> list[str]:
    return sorted(p.key for p in site.store.iter_papers() if word in p.title.lower())


def test_api_collections_save_dismiss_and_recommend(site):
    ada = bearer(token_for(site, "ada@example.org"))
    client = site.client
    listed = client.get("/api/v1/collections", headers=ada).json()["data"]
    assert [c["name"] for c in listed] == ["Reading list"]
    made = client.post("/api/v1/collections", json={"name": "OT", "profile": True}, headers=ada)
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert client.post("/api/v1/collections", json={"name": "OT"}, headers=ada).status_code == 409
    transport = keys_with(site, "transport")
    assert len(transport) >= 4
    for key in transport[:3]:
        put = client.put(f"/api/v1/collections/{cid}/papers/{key}", headers=ada)
        assert put.status_code == 200, put.text
    noted = client.put(
        f"/api/v1/collections/{cid}/papers/{transport[0]}", json={"note": "start here"},
        headers=ada,
    )  # fmt: skip
    assert noted.json()["note"] == "start here" and noted.json()["position"] == 1
    papers = client.get(f"/api/v1/collections/{cid}/papers", headers=ada).json()["data"]
    assert [p["key"] for p in papers] == transport[:3]

    recs = client.get(
        "/api/v1/recommendations", params={"collection": cid, "limit": 10}, headers=ada
    ).json()
    assert recs["method"] == "model" and len(recs["data"]) == 10
    first = recs["data"][0]
    assert set(first) >= {"key", "title", "score", "why"}
    assert first["why"].startswith("close to “") and first["close_to"] in transport[:3]
    got = [r["key"] for r in recs["data"]]
    assert not set(got) & set(transport[:3])  # never a paper already in the profile
    assert set(got) & set(transport[3:])  # the other transport papers rank high
    # Dismissed: never again, in any profile.
    gone = got[0]
    feedback = client.post(
        f"/api/v1/papers/{gone}/feedback", json={"signal": "not_interested", "reason": "paper"},
        headers=ada,
    )  # fmt: skip
    assert feedback.status_code == 200, feedback.text
    seen = got[1]
    client.post(f"/api/v1/papers/{seen}/feedback", json={"signal": "seen"}, headers=ada)
    again = client.get(
        "/api/v1/recommendations", params={"collection": cid, "limit": 100}, headers=ada
    ).json()["data"]
    assert gone not in {r["key"] for r in again} and seen not in {r["key"] for r in again}
    bad = client.post(f"/api/v1/papers/{gone}/feedback", json={"signal": "love"}, headers=ada)
    assert bad.status_code == 422
    # Undo brings it back.
    undo = client.delete(
        f"/api/v1/papers/{gone}/feedback", params={"signal": "not_interested"}, headers=ada
    )
    assert undo.status_code == 204
    back = client.get(
        "/api/v1/recommendations", params={"collection": cid, "limit": 100}, headers=ada
    ).json()["data"]
    assert gone in {r["key"] for r in back}
    removed = client.delete(f"/api/v1/collections/{cid}/papers/{transport[1]}", headers=ada)
    assert removed.status_code == 204
    assert (
        client.delete(f"/api/v1/collections/{cid}/papers/{transport[1]}", headers=ada).status_code
        == 404
    )
    # One paper: the centroid, still explained.
    client.delete(f"/api/v1/collections/{cid}/papers/{transport[2]}", headers=ada)
    one = client.get("/api/v1/recommendations", params={"collection": cid}, headers=ada).json()
    assert one["method"] == "centroid" and one["data"][0]["why"]
    assert client.get("/api/v1/collections", headers={}).status_code == 401


def test_the_api_gives_a_collections_description_as_its_pages_do(site):
    ada = bearer(token_for(site, "ada@example.org"))
    client = site.client
    made = client.post("/api/v1/collections", json={"name": "Graphs"}, headers=ada).json()
    assert made["description"] == ""
    user = site.store.get_or_create_user("ada@example.org", site.clock.now)
    text = "Papers on graphs.\nStart with <the survey> & the benchmarks."
    assert site.store.update_collection(user.id, made["id"], description=text)
    listed = client.get("/api/v1/collections", headers=ada).json()["data"]
    assert [c["description"] for c in listed if c["name"] == "Graphs"] == [text]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["CollectionOut"]
    assert "description" in schema["required"] and schema["properties"]["description"]["type"]


def test_another_readers_ids_answer_404_on_every_route(site):
    ada = bearer(token_for(site, "ada@example.org"))
    eve = bearer(token_for(site, "eve@example.org"))
    client = site.client
    cid = client.post("/api/v1/collections", json={"name": "private"}, headers=ada).json()["id"]
    client.put(f"/api/v1/collections/{cid}/papers/{TARGET}", headers=ada)
    client.post(f"/api/v1/papers/{TARGET}/feedback", json={"signal": "seen"}, headers=ada)
    nowhere = cid + 1000
    for target in (cid, nowhere):
        for method, url in (
            ("GET", f"/api/v1/collections/{target}/papers"),
            ("PUT", f"/api/v1/collections/{target}/papers/{TARGET}"),
            ("DELETE", f"/api/v1/collections/{target}/papers/{TARGET}"),
            ("GET", f"/api/v1/recommendations?collection={target}"),
        ):
            answer = client.request(method, url, headers=eve)
            assert answer.status_code == 404, (method, url, answer.text)
            assert "private" not in answer.text
    assert "private" not in client.get("/api/v1/collections", headers=eve).text
    # Eve undoing Ada's feedback finds nothing to undo.
    undo = client.delete(f"/api/v1/papers/{TARGET}/feedback?signal=seen", headers=eve)
    assert undo.status_code == 404
    # The pages: Eve signs in and tries every form and page on Ada's collection.
    site.sign_in("eve@example.org")
    csrf = site.csrf()
    for target in (cid, nowhere):
        assert client.get(f"/collections/{target}").status_code == 404
        assert client.get(f"/collections/{target}/export?format=bibtex").status_code == 404
        assert client.get(f"/for-you?profile={target}").status_code == 404
        for action in (
            "rename", "delete", "profile", "unprofile", "reset", "share", "unshare", "feed",
            "unfeed", "remove", "note", "up", "down",
        ):  # fmt: skip
            answer = client.post(
                f"/collections/{target}/{action}",
                data={"csrf_token": csrf, "name": "mine", "key": TARGET, "note": "x"},
                follow_redirects=False,
            )
            assert answer.status_code == 404, (action, answer.text)
        imported = client.post(
            f"/collections/{target}/import/library",
            data={"csrf_token": csrf, "pasted": "0704.0001"},
        )
        assert imported.status_code == 404
        saved = client.post(
            "/papers/save", data={"csrf_token": csrf, "key": TARGET, "collection_id": target},
            follow_redirects=False,
        )  # fmt: skip
        assert saved.status_code == 404
    account = client.get("/account").text
    assert "Your feedback" in account and "None yet." in account
    ada_user = site.store.get_or_create_user("ada@example.org", site.clock.now)
    assert site.store.get_collection(ada_user.id, cid).name == "private"
    assert [i.paper.key for i in site.store.collection_items(cid)] == [TARGET]
    assert site.store.feedback_ids(ada_user.id)


POSTS = [
    "/papers/save", "/papers/feedback", "/collections", "/collections/seed",
    "/collections/{cid}/rename", "/collections/{cid}/delete", "/collections/{cid}/share",
    "/collections/{cid}/unshare", "/collections/{cid}/feed", "/collections/{cid}/unfeed",
    "/collections/{cid}/reset", "/collections/{cid}/profile", "/collections/{cid}/note",
    "/collections/{cid}/remove", "/collections/{cid}/up", "/collections/{cid}/import/library",
]  # fmt: skip


@pytest.mark.parametrize("site", ["sqlite"], indirect=True)
def test_every_form_needs_the_csrf_token(site):
    site.sign_in("ada@example.org")
    ada = site.store.get_or_create_user("ada@example.org", site.clock.now)
    cid = site.store.collections_of(ada.id, site.clock.now)[0].id
    for path in POSTS:
        url = path.format(cid=cid)
        fields = {"key": TARGET, "name": "x", "author": "x", "pasted": "0704.0001"}
        for token in (None, "forged"):
            data = fields | ({"csrf_token": token} if token else {})
            answer = site.client.post(url, data=data, follow_redirects=False)
            assert answer.status_code == 403, (url, token, answer.status_code)
    # A browser session's API writes need the header too.
    answer = site.client.put(f"/api/v1/collections/{cid}/papers/{TARGET}")
    assert answer.status_code == 403
    assert site.store.collection_items(cid) == []


def test_pages_save_dismiss_share_and_feed_without_javascript(site):
    site.sign_in("ada@example.org")
    client, csrf = site.client, site.csrf()
    transport = keys_with(site, "transport")
    for key in transport[:3]:
        saved = client.post(
            "/papers/save", data={"csrf_token": csrf, "key": key, "next": "/daily"},
            follow_redirects=False,
        )  # fmt: skip
        assert saved.status_code == 303 and saved.headers["location"] == "/daily?notice=saved"
    daily = client.get("/daily").text
    assert 'action="/papers/save"' in daily and 'action="/papers/feedback"' in daily
    page = client.get("/for-you").text
    assert "Reading list" in page and "Why: close to “" in page
    shown = re.findall(r'name="key" value="([^"]+)"', page)
    dismissed = next(k for k in shown if k not in transport[:3])
    client.post(
        "/papers/feedback",
        data={"csrf_token": csrf, "key": dismissed, "signal": "not_interested", "reason": "topic"},
    )
    assert f'value="{dismissed}"' not in client.get("/for-you").text
    account = client.get("/account").text
    assert "not interested" in account and "(this topic)" in account
    client.post(
        "/papers/feedback",
        data={"csrf_token": csrf, "key": dismissed, "signal": "not_interested", "undo": "true"},
    )
    assert "None yet." in client.get("/account").text

    ada = site.store.get_or_create_user("ada@example.org", site.clock.now)
    cid = site.store.collections_of(ada.id, site.clock.now)[0].id
    client.post(
        f"/collections/{cid}/note", data={"csrf_token": csrf, "key": transport[0], "note": "§2"}
    )
    client.post(f"/collections/{cid}/down", data={"csrf_token": csrf, "key": transport[0]})
    items = site.store.collection_items(cid)
    assert [i.paper.key for i in items] == [transport[1], transport[0], transport[2]]
    assert items[1].note == "§2"
    # Share: the link opens the list (without the notes); revoked, it is gone.
    shared = client.post(f"/collections/{cid}/share", data={"csrf_token": csrf}).text
    link = re.search(r"http://testserver(/shared/sh_[\w-]+)", shared).group(1)
    public = client.get(link)
    assert public.status_code == 200 and "§2" not in public.text
    assert site.store.collection_by_token_hash("share_hash", hash_token(link[8:])) is not None
    client.post(f"/collections/{cid}/unshare", data={"csrf_token": csrf})
    assert client.get(link).status_code == 404
    # The profile's private feed parses, and stops when revoked.
    made = client.post(f"/collections/{cid}/feed", data={"csrf_token": csrf}).text
    feed_path = re.search(r"http://testserver(/feeds/for-you/fd_[\w-]+\.atom)", made).group(1)
    parsed = feedparser.parse(client.get(feed_path).content)
    assert not parsed.bozo and len(parsed.entries) > 0
    assert all(e.link.split("/")[-1] not in transport[:3] for e in parsed.entries)
    client.post(f"/collections/{cid}/unfeed", data={"csrf_token": csrf})
    assert client.get(feed_path).status_code == 404
    # Seeded from an author; reset; deleted.
    site.store.upsert_papers(
        [
            Paper("Fast stochastic optimization", "SGD.", authors=[Author("Mark Schmidt")]),
            Paper("Line search for SGD", "Steps.", authors=[Author("Mark  Schmidt")]),
        ]
    )
    seeded = client.post(
        "/collections/seed", data={"csrf_token": csrf, "author": "Mark Schmidt"},
        follow_redirects=False,
    )  # fmt: skip
    assert seeded.status_code == 303, seeded.text
    pid = int(re.search(r"profile=(\d+)", seeded.headers["location"]).group(1))
    profile = site.store.get_collection(ada.id, pid)
    assert profile.is_profile and profile.size >= 1 and profile.seed == "author:Mark Schmidt"
    assert (
        'aria-current="page">Papers by Mark Schmidt' in client.get(seeded.headers["location"]).text
    )
    client.post(f"/collections/{pid}/reset", data={"csrf_token": csrf})
    assert site.store.get_collection(ada.id, pid).size == 0
    client.post(f"/collections/{pid}/delete", data={"csrf_token": csrf, "confirmed": "1"})
    assert site.store.get_collection(ada.id, pid) is None


def test_library_import_links_imports_and_reports(site, fixtures):
    site.sign_in("ada@example.org")
    client, csrf = site.client, site.csrf()
    ada = site.store.get_or_create_user("ada@example.org", site.clock.now)
    cid = site.store.collections_of(ada.id, site.clock.now)[0].id
    before = site.store.count_papers()
    bib = (fixtures / "sample.bib").read_bytes()
    page = client.post(
        f"/collections/{cid}/import/library", data={"csrf_token": csrf},
        files={"library": ("library.bib", bib, "application/x-bibtex")},
    )  # fmt: skip
    assert page.status_code == 200, page.text
    assert re.search(r"1 found here and linked, 2 imported as new records", page.text), page.text
    keys = [i.paper.key for i in site.store.collection_items(cid)]
    assert TARGET in keys and "1706.03762" in keys and "0704.0001" in keys
    assert site.store.count_papers() == before + 2
    assert site.store.get_collection(ada.id, cid).seed == "import:library.bib"
    # A pasted list: known ids linked, an unknown one fetched from arXiv (recorded reply).
    listed = client.post(
        f"/collections/{cid}/import/library",
        data={
            "csrf_token": csrf,
            "pasted": "# mine\nhttps://arxiv.org/abs/1706.03762v5\n2106.09685\n",
        },
    ).text
    assert "1 found here and linked, 1 imported as new records" in listed
    assert "2106.09685" in [i.paper.key for i in site.store.collection_items(cid)]
    # Export in every format, in the collection's order.
    for fmt, check in (
        ("bibtex", lambda text: text.count("@") == 4),
        ("csl-json", lambda text: len(json.loads(text)) == 4),
        ("jsonl", lambda text: len(text.splitlines()) == 4),
    ):
        answer = client.get(f"/collections/{cid}/export", params={"format": fmt})
        assert answer.status_code == 200 and check(answer.text), fmt
        assert "attachment" in answer.headers["content-disposition"]
    assert client.get(f"/collections/{cid}/export", params={"format": "doc"}).status_code == 400


def test_hostile_and_huge_libraries_are_refused_and_nothing_changes(site):
    site.sign_in("ada@example.org")
    client, csrf = site.client, site.csrf()
    ada = site.store.get_or_create_user("ada@example.org", site.clock.now)
    cid = site.store.collections_of(ada.id, site.clock.now)[0].id
    before = site.store.count_papers()
    url = f"/collections/{cid}/import/library"
    huge = b"@misc{a, title={" + b"x" * (5 * 1024 * 1024) + b"}}"
    cases = [
        (("big.bib", huge), 413, "larger than 5 MB"),
        (("x.bin", b"\x00\x01\x02" * 100), 400, "x.bin"),
        (("empty.bib", b"   "), 400, "empty"),
        (("deep.json", b"[" * 100000), 400, "deep.json"),
    ]
    for (name, body), status, words in cases:
        answer = client.post(url, data={"csrf_token": csrf}, files={"library": (name, body)})
        assert answer.status_code == status, (name, answer.status_code, answer.text[:300])
        assert words in answer.text, name
    many = "\n".join(f"2101.{n:05d}" for n in range(5001))
    answer = client.post(url, data={"csrf_token": csrf, "pasted": many})
    assert answer.status_code == 413 and "5000" in answer.text
    assert site.store.count_papers() == before
    assert site.store.collection_items(cid) == []


@pytest.mark.parametrize("site", ["sqlite"], indirect=True)
def test_cli_prints_a_working_personal_token(site):
    url = site.services.settings.database_url
    result = CliRunner().invoke(cli, ["--db", url, "users", "token", "Op@Example.org"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("pw_") and len(token) > 40
    me = site.client.get("/api/v1/collections", headers=bearer(token))
    assert me.status_code == 200 and me.json()["data"][0]["name"] == "Reading list"
    bad = CliRunner().invoke(cli, ["--db", url, "users", "token", "not-an-address"])
    assert bad.exit_code != 0


def listed(page: str) -> list[str]:
    """The keys of the papers a page lists, in order (each card links its comments)."""
    return re.findall(r'href="/papers/([^"#]+)#comments"', page)


def test_upvotes_are_positives_and_for_you_stays_the_same_all_day(site):
    """Upvoting is saving for the Reading list's recommendations. /for-you shows one list
    a day (issue 27: it changed on every reload, counting papers seen just by showing
    them): a reload shows the same papers in the same order; a paper opened from it is
    marked seen, stays on today's list marked so, and is not recommended the next day
    (whatever version or source of it arrives later) unless the reader asks for the papers
    seen; another reader's profile stays 404."""
    client = site.client
    voter = bearer(token_for(site, "voter@example.org"))
    assert client.get("/api/v1/recommendations", headers=voter).json()["data"] == []
    transport = keys_with(site, "transport")
    for key in transport[:3]:
        voted = client.put(f"/api/v1/papers/{key}/vote", json={"vote": True}, headers=voter)
        assert voted.status_code == 200 and voted.json()["voted"], voted.text
    answer = client.get("/api/v1/recommendations", params={"limit": 5}, headers=voter).json()
    got = [r["key"] for r in answer["data"]]
    assert answer["method"] == "model" and got and not set(got) & set(transport[:3])
    assert set(got) & set(transport[3:]), got  # the rest of the topic comes first
    # The API marks nothing seen: asking again gives the same.
    again = client.get("/api/v1/recommendations", params={"limit": 5}, headers=voter).json()
    assert [r["key"] for r in again["data"]] == got

    site.sign_in("voter@example.org")
    first = client.get("/for-you")
    assert first.status_code == 200 and "Why: close to" in first.text
    shown = listed(first.text)
    assert shown and not set(shown) & set(transport[:3])
    assert listed(client.get("/for-you").text) == shown  # a reload: the same list
    assert "Seen: you opened it" not in first.text
    # Opening a paper from the list: its page, and it is marked seen (still listed today).
    opened = client.get("/for-you/open", params={"key": shown[0]}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/papers/{shown[0]}"
    today = client.get("/for-you").text
    assert listed(today) == shown and today.count("Seen: you opened it") == 1
    # The account lists what the reader opened (undoable), not every paper shown.
    account = client.get("/account").text
    assert "show them" in account and f'href="/papers/{shown[0]}"' in account
    assert not any(f'href="/papers/{k}"' in account for k in shown[1:])
    # A paper not on the reader's list is not marked by the link (made elsewhere).
    stranger = next(k for k in keys_with(site, "") if k not in shown and k not in transport)
    client.get("/for-you/open", params={"key": stranger}, follow_redirects=False)
    assert f'href="/papers/{stranger}"' not in client.get("/account").text
    # The same paper from another source, now with an arXiv id: one paper, still seen.
    seen_paper = site.store.get_paper(shown[0])
    before = site.store.paper_ids([seen_paper.key])[seen_paper.key]
    site.store.upsert_papers(
        [Paper(seen_paper.title, seen_paper.abstract, arxiv_id="2411.99999",
               sources=["bibtex"])]
    )  # fmt: skip
    assert site.store.find_paper_id("2411.99999") == before
    # The next day: the opened paper has made way; the others are still recommended.
    site.clock.now += timedelta(days=1)
    merged = site.store.get_paper("2411.99999").key  # its key now names the arXiv id
    tomorrow = listed(client.get("/for-you").text)
    assert merged not in tomorrow and seen_paper.key not in tomorrow
    assert set(shown[1:]) <= set(tomorrow)
    everything = client.get("/for-you", params={"seen": "true"}).text
    assert "Back to today’s list" in everything and merged in listed(everything)
    # Another reader's profile: 404 on the page and the API, as no profile at all.
    other = bearer(token_for(site, "other@example.org"))
    theirs = client.get("/api/v1/collections", headers=other).json()["data"][0]["id"]
    assert client.get("/for-you", params={"profile": theirs}).status_code == 404
    assert client.get("/for-you", params={"profile": theirs, "seen": "true"}).status_code == 404
    assert (
        client.get(
            "/api/v1/recommendations", params={"collection": theirs}, headers=voter
        ).status_code
        == 404
    )
