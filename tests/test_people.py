"""Topic, author and organization pages, follows and authorship claims (issue 29), on
SQLite and PostgreSQL alike (the `site` fixture runs each test on both)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

from paperwire.ingest.hf_daily import parse
from paperwire.ingest.load import load
from paperwire.models import Author, Paper
from paperwire.people.names import key_of_slug, name_key, several_people
from test_comments_web import reader

RICH = Path(__file__).parent / "data" / "hf_daily_papers_rich.json"
KEY = "2602.23229"
ATOM = "{http://www.w3.org/2005/Atom}"


def _rich(site) -> None:
    load(site.store, [p for p in parse(RICH.read_bytes()) if isinstance(p, Paper)])
    site.store.submit_many([KEY], site.clock.now.date(), site.clock.now)


def _also(site, *papers: Paper) -> None:
    load(site.store, list(papers))
    site.store.submit_many([p.key for p in papers], site.clock.now.date(), site.clock.now)


def _entry_ids(feed: bytes) -> list[str]:
    return [e.findtext(f"{ATOM}id", "") for e in ET.fromstring(feed).iter(f"{ATOM}entry")]


def test_names_fold_accents_case_and_initials():
    assert (
        name_key("Marco Garosi") == name_key("M. Garosi") == name_key("MÁRCO garosi") == "m garosi"
    )
    assert name_key("José García") == name_key("J García") == "j garcia"
    assert key_of_slug("jose-garcia") == "j garcia"
    assert several_people(["Maria Garcia", "Mario Garcia"])
    assert not several_people(["Maria Garcia", "M. Garcia", "María García"])


def test_an_author_page_gathers_the_name_newest_first_with_coauthors_and_organizations(site):
    _rich(site)
    older = Paper(
        title="An earlier paper by M. Garosi",
        abstract="In-context classification, revisited.",
        arxiv_id="2401.00007",
        authors=[Author("M. Garosi"), Author("Ada Lovelace")],
        published=date(2024, 1, 3),
    )
    _also(site, older)
    page = site.client.get("/authors/marco-garosi")
    assert page.status_code == 200
    text = page.text
    assert text.index("Large Multimodal Models as General") < text.index("An earlier paper")
    assert 'href="/authors/elisa-ricci"' in text and 'href="/authors/ada-lovelace"' in text
    assert 'href="/organizations/MHUGLab"' in text
    assert "may be several people" not in text  # "M." is compatible with "Marco"
    # Accents in the address fold too; the paper page links its authors here.
    assert site.client.get("/authors/%C3%A9lisa-ricci").status_code == 200
    assert 'href="/authors/marco-garosi"' in site.client.get(f"/papers/{KEY}").text
    feed = site.client.get("/authors/marco-garosi.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert [i.rsplit("/", 1)[-1] for i in _entry_ids(feed.content)] == [KEY, "2401.00007"]
    assert site.client.get("/authors/nobody-atall").status_code == 404


def test_one_name_that_covers_several_people_is_said_not_merged_silently(site):
    _rich(site)
    _also(
        site,
        Paper(
            title="Soil microbes of alpine meadows",
            arxiv_id="2402.00008",
            authors=[Author("Maria Garosi")],
            published=date(2024, 2, 1),
        ),
    )
    text = site.client.get("/authors/marco-garosi").text
    assert "may be several people" in text
    assert "“Maria Garosi”" in text and "“Marco Garosi”" in text


def test_topic_and_organization_pages_with_their_feeds(site):
    _rich(site)
    page = site.client.get("/topics/in-context-learning")
    assert page.status_code == 200
    assert "Topic: in-context learning" in page.text
    assert page.text.count("Large Multimodal Models as General In-Context") >= 2  # today + newest
    assert _entry_ids(site.client.get("/topics/In-Context%20Learning.atom").content)[0].endswith(
        KEY
    )
    assert site.client.get("/topics/no-such-topic-here").status_code == 404
    org = site.client.get("/organizations/MHUGLab")
    assert org.status_code == 200 and "Multimedia and Human Understanding Group" in org.text
    assert _entry_ids(site.client.get("/organizations/MHUGLab.atom").content)[0].endswith(KEY)
    assert site.client.get("/organizations/Nobody").status_code == 404


def _follow(site, kind: str, target: str, on: str = "1") -> int:
    return site.client.post(
        "/follow",
        data={"kind": kind, "target": target, "on": on, "csrf_token": site.csrf()},
        follow_redirects=False,
    ).status_code


def test_a_reader_follows_authors_organizations_topics_privately(site):
    _rich(site)
    assert _follow(site, "author", "marco-garosi") == 401  # signed out
    alice = reader(site, "alice")
    for kind, target in (
        ("author", "marco-garosi"),
        ("organization", "MHUGLab"),
        ("topic", "in-context-learning"),
    ):
        assert _follow(site, kind, target) == 303
    assert {f.kind for f in site.store.follows(alice.id)} == {"author", "organization", "topic"}
    mine = site.client.get("/following").text
    assert "Large Multimodal Models as General In-Context" in mine
    for_you = site.client.get("/for-you").text
    assert "New from what you follow" in for_you and "Large Multimodal Models as" in for_you
    assert "Marco Garosi" in mine and "Multimedia and Human Understanding Group" in mine
    assert 'aria-pressed="true">Unfollow' in site.client.get("/topics/in-context-learning").text
    # Another reader sees none of it.
    reader(site, "bob")
    theirs = site.client.get("/following").text
    assert "Marco Garosi" not in theirs and "Large Multimodal Models" not in theirs
    assert "New from what you follow" not in site.client.get("/for-you").text
    assert 'aria-pressed="false">Follow' in site.client.get("/authors/marco-garosi").text
    # Unfollowing; following what does not exist is refused and stores nothing.
    reader(site, "alice")
    assert _follow(site, "topic", "in-context-learning", on="0") == 303
    assert {f.kind for f in site.store.follows(alice.id)} == {"author", "organization"}
    assert _follow(site, "organization", "NoSuchOrg") == 404
    assert _follow(site, "kind-unknown", "x") == 422
    assert len(site.store.follows(alice.id)) == 2


def _claim(site, name: str) -> int:
    return site.client.post(
        f"/papers/{KEY}/claim",
        data={"author": name, "csrf_token": site.csrf()},
        follow_redirects=False,
    ).status_code


def test_claim_confirm_describe_and_moderate_an_author_page(site):
    _rich(site)
    alice = reader(site, "alice")
    assert _claim(site, "Not An Author") == 400
    assert _claim(site, "Marco Garosi") == 303
    paper = site.client.get(f"/papers/{KEY}").text
    assert f"✓ {alice.handle}" not in paper  # pending: shown to nobody
    assert "Marco Garosi" in site.client.get("/following").text  # but listed for alice
    # Bob cannot see alice's claim, decide it, or describe the page.
    reader(site, "bob")
    assert "Marco Garosi" not in site.client.get("/following").text
    (pending,) = site.store.pending_claims()
    assert site.client.get("/claims").status_code == 403
    decided = site.client.post(
        f"/claims/{pending.id}", data={"confirm": "1", "csrf_token": site.csrf()},
        follow_redirects=False,
    )  # fmt: skip
    assert decided.status_code == 403
    # A curator confirms.
    carol = reader(site, "carol")
    site.store.set_curator(carol.email, True)
    queue = site.client.get("/claims").text
    assert f"/users/{alice.handle}" in queue and "Marco Garosi" in queue, queue[-1500:]
    decided = site.client.post(
        f"/claims/{pending.id}", data={"confirm": "1", "csrf_token": site.csrf()},
        follow_redirects=False,
    )  # fmt: skip
    assert decided.status_code == 303
    assert f"✓ {alice.handle}" in site.client.get(f"/papers/{KEY}").text
    # The confirmed author describes the page; nobody else may.
    reader(site, "alice")
    body = {"body": "I work on **multimodal** models.", "csrf_token": site.csrf()}
    response = site.client.post("/authors/marco-garosi/profile", data=body, follow_redirects=False)
    assert response.status_code == 303
    assert "<strong>multimodal</strong>" in site.client.get("/authors/marco-garosi").text
    reader(site, "bob")
    body["csrf_token"] = site.csrf()
    response = site.client.post("/authors/marco-garosi/profile", data=body, follow_redirects=False)
    assert response.status_code == 403
    # A curator hides it: readers no longer see it.
    reader(site, "carol")
    hidden = site.client.post(
        "/authors/marco-garosi/profile/hide", data={"hidden": "1", "csrf_token": site.csrf()},
        follow_redirects=False,
    )  # fmt: skip
    assert hidden.status_code == 303
    site.client.cookies.clear()
    assert "<strong>multimodal</strong>" not in site.client.get("/authors/marco-garosi").text
    assert alice.id != carol.id


def test_an_author_page_text_follows_the_comment_rules(site):
    _rich(site)
    young = reader(site, "young", aged=False)
    site.store.claim_authorship(young.id, KEY, "Elisa Ricci", site.clock.now)
    (claim,) = site.store.pending_claims()
    site.store.decide_claim(claim.id, young.id, True, site.clock.now)
    response = site.client.post(
        "/authors/elisa-ricci/profile",
        data={"body": "See [my site](https://spam.example)", "csrf_token": site.csrf()},
        follow_redirects=False,
    )
    assert response.status_code == 400  # accounts younger than a day post no links
    assert site.store.profile(key_of_slug("elisa-ricci")) is None


def test_new_papers_of_what_a_reader_follows_reach_their_digest(store):
    from datetime import UTC, datetime, timedelta

    from paperwire.digest.select import Selector
    from paperwire.models import Subscription

    load(store, [p for p in parse(RICH.read_bytes()) if isinstance(p, Paper)])
    now = datetime.now(UTC)
    alice = store.get_or_create_user("alice@example.org", now)
    bob = store.get_or_create_user("bob@example.org", now)
    store.follow(alice.id, "topic", "in-context-learning", "in-context learning", now)

    def subscriber(user_id: int) -> Subscription:
        return Subscription(
            id=user_id, email=f"{user_id}@example.org", frequency="daily", trending=False,
            searches=[], status="active", created_at=now, user_id=user_id,
        )  # fmt: skip

    selector = Selector(store, None, None, now + timedelta(minutes=1))
    start = now - timedelta(days=1)
    mine = selector.content(subscriber(alice.id), start)
    assert [i.entry.paper.key for i in mine.followed] == [KEY]
    assert mine.followed[0].reason == "you follow in-context learning"
    assert not mine.empty
    assert selector.content(subscriber(bob.id), start).followed == []  # bob follows nothing


def test_the_api_gives_topics_authors_and_organizations(site):
    _rich(site)
    topic = site.client.get("/api/v1/topics/in-context-learning").json()
    assert topic["name"] == "in-context learning" and topic["data"][0]["key"] == KEY
    author = site.client.get("/api/v1/authors/marco-garosi").json()
    assert author["names"] == ["Marco Garosi"] and not author["several_people"]
    assert author["organizations"] == ["Multimedia and Human Understanding Group"]
    assert {"name": "Elisa Ricci", "slug": "elisa-ricci", "papers": 1} in author["coauthors"]
    org = site.client.get("/api/v1/organizations/MHUGLab").json()
    assert org["data"][0]["upstream"]["organization"]["name"] == "MHUGLab"
    missing = site.client.get("/api/v1/authors/nobody-atall")
    assert missing.status_code == 404
