"""Comments through the site and the API, on both engines: threads without JavaScript,
editing and deleting one's own, curators hiding and restoring, reports and their queue,
CSRF on every form, another reader's comment out of reach of every route, the abuse
limits, counts and "most discussed", the Atom feed, and reply/mention mail batched
through the outbox to a real SMTP server, once."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from html.parser import HTMLParser

import feedparser
import pytest
from fastapi.testclient import TestClient

from paperwire.digest.mailer import SMTPMailer
from smtp_support import assert_plain_list_unsubscribe
from support import ENGINES, engine_url, make_site


def first_key(site) -> str:
    today = site.clock.now.date()
    return site.store.feed(today, today, "upvotes", 1)[0][0].paper.key


def reader(site, name: str, aged: bool = True):
    """Sign in as NAME@example.org; `aged`: an account older than a day."""
    address = f"{name}@example.org"
    sessions = site.__dict__.setdefault("sessions", {})
    jar = site.client.cookies.jar
    if address in sessions:  # switch back (sign-ins are rate limited per client)
        for cookie in [c for c in jar if c.name == "pw_session"]:
            jar.clear(cookie.domain, cookie.path, cookie.name)
        jar.set_cookie(sessions[address])
    else:
        site.sign_in(address)
        sessions[address] = next(c for c in jar if c.name == "pw_session")
    user = site.store.get_or_create_user(address, site.clock.now)
    if aged:
        with site.store.write() as conn:
            conn.execute(
                "UPDATE users SET created_at = '2026-01-01T00:00:00Z' WHERE id = ?", (user.id,)
            )
    return user


def post(site, key, body, parent=None, csrf=True):
    data = {"body": body}
    if parent:
        data["parent"] = str(parent)
    if csrf:
        data["csrf_token"] = site.csrf()
    return site.client.post(f"/papers/{key}/comments", data=data, follow_redirects=False)


def comment_id(response) -> int:
    assert response.status_code == 303, response.text[:500]
    return int(re.search(r"#comment-(\d+)$", response.headers["location"]).group(1))


class Articles(HTMLParser):
    """The comment articles of a page: id -> the classes and the text inside."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[int, str] = {}
        self.stack: list[int | None] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "article" and (names.get("id") or "").startswith("comment-"):
            number = int(names["id"].removeprefix("comment-"))
            self.found[number] = names.get("class") or ""
            self.stack.append(number)
        elif tag == "article":
            self.stack.append(None)

    def handle_endtag(self, tag):
        if tag == "article" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for number in self.stack:
            if number is not None:
                self.found[number] += " " + data


def articles(html: str) -> dict[int, str]:
    parser = Articles()
    parser.feed(html)
    return parser.found


def test_threads_reply_edit_delete_without_javascript(site):
    key = first_key(site)
    alice = reader(site, "alice")
    top = comment_id(post(site, key, "Nice result: $\\sum_i x_i^2$ holds.\n\n- one\n- two"))
    bob = reader(site, "bob")
    reply = comment_id(post(site, key, f"@{alice.handle} why *that*? cc @nobody-here", parent=top))
    carol = reader(site, "carol")
    deeper = comment_id(post(site, key, "Because of the lemma.", parent=reply))

    page = site.client.get(f"/papers/{key}")
    assert page.status_code == 200
    found = articles(page.text)
    assert set(found) == {top, reply, deeper}
    assert "reply" in found[reply] and "reply" in found[deeper]  # one level shown
    assert f"in reply to {bob.handle}" in " ".join(found[deeper].split())
    assert "<msub>" in page.text or "<msubsup>" in page.text  # math as MathML
    assert f'href="/users/{alice.handle}"' in page.text
    assert "/users/nobody-here" not in page.text  # only readers that exist are linked
    # The HTML kept beside the Markdown is what the page shows; stale HTML (an older
    # renderer) is rendered again from the Markdown.
    stored = site.store.get_comment(top)
    assert stored.html and stored.html in page.text
    with site.store.write() as conn:
        conn.execute("UPDATE comments SET rendered_with = 0, html = '<p>stale</p>'")
    again = site.client.get(f"/papers/{key}").text
    assert "stale" not in again and stored.html in again
    assert "Discussion (3)" in page.text
    assert carol.handle in found[deeper]

    # Carol edits hers: the text changes, "edited" is shown, the old text is kept.
    response = site.client.get(f"/comments/{deeper}/edit")
    assert response.status_code == 200 and "Because of the lemma." in response.text
    response = site.client.post(
        f"/comments/{deeper}/edit",
        data={"body": "Because of Lemma 2.", "csrf_token": site.csrf()},
        follow_redirects=False,
    )
    assert response.status_code == 303
    found = articles(site.client.get(f"/papers/{key}").text)
    assert "Because of Lemma 2." in found[deeper] and "edited" in found[deeper]
    assert [b for b, _ in site.store.comment_revisions(deeper)] == ["Because of the lemma."]

    # Bob deletes his: the thread keeps a placeholder, the reply under it stays.
    reader(site, "bob")
    response = site.client.post(
        f"/comments/{reply}/delete",
        data={"csrf_token": site.csrf(), "confirmed": "1"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    found = articles(site.client.get(f"/papers/{key}").text)
    assert "deleted by its author" in found[reply] and "why" not in found[reply]
    assert "Lemma 2" in found[deeper]


def test_every_comment_form_needs_its_csrf_token(site):
    key = first_key(site)
    reader(site, "alice")
    mine = comment_id(post(site, key, "mine"))
    forms = [
        (f"/papers/{key}/comments", {"body": "x"}),
        (f"/comments/{mine}/edit", {"body": "changed"}),
        (f"/comments/{mine}/delete", {}),
        (f"/comments/{mine}/report", {"reason": "x"}),
        (f"/comments/{mine}/hide", {"hidden": "1"}),
        ("/account/comment-mail", {"enabled": "0"}),
    ]
    for path, data in forms:
        for token in (None, "forged"):
            sent = dict(data) | ({"csrf_token": token} if token else {})
            response = site.client.post(path, data=sent, follow_redirects=False)
            assert response.status_code == 403, (path, token, response.status_code)
    comments = site.store.paper_comments(key)
    assert [(c.body, c.status) for c in comments] == [("mine", "visible")]
    assert site.store.reported_comments() == []
    assert site.store.comment_mail_enabled(
        site.store.get_or_create_user("alice@example.org", site.clock.now).id
    )


def test_another_readers_comment_is_out_of_reach_of_every_route(site):
    key = first_key(site)
    reader(site, "alice")
    theirs = comment_id(post(site, key, "alice's words"))
    bob = reader(site, "bob")
    csrf = site.csrf()
    assert site.client.get(f"/comments/{theirs}/edit").status_code == 404
    for path, data in (
        (f"/comments/{theirs}/edit", {"body": "bob's words"}),
        (f"/comments/{theirs}/delete", {}),
        (f"/comments/{theirs}/hide", {"hidden": "1"}),  # not a curator
    ):
        response = site.client.post(path, data=data | {"csrf_token": csrf}, follow_redirects=False)
        assert response.status_code in (403, 404), (path, response.status_code)
    api = site.services.deployment.new_api_token(bob.email, "test")
    headers = {"Authorization": f"Bearer {api}"}
    assert (
        site.client.patch(
            f"/api/v1/comments/{theirs}", json={"body": "x"}, headers=headers
        ).status_code
        == 404
    )
    assert site.client.delete(f"/api/v1/comments/{theirs}", headers=headers).status_code == 404
    # ... and the browser session without its CSRF header is refused too.
    assert site.client.delete(f"/api/v1/comments/{theirs}").status_code == 403
    [comment] = site.store.paper_comments(key)
    assert (comment.body, comment.status, comment.edited_at) == ("alice's words", "visible", None)


def test_limits_size_repeats_young_accounts_and_rate(site):
    key = first_key(site)
    reader(site, "young", aged=False)
    response = post(site, key, "see https://spam.example/buy")
    assert response.status_code == 400 and "younger than a day" in response.text
    assert "see https://spam.example/buy" in response.text  # the draft is kept
    for n in range(3):
        assert post(site, key, f"young comment {n}").status_code == 303
    response = post(site, key, "a fourth")
    assert response.status_code == 429 and "at most 3 comments" in response.text

    reader(site, "old")
    response = post(site, key, "x" * 10_001)
    assert response.status_code == 400 and "over the limit of 10,000" in response.text
    assert post(site, key, "same words").status_code == 303
    response = post(site, key, "same words")
    assert response.status_code == 400 and "same text as your previous comment" in response.text
    assert post(site, key, "   ").status_code in (400, 422)
    codes = [post(site, key, f"comment {n}").status_code for n in range(12)]
    assert codes.count(429) >= 3 and codes[:8] == [303] * 8  # 10 per 10 minutes per reader
    response = post(site, key, "comment again")
    assert "too many comments" in response.text
    site.clock.now += timedelta(minutes=11)
    assert post(site, key, "after the window").status_code == 303
    # Malformed input: a clear error naming the place, never a 500.
    for parent in ("999999", "-1", "abc"):
        response = site.client.post(
            f"/papers/{key}/comments",
            data={"body": f"parent {parent}", "parent": parent, "csrf_token": site.csrf()},
        )
        assert response.status_code in (400, 422), parent
    assert post(site, "no-such-paper-anywhere", "x").status_code == 404
    assert site.client.get("/comments/99999999999999999999999/edit").status_code in (404, 422)


def test_curators_hide_restore_and_see_the_reports(site):
    key = first_key(site)
    reader(site, "alice")
    target = comment_id(post(site, key, "rude words"))
    for name in ("bob", "carol"):
        reader(site, name)
        response = site.client.post(
            f"/comments/{target}/report",
            data={"reason": f"{name} says rude", "csrf_token": site.csrf()},
            follow_redirects=False,
        )
        assert response.status_code == 303
    assert site.client.get("/curate/reports").status_code == 403  # carol is no curator
    dana = reader(site, "dana")
    site.store.set_curator(dana.email, True)
    queue = site.client.get("/curate/reports")
    assert queue.status_code == 200
    assert (
        "rude words" in queue.text
        and "bob says rude" in queue.text
        and "carol says rude" in queue.text
    )
    # Issue 27: the reasons are shown as reasons, under their own label, not as comment.
    body = re.search(r'<div class="comment-body reported"[^>]*>(.*?)</div>', queue.text, re.S)
    reasons = re.search(r'<section class="report-reasons".*?</section>', queue.text, re.S)
    assert "rude words" in body.group(1) and "says rude" not in body.group(1)
    assert "Reasons given by the reporting readers" in reasons.group(0)
    assert "<q>bob says rude</q>" in reasons.group(0) and "rude words" not in reasons.group(0)
    response = site.client.post(
        f"/comments/{target}/hide", data={"hidden": "1", "csrf_token": site.csrf()},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert "rude words" in articles(site.client.get(f"/papers/{key}").text)[target]  # curator
    assert "No open reports" in site.client.get("/curate/reports").text
    reader(site, "bob")
    shown = articles(site.client.get(f"/papers/{key}").text)[target]
    assert "hidden by a curator" in shown and "rude words" not in shown
    api = site.client.get(f"/api/v1/papers/{key}/comments").json()["data"][0]
    assert api["status"] == "hidden" and api["body"] is None and api["html"] is None
    reader(site, "dana")
    site.client.post(f"/comments/{target}/hide", data={"hidden": "0", "csrf_token": site.csrf()})
    reader(site, "bob")
    assert "rude words" in articles(site.client.get(f"/papers/{key}").text)[target]


def _post_at_once(site, key: str, token: str, bodies: list[str]) -> list[int]:
    """POST the comments at once, each request on its own client (released together)."""
    start = threading.Barrier(len(bodies))

    def send(body: str) -> int:
        client = TestClient(site.client.app)  # its own connection; no lifespan
        start.wait()
        return client.post(
            f"/api/v1/papers/{key}/comments",
            json={"body": body},
            headers={"Authorization": f"Bearer {token}"},
        ).status_code

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def test_a_comment_posted_twice_at_once_is_one_comment(site):
    # A Post clicked twice: both requests passed "not the same text as the last one"
    # before either was written, and the paper got the comment twice.
    key = first_key(site)
    bob = reader(site, "bob")
    token = site.services.deployment.new_api_token(bob.email, "test")
    codes = _post_at_once(site, key, token, ["Great paper, see section 3."] * 6)
    assert sorted(codes) == [201] + [400] * 5
    assert [c.body for c in site.store.user_comments(bob.id)] == ["Great paper, see section 3."]


def test_a_young_accounts_comments_posted_at_once_stop_at_its_cap(site):
    key = first_key(site)
    fresh = reader(site, "fresh", aged=False)
    token = site.services.deployment.new_api_token(fresh.email, "test")
    codes = _post_at_once(site, key, token, [f"first thoughts {n}" for n in range(8)])
    assert sorted(codes) == [201] * 3 + [429] * 5
    assert len(site.store.user_comments(fresh.id)) == 3


def test_the_api_reads_writes_edits_and_deletes(site):
    key = first_key(site)
    alice = reader(site, "alice")
    token = site.services.deployment.new_api_token(alice.email, "test")
    auth = {"Authorization": f"Bearer {token}"}
    made = site.client.post(
        f"/api/v1/papers/{key}/comments", json={"body": "via *API* $a$"}, headers=auth
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (
        body["author"] == alice.handle
        and "<em>API</em>" in body["html"]
        and "<math" in body["html"]
    )
    reply = site.client.post(
        f"/api/v1/papers/{key}/comments", json={"body": "self reply", "parent_id": body["id"]},
        headers=auth,
    )  # fmt: skip
    assert reply.status_code == 201 and reply.json()["thread_id"] == body["id"]
    bad = site.client.post(
        f"/api/v1/papers/{key}/comments", json={"body": "x", "parent_id": 987654}, headers=auth
    )
    assert bad.status_code == 400 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert "parent" in bad.json()["detail"]
    # The browser session without its X-CSRF-Token is refused; with it, it writes.
    assert site.client.post(f"/api/v1/papers/{key}/comments", json={"body": "x"}).status_code == 403
    with_csrf = site.client.post(
        f"/api/v1/papers/{key}/comments", json={"body": "from the page"},
        headers={"X-CSRF-Token": site.csrf()},
    )  # fmt: skip
    assert with_csrf.status_code == 201
    # Listed a page at a time: following `next` gives each comment once, in order.
    seen, cursor = [], None
    while True:
        page = site.client.get(
            f"/api/v1/papers/{key}/comments", params={"limit": 2, "cursor": cursor} if cursor
            else {"limit": 2},
        ).json()  # fmt: skip
        seen += [c["id"] for c in page["data"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 3
    assert (
        site.client.get(
            f"/api/v1/papers/{key}/comments", params={"cursor": "bm90LW9uZQ"}
        ).status_code
        == 400
    )
    assert (
        site.client.post(
            "/api/v1/papers/nope-nope/comments", json={"body": "x"}, headers=auth
        ).status_code
        == 404
    )
    patched = site.client.patch(
        f"/api/v1/comments/{body['id']}", json={"body": "edited via API"}, headers=auth
    )
    assert patched.status_code == 200 and patched.json()["edited_at"] is not None
    assert site.client.delete(f"/api/v1/comments/{body['id']}", headers=auth).status_code == 204
    site.client.cookies.clear()
    assert site.client.post(f"/api/v1/papers/{key}/comments", json={"body": "x"}).status_code == 401
    listed = site.client.get(f"/api/v1/papers/{key}/comments").json()["data"]
    assert [(c["status"], c["body"]) for c in listed] == [
        ("deleted", None), ("visible", "self reply"), ("visible", "from the page"),
    ]  # fmt: skip
    paper = site.client.get(f"/api/v1/papers/{key}").json()
    assert paper["comments"] == 2
    spec = site.client.get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(spec["/api/v1/papers/{key}/comments"])
    assert {"patch", "delete"} <= set(spec["/api/v1/comments/{comment_id}"])


def test_counts_most_discussed_and_the_atom_feed(site):
    today = site.clock.now.date()
    entries, _ = site.store.feed(today, today, "upvotes", 3)
    quiet, busy = entries[0].paper.key, entries[2].paper.key
    reader(site, "alice")
    for text in ("first", "second"):
        post(site, busy, text)
    reader(site, "bob")
    post(site, busy, "third & <last>")
    daily = site.client.get(f"/daily/{today.isoformat()}?sort=discussed")
    assert daily.status_code == 200 and "most discussed" in daily.text
    assert daily.text.index(busy) < daily.text.index(quiet)
    assert "3 comments" in daily.text and "0 comments" in daily.text
    trending = site.client.get("/trending?sort=discussed")
    assert trending.status_code == 200 and trending.text.index(busy) < trending.text.index(quiet)
    feed = site.client.get(f"/feeds/papers/{busy}/comments.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith(
        "application/atom+xml"
    )
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo
    assert [e.title for e in parsed.entries] == ["third & <last>", "second", "first"]
    assert "&lt;last&gt;" in parsed.entries[0].content[0].value
    assert site.client.get("/feeds/papers/no-such-paper/comments.atom").status_code == 404


@pytest.fixture(params=ENGINES)
def mail_site(request, tmp_path, smtp):
    site = make_site(
        tmp_path,
        database_url=engine_url(request, tmp_path, sample=True),
        sample_loaded=True,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        mail_from="paperwire <notices@papers.example.org>",
    )
    site.services.mailer = SMTPMailer(site.services.settings)
    site.inbox = smtp.inbox
    with site.client:
        yield site


def test_replies_and_mentions_are_mailed_in_one_batch_once(mail_site, smtp):
    site = mail_site
    deployment = site.services.deployment
    key = first_key(site)
    alice = reader(site, "alice")
    top = comment_id(post(site, key, "My question."))
    reader(site, "bob")
    post(site, key, "An answer.", parent=top)
    reader(site, "carol")
    post(site, key, f"I agree with @{alice.handle} here.")
    signins = len(smtp.inbox.to(alice.email))

    run = deployment.queue_comment_mail()
    assert (run.queued, run.notices) == (1, 2)
    sent = deployment.deliver_outbox()
    assert sent.sent == 1
    # Composing and sending again (the digest run does both) sends nothing more.
    deployment.run_digests()
    assert deployment.queue_comment_mail().queued == 0
    assert deployment.deliver_outbox().sent == 0
    [message] = smtp.inbox.to(alice.email)[signins:]
    text = message.get_body(("plain",)).get_content()
    assert "bob" not in text or "replied to you" in text
    assert "replied to you" in text and "mentioned you" in text and "An answer." in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    stop = re.search(r"<(https?://[^>]+)>", message["List-Unsubscribe"]).group(1)
    assert stop in text
    assert_plain_list_unsubscribe(smtp.inbox.raw_to(alice.email)[-1], [stop])

    # A new reply within the hour waits; after it, it goes in a second batch.
    reader(site, "bob")
    post(site, key, "One more thing.", parent=top)
    assert deployment.queue_comment_mail().queued == 0
    site.clock.now += timedelta(minutes=61)
    assert deployment.queue_comment_mail().queued == 1
    deployment.deliver_outbox()
    assert len(smtp.inbox.to(alice.email)[signins:]) == 2

    # One click (RFC 8058: a POST to the link, no session, no CSRF token) stops it.
    path = stop.removeprefix("http://testserver")
    site.client.cookies.clear()
    page = site.client.get(path)
    assert page.status_code == 200
    assert site.client.post(path).status_code == 200
    assert not site.store.comment_mail_enabled(alice.id)
    assert site.client.post(path[:-20] + "0" * 20).status_code == 404  # forged
    reader(site, "bob")
    post(site, key, "Are you there?", parent=top)
    site.clock.now += timedelta(hours=2)
    assert deployment.queue_comment_mail().queued == 0
    # The account page turns it on again.
    reader(site, "alice")
    assert "Mail them to me" in site.client.get("/account").text
    site.client.post("/account/comment-mail", data={"enabled": "1", "csrf_token": site.csrf()})
    assert site.store.comment_mail_enabled(alice.id)


@pytest.mark.parametrize("site", ["sqlite"], indirect=True)
def test_generated_comment_forms_never_fail_the_server(site):
    """Hypothesis-built bodies, parents and keys through the form: a page or a clear
    error, never a 5xx; whatever is stored renders inside the allow-list."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from test_comments_markup import check

    key = first_key(site)
    reader(site, "fuzzer")
    csrf = site.csrf()

    @settings(
        max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(
        body=st.text(max_size=400)
        | st.sampled_from(["<script>x</script>", "$\\href{javascript:x}{y}$"]),
        parent=st.none() | st.sampled_from(["0", "1", "-5", "x", "99999999999999999999999", "1e3"]),
    )
    def exercise(body, parent):
        data = {"body": body, "csrf_token": csrf} | (
            {"parent": parent} if parent is not None else {}
        )
        response = site.client.post(f"/papers/{key}/comments", data=data, follow_redirects=False)
        assert response.status_code in (303, 400, 404, 422, 429), response.status_code
        site.clock.now += timedelta(minutes=2)  # keep clear of the rate limit now and then

    exercise()
    for comment in site.store.paper_comments(key):
        check(comment.html)
    page = site.client.get(f"/papers/{key}")
    assert page.status_code == 200


def test_a_reader_downloads_their_own_data_and_no_one_elses(site):
    """/account/export.json: everything stored about the signed-in reader (votes, the
    reading list with notes, feedback, comments), nothing of another reader, no secret."""
    key = first_key(site)
    ada = reader(site, "ada")
    site.client.post(f"/papers/{key}/vote", data={"csrf_token": site.csrf()})
    site.client.post("/papers/save", data={"csrf_token": site.csrf(), "key": key})
    site.client.post(
        "/papers/feedback", data={"csrf_token": site.csrf(), "key": key, "signal": "seen"}
    )
    comment_id(post(site, key, "ada's *own* words"))
    site.client.post("/account/tokens", data={"name": "script", "csrf_token": site.csrf()})
    response = site.client.get("/account/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    mine = response.json()
    assert mine["account"] == {"email": "ada@example.org", "handle": ada.handle}
    assert [p["key"] for p in mine["upvoted"]] == [key]
    assert [p["key"] for c in mine["collections"] for p in c["papers"]] == [key]
    assert [(f["key"], f["signal"]) for f in mine["feedback"]] == [(key, "seen")]
    assert [c["markdown"] for c in mine["comments"]] == ["ada's *own* words"]
    assert [t["name"] for t in mine["api_tokens"]] == ["script"]
    assert "pw_" not in response.text and "token_hash" not in response.text
    reader(site, "eve")
    theirs = site.client.get("/account/export.json").json()
    assert theirs["account"]["email"] == "eve@example.org"
    assert not (theirs["upvoted"] or theirs["comments"] or theirs["feedback"])
    assert "ada" not in site.client.get("/account/export.json").text
    site.client.cookies.clear()
    assert site.client.get("/account/export.json").status_code == 401


def test_a_mention_added_by_editing_is_told_once(site):
    """Issue 27: editing a comment to mention a reader tells them as a new comment's
    mention would; saving the edit again (or another edit keeping the mention) does not
    tell them twice."""
    key = first_key(site)
    dora = reader(site, "dora")
    reader(site, "eli")
    mine = comment_id(post(site, key, "A first thought."))
    assert site.store.pending_notices(dora.id) == []
    for body in (f"A first thought, cc @{dora.handle}.", f"Still, @{dora.handle}: see."):
        edited = site.client.post(
            f"/comments/{mine}/edit",
            data={"body": body, "csrf_token": site.csrf()},
            follow_redirects=False,
        )
        assert edited.status_code == 303, edited.text
        assert [(n.kind, n.comment.id) for n in site.store.pending_notices(dora.id)] == [
            ("mention", mine)
        ]
