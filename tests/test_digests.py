"""Email digests against a real SMTP server (aiosmtpd): double opt-in, composition
(headers, both parts, links followed through the app), saved searches with a relevance
floor, exactly-once delivery through the outbox, SMTP faults (4xx, 5xx, a connection
dropped mid-message), a sender killed mid-batch, one-click unsubscribe, DKIM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dkim
import pytest

from paperwire.digest.mailer import SMTPMailer
from paperwire.digest.periods import period_key
from paperwire.digest.run import compose_due
from paperwire.digest.send import RETRY_DELAYS
from paperwire.models import Paper, SavedSearch, Subscription
from paperwire.search.embed import make_embedder
from paperwire.store import open_store
from smtp_support import assert_plain_list_unsubscribe
from support import ENGINES, engine_url, make_site


def soon() -> datetime:
    """A few minutes from now, read when a test starts: papers the test adds are stored
    at the wall-clock time and must be "new" to its digests (a time read once at import
    fell behind when the tests before these took more than five minutes)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)


@pytest.fixture(params=ENGINES)
def digest_site(request, tmp_path, smtp):
    site = make_site(
        tmp_path,
        database_url=engine_url(request, tmp_path, sample=True),
        sample_loaded=True,
        now=soon(),
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        mail_from="paperwire <digest@papers.example.org>",
        mail_unsubscribe_mailto="unsubscribe@papers.example.org",
    )
    site.services.mailer = SMTPMailer(site.services.settings)
    site.inbox = smtp.inbox
    # The sample corpus was imported long ago: only papers a test adds are "new".
    with site.store.write() as conn:
        conn.execute("UPDATE papers SET created_at = '2026-01-01T00:00:00Z'")
    with site.client:
        yield site


def active(site, email: str, trending=True, searches=(), frequency="daily") -> int:
    return site.store.add_subscription(
        Subscription(0, email, frequency, trending, list(searches), "active", site.clock.now,
                     site.clock.now),
        None,
        None,
    )  # fmt: skip


def sender_env(site, smtp, tmp_path) -> dict[str, str]:
    """The environment of a `paperwire digest send` child process for this site."""
    settings = site.services.settings
    return {
        **os.environ,
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_BASE_URL": settings.base_url,
        "PAPERWIRE_SMTP_HOST": "127.0.0.1",
        "PAPERWIRE_SMTP_PORT": str(smtp.port),
        "PAPERWIRE_SMTP_STARTTLS": "false",
        "PAPERWIRE_MAIL_FROM": settings.mail_from,
        "PAPERWIRE_EMBEDDING_MODEL": "minilm",
        "PAPERWIRE_CACHE_DIR": str(tmp_path / "cache"),
        "PAPERWIRE_OUTBOX_LEASE_SECONDS": "2",  # a killed sender's messages are free soon
    }


def run(site, embedder=None, frequency="daily"):
    """The deployment's digest run; saved searches match by meaning with `embedder`."""
    site.services.engine.embedder = embedder  # the site's engine has no model otherwise
    outcome = site.services.deployment.run_digests((frequency,))
    return outcome.composed[0], outcome.sent


def test_double_opt_in_digest_links_and_one_click_unsubscribe(digest_site, smtp):
    site, inbox = digest_site, smtp.inbox
    form = site.client.get("/subscribe", params={"email": "reader@example.org"})
    assert 'value="reader@example.org"' in form.text
    assert "Get trending papers in your email inbox!" in site.client.get("/").text
    sent = site.client.post(
        "/subscribe",
        data={"csrf_token": site.csrf(), "email": "reader@example.org", "frequency": "daily",
              "trending": "true", "query": ["", ""], "mode": ["hybrid", "hybrid"]},
    )  # fmt: skip
    assert sent.status_code == 200 and "Confirm your subscription" in sent.text
    confirmation = inbox.wait_for("reader@example.org", 1)
    assert confirmation["Subject"] == "Confirm your paperwire digest"

    # Nothing else is sent before the link is used.
    report, delivered = run(site)
    assert report.due == 0 and delivered.sent == 0 and len(inbox.to("reader@example.org")) == 1

    link = re.search(r"https?://\S+", confirmation.get_body(("plain",)).get_content()).group(0)
    token = link.split("token=")[1]
    page = site.client.get(urlsplit(link).path + "?" + urlsplit(link).query)
    assert "Confirm my subscription" in page.text
    done = site.client.post(
        "/subscriptions/confirm", data={"token": token, "csrf_token": site.csrf()}
    )
    assert done.status_code == 200 and "You are subscribed" in done.text
    again = site.client.post(
        "/subscriptions/confirm", data={"token": token, "csrf_token": site.csrf()}
    )
    assert again.status_code == 400  # single use

    report, delivered = run(site)
    assert (report.queued, delivered.sent) == (1, 1)
    digest = inbox.wait_for("reader@example.org", 2)
    assert digest["Subject"].startswith("paperwire daily digest: 10 papers")
    assert digest["From"] == "paperwire <digest@papers.example.org>"
    assert digest["Date"] and digest["Message-ID"].endswith("@papers.example.org>")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https_link, mailto = re.findall(r"<([^>]+)>", digest["List-Unsubscribe"])
    # The header as sent: plain ASCII, the links as written, folded only between them
    # (it was RFC 2047-encoded when long, hiding the one-click link; issue 25).
    assert_plain_list_unsubscribe(inbox.raw_to("reader@example.org")[-1], [https_link, mailto])
    assert https_link.startswith("http://testserver/subscriptions/") and mailto.startswith(
        "mailto:unsubscribe@papers.example.org"
    )
    assert digest.get_content_type() == "multipart/alternative"
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    assert "TRENDING ON PAPERWIRE" in text and "Trending on paperwire" in html
    paper_links = re.findall(r'href="(http://testserver/papers/[^"]+)"', html)
    assert len(paper_links) >= 10
    assert site.client.get(urlsplit(paper_links[0]).path).status_code == 200
    manage = re.search(r"Change it: (\S+)", text).group(1)
    assert site.client.get(urlsplit(manage).path).status_code == 200

    # One-click unsubscribe as a mail provider sends it: a POST, no cookies, no CSRF.
    from fastapi.testclient import TestClient

    provider = TestClient(site.client.app)
    gone = provider.post(urlsplit(https_link).path, data={"List-Unsubscribe": "One-Click"})
    assert gone.status_code == 200 and "You are unsubscribed" in gone.text
    assert provider.post(urlsplit(https_link).path).status_code == 200  # twice is harmless
    site.clock.now += timedelta(days=1)
    report, delivered = run(site)
    assert report.due == 0 and delivered.sent == 0


def test_subscribing_through_the_api(digest_site, smtp):
    site = digest_site
    body = {"email": "Api@Example.org", "frequency": "weekly", "trending": False,
            "searches": [{"query": "diffusion models", "mode": "hybrid", "category": "cs"}]}  # fmt: skip
    response = site.client.post("/api/v1/subscriptions", json=body)
    assert response.status_code == 202 and response.json() == {
        "status": "pending",
        "email": "api@example.org",
    }
    confirmation = smtp.inbox.wait_for("api@example.org", 1).get_content()
    # the unconfirmed address is told how many searches, never their text (issue 19)
    assert "1 saved search" in confirmation and "diffusion models" not in confirmation
    bad = [
        {"email": "not-an-address", "trending": True},
        {"email": "a@example.org", "trending": False, "searches": []},
        {"email": "a@example.org", "searches": [{"query": "-only"}]},
        {"email": "a@example.org", "searches": [{"query": "x", "category": "cs CL;"}]},
    ]
    for payload in bad:
        answer = site.client.post("/api/v1/subscriptions", json=payload)
        assert answer.status_code == 400, payload
        assert answer.headers["content-type"] == "application/problem+json"
    assert (
        site.client.post(
            "/api/v1/subscriptions", json={"email": "a@example.org", "frequency": "hourly"}
        ).status_code
        == 422
    )
    # A signed-in reader's own address needs no confirmation.
    site.sign_in("me@example.org")
    mine = site.client.post(
        "/api/v1/subscriptions",
        json={"email": "me@example.org"},
        headers={"X-CSRF-Token": site.csrf()},
    )
    assert mine.json()["status"] == "active"
    assert "manage" in site.client.get("/account").text


@pytest.fixture(scope="module")
def embedder(tmp_path_factory):
    return make_embedder("minilm", tmp_path_factory.mktemp("models"))


def test_saved_searches_send_only_new_relevant_papers(digest_site, smtp, embedder):
    site = digest_site
    site.store.upsert_papers(
        [
            Paper(
                title="Cascaded diffusion models for high-resolution image synthesis",
                abstract="We generate images with a cascade of denoising diffusion models.",
                arxiv_id="2611.00001",
                categories=["cs.CV"],
            ),
            Paper(
                title="Score-based generative modeling of pictures",
                abstract="A stochastic differential equation turns noise into natural images "
                "step by step, a denoising generative process for image synthesis.",
                arxiv_id="2611.00002",
                categories=["cs.LG"],
            ),
            Paper(
                title="Crop rotation and soil nitrogen in the Sahel",
                abstract="Field trials of millet and cowpea rotations over ten seasons.",
                arxiv_id="2611.00003",
                categories=["q-bio.PE"],
            ),
        ]
    )
    searched = SavedSearch("diffusion models for image generation")
    nonsense = SavedSearch("zzqx vrrbl")
    active(site, "searcher@example.org", trending=False, searches=[searched, nonsense])
    active(
        site,
        "lexical@example.org",
        trending=False,
        searches=[SavedSearch("cascaded diffusion", "lexical")],
    )
    active(site, "nothing@example.org", trending=False, searches=[nonsense])
    report, delivered = run(site, embedder)
    assert (report.due, report.queued, report.empty) == (3, 2, 1)
    assert delivered.sent == 2 and smtp.inbox.to("nothing@example.org") == []
    text = smtp.inbox.wait_for("searcher@example.org", 1).get_body(("plain",)).get_content()
    assert "Cascaded diffusion models" in text and "Score-based generative" in text
    assert "Crop rotation" not in text and "zzqx" not in text
    assert "close in meaning" in text  # the score-based paper shares no query word
    lexical = smtp.inbox.wait_for("lexical@example.org", 1).get_body(("plain",)).get_content()
    assert "Cascaded diffusion" in lexical and "Score-based" not in lexical
    # The sample corpus, added before the window, is not "new".
    assert text.count("NEW FOR YOUR SEARCH") == 1 and "Target-based Surrogates" not in text


def test_each_period_is_composed_and_sent_once(digest_site, smtp):
    site = digest_site
    ids = [active(site, f"r{i}@example.org") for i in range(5)]
    weekly = active(site, "weekly@example.org", frequency="weekly")
    for _ in range(3):  # the cron job ran three times in one day
        run(site)
        run(site, frequency="weekly")
    assert len(smtp.inbox.messages) == 6
    site.clock.now += timedelta(days=1)
    run(site)
    run(site, frequency="weekly")
    assert all(len(smtp.inbox.to(f"r{i}@example.org")) == 2 for i in range(5))
    started = site.clock.now - timedelta(days=1)
    same_week = period_key("weekly", site.clock.now) == period_key("weekly", started)
    assert len(smtp.inbox.to("weekly@example.org")) == (1 if same_week else 2)
    assert site.store.outbox_counts() == {"sent": len(smtp.inbox.messages)}
    with site.store.read() as conn:
        rows = conn.execute("SELECT subscription_id, count(*) FROM outbox GROUP BY 1").fetchall()
    assert {sid for sid, _ in rows} == {*ids, weekly}


def test_smtp_faults_are_retried_recorded_and_pause(digest_site, smtp):
    site, inbox = digest_site, smtp.inbox
    active(site, "slow@example.org")
    active(site, "dropped@example.org")
    active(site, "gone@example.org")
    first = {"slow@example.org": "451 4.3.0 try later", "dropped@example.org": "drop"}

    def fault(recipient: str, attempt: int) -> str | None:
        if recipient == "gone@example.org":
            return "550 5.1.1 no such mailbox"
        return first.pop(recipient, None)

    inbox.fault = fault
    _, report = run(site)
    assert (report.sent, report.retried, report.failed) == (0, 2, 1)
    site.clock.now += RETRY_DELAYS[0] + timedelta(seconds=1)
    report = site.services.deployment.deliver_outbox()
    assert report.sent == 2
    assert len(inbox.to("slow@example.org")) == 1 and len(inbox.to("dropped@example.org")) == 1
    # Permanent refusals: recorded each period, the subscription paused after three.
    for _ in range(2):
        site.clock.now += timedelta(days=1)
        inbox.fault = fault
        _, report = run(site)
    assert report.paused == 1
    site.clock.now += timedelta(days=1)
    composed, _ = run(site)
    assert composed.due == 2  # "gone" is paused: no longer composed
    assert inbox.to("gone@example.org") == []


def test_a_killed_sender_resumes_without_loss_or_duplicates(digest_site, smtp, tmp_path):
    site, inbox = digest_site, smtp.inbox
    addresses = [f"k{i:03d}@example.org" for i in range(40)]
    for address in addresses:
        active(site, address)
    env = sender_env(site, smtp, tmp_path)
    command = [
        str(Path(sys.executable).parent / "paperwire"),
        "digest",
        "send",
        "--period",
        "daily",
        "-q",
    ]
    sender = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def kill_mid_batch(recipient: str, attempt: int) -> str | None:
        if attempt == 15:  # killed while the server holds the 15th message: not accepted
            os.kill(sender.pid, signal.SIGKILL)
            return "421 4.3.2 sender went away"
        return None

    inbox.fault = kill_mid_batch
    sender.wait(timeout=120)
    assert sender.returncode == -signal.SIGKILL
    assert len(inbox.messages) == 14
    inbox.fault = lambda _r, _n: None
    time.sleep(2.5)  # the killed sender's lease runs out
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert "sent 26" in finished.stdout
    assert sorted(m["To"] for m in inbox.messages) == addresses  # each exactly once
    assert site.store.outbox_counts() == {"sent": 40}


def test_manage_page_changes_and_refuses_forged_tokens(digest_site, smtp):
    from paperwire.tokens import subscription_token

    site = digest_site
    sid = active(site, "m@example.org")
    token = subscription_token(site.services.secret, sid)
    page = site.client.get(f"/subscriptions/{token}")
    assert page.status_code == 200 and "m@example.org" in page.text
    saved = site.client.post(
        f"/subscriptions/{token}",
        data={
            "csrf_token": site.csrf(),
            "frequency": "weekly",
            "query": ["graph networks"],
            "mode": ["lexical"],
        },
    )
    assert saved.status_code == 200 and "Saved." in saved.text
    changed = site.store.get_subscription(sid)
    assert changed.frequency == "weekly" and not changed.trending
    assert changed.searches == [SavedSearch("graph networks", "lexical")]
    refused = site.client.post(f"/subscriptions/{token}", data={"frequency": "daily"})
    assert refused.status_code == 403  # CSRF on the manage form
    for forged in (f"{sid}.{'0' * 32}", f"{sid + 1}.{token.split('.')[1]}", "x", "1." + "a" * 100):
        assert site.client.get(f"/subscriptions/{forged}").status_code == 404
        assert site.client.post(f"/subscriptions/{forged}/unsubscribe").status_code == 404
    assert site.store.get_subscription(sid).status == "active"


def test_digests_are_dkim_signed_when_a_key_is_configured(digest_site, smtp, tmp_path):
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    site = digest_site
    settings = site.services.settings.model_copy(
        update={
            "dkim_key_file": str(key),
            "dkim_selector": "pw",
            "dkim_domain": "papers.example.org",
        }
    )
    site.services.settings = settings
    active(site, "signed@example.org")
    s = site.services
    compose_due(s.store, settings, s.secret, embedder=None, frequency="daily", now=s.clock())
    item = s.store.claim_outbox(s.clock(), s.clock() + timedelta(minutes=1), 1)[0]
    assert item.message.startswith(b"DKIM-Signature:")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"pw._domainkey.papers.example.org."
        return record

    assert dkim.verify(item.message, dnsfunc=dns)
    assert not dkim.verify(item.message.replace(b"Trending", b"Tampered"), dnsfunc=dns)


def test_a_sender_killed_while_composing_resumes_exactly_once(digest_site, smtp, tmp_path):
    site, inbox = digest_site, smtp.inbox
    addresses = [f"c{i:03d}@example.org" for i in range(300)]
    for address in addresses:
        active(site, address)
    settings = site.services.settings
    env = sender_env(site, smtp, tmp_path)
    command = [
        str(Path(sys.executable).parent / "paperwire"),
        "digest",
        "send",
        "--period",
        "daily",
        "-q",
    ]
    sender = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    watcher = open_store(settings.database_url, index_root=tmp_path / "watcher")
    composed = 0
    deadline = time.monotonic() + 120
    while sender.poll() is None and time.monotonic() < deadline:
        with watcher.read() as conn:
            composed = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        if composed >= 20:
            os.kill(sender.pid, signal.SIGKILL)  # in the middle of composing
            break
        time.sleep(0.005)
    sender.wait(timeout=60)
    watcher.close()
    assert 20 <= composed < 300, composed
    time.sleep(2.5)
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert finished.returncode == 0, finished.stderr
    assert sorted(m["To"] for m in inbox.messages) == addresses
    assert site.store.outbox_counts() == {"sent": 300}


URL = re.compile(r"https?://\S+")


def test_every_link_of_both_parts_stands_alone_and_leads_somewhere(digest_site, smtp):
    """Issue 18: the text part ran each URL into the next item (`…models2. CaRL`) and
    into the `--` signature; the confirmation's list was one line. Each URL of the text
    part must end its line, and each link of either part must be followed through the
    app to a page (or be an arXiv or code link of a paper in the digest)."""
    site, inbox = digest_site, smtp.inbox
    site.store.upsert_papers(
        [Paper(title="Coded", abstract="x", arxiv_id="2401.00003",
               code_urls=["https://github.com/example/diffusion-models"])]
    )  # fmt: skip
    site.store.submit("2401.00003", site.clock.now.date(), None, site.clock.now)
    site.client.post(
        "/subscribe",
        data={"csrf_token": site.csrf(), "email": "links@example.org", "frequency": "daily",
              "trending": "true", "query": ["diffusion models", "graph networks"],
              "mode": ["lexical", "lexical"]},
    )  # fmt: skip
    confirmation = inbox.wait_for("links@example.org", 1).get_body(("plain",)).get_content()
    listed = [line for line in confirmation.splitlines() if line.startswith("  - ")]
    assert listed == [  # no saved search's text is quoted to an unconfirmed address
        "  - the trending papers",
        "  - 2 saved searches (you will see them once you confirm)",
    ]
    confirm_url = URL.search(confirmation).group(0)
    assert any(line == confirm_url for line in confirmation.splitlines())
    token = confirm_url.split("token=")[1]
    site.client.post("/subscriptions/confirm", data={"token": token, "csrf_token": site.csrf()})

    run(site)
    digest = inbox.wait_for("links@example.org", 2)
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    lines = text.splitlines()
    assert "-- " in lines and lines[lines.index("-- ") - 1] == ""  # the signature stands apart
    numbered = [line for line in lines if re.match(r"\d+\. ", line)]
    assert len(numbered) >= 10
    text_urls = []
    for line in lines:
        found = URL.findall(line)
        if not found:
            continue
        assert len(found) == 1 and line.endswith(found[0]), line  # alone at the line's end
        label = line[: -len(found[0])].strip()
        assert label in ("", "arXiv:", "Code:", "Change it:", "Unsubscribe:"), line
        text_urls.append(found[0])
    html_urls = re.findall(r'href="([^"]+)"', html)
    assert "https://github.com/example/diffusion-models" in text_urls
    assert "https://github.com/example/diffusion-models" in html_urls
    keys = {
        unquote(urlsplit(u).path.removeprefix("/papers/"))
        for u in text_urls
        if urlsplit(u).path.startswith("/papers/")
    }
    code = {c for key in keys for c in site.store.entry(key).paper.code_urls}
    for url in {*text_urls, *html_urls}:
        parts = urlsplit(url)
        if parts.netloc == "testserver":
            answer = site.client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
            assert answer.status_code == 200, url
        elif parts.netloc == "arxiv.org":
            assert re.fullmatch(r"/abs/\d{4}\.\d{4,5}", parts.path), url
            assert site.store.entry(parts.path.removeprefix("/abs/")) is not None, url
        else:
            assert url in code, url  # a code link of a paper in this digest


def test_recommended_for_you_section_once_never_dismissed_or_seen(digest_site, smtp):
    """Opt-in per subscription (own address, own collection), in both parts with why,
    only the period's new papers, never one dismissed or seen; the papers mailed are
    marked seen in the transaction that queues the digest (exactly once)."""
    site = digest_site
    # Only an account's own address, from one of its own collections.
    anonymous = site.client.post(
        "/api/v1/subscriptions", json={"email": "x@example.org", "recommended": True}
    )
    assert anonymous.status_code == 400 and "need an account" in anonymous.text
    other = site.store.get_or_create_user("other@example.org", site.clock.now)
    theirs = site.store.collections_of(other.id, site.clock.now)[0].id
    site.sign_in("me@example.org")
    headers = {"X-CSRF-Token": site.csrf()}
    refused = site.client.post(
        "/api/v1/subscriptions",
        json={"email": "me@example.org", "trending": False, "recommended": True,
              "collection": theirs},
        headers=headers,
    )  # fmt: skip
    assert refused.status_code == 400 and f"no collection {theirs}" in refused.text
    # Another address, box not ticked (the form still sends its collection choice): fine.
    unticked = site.client.post(
        "/subscribe",
        data={"csrf_token": site.csrf(), "email": "friend@example.org", "frequency": "daily",
              "trending": "true", "profile": str(theirs), "query": [""], "mode": ["hybrid"]},
    )  # fmt: skip
    assert unticked.status_code == 200 and "Confirm your subscription" in unticked.text
    # The form offers it to a signed-in reader, with their collections.
    form = site.client.get("/subscribe").text
    assert 'name="recommended"' in form and ">Reading list</option>" in form
    made = site.client.post(
        "/subscribe",
        data={"csrf_token": site.csrf(), "email": "me@example.org", "frequency": "daily",
              "recommended": "true", "query": [""], "mode": ["hybrid"]},
    )  # fmt: skip
    assert made.status_code == 200, made.text
    me = site.store.get_or_create_user("me@example.org", site.clock.now)
    [subscription] = site.store.subscriptions_of("me@example.org")
    assert subscription.recommended and not subscription.trending and subscription.user_id == me.id

    reading = site.store.collections_of(me.id, site.clock.now)[0].id
    saved = [p.key for p in site.store.iter_papers() if "transport" in p.title.lower()][:3]
    site.store.add_items(me.id, reading, list(site.store.paper_ids(saved).values()), site.clock.now)
    new = [
        Paper(f"Optimal transport {topic}", f"Optimal transport and Wasserstein distances {topic}.")
        for topic in (
            "for generative models",
            "on graphs",
            "with entropic regularisation",
            "in single-cell biology",
            "for domain adaptation",
        )
    ] + [Paper("Protein folding with language models", "Structure prediction from sequence.")]
    site.store.upsert_papers(new)
    ids = site.store.paper_ids([p.key for p in new])
    dismissed, seen = ids[new[0].key], ids[new[1].key]
    site.store.set_feedback(me.id, dismissed, "not_interested", "", site.clock.now)
    site.store.set_feedback(me.id, seen, "seen", "", site.clock.now)

    report, delivered = run(site)
    assert report.queued == 1 and delivered.sent == 1
    [mail] = [m for m in smtp.inbox.to("me@example.org") if "digest" in m["Subject"]]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert 'RECOMMENDED FOR YOU (FROM "Reading list")' in text
    assert "Recommended for you" in html and "close to" in html and "close to" in text
    for paper in new[2:5]:
        assert paper.title in text and paper.title in html
    for paper in new[:2]:  # dismissed, seen
        assert paper.title not in text and paper.title not in html
    for key in saved:  # in the profile (and not new): named in the why, never listed
        assert f"/papers/{key}\r\n" not in text and f"/papers/{key}\n" not in text
    # What was mailed is seen now: never recommended again, on /for-you either.
    signals = site.store.feedback_ids(me.id)
    mailed = [pid for pid, found in signals.items() if "seen" in found and pid != seen]
    assert sorted(mailed) == sorted(ids[p.key] for p in new if p.title in text)
    for_you = site.client.get("/for-you").text
    assert all(p.title not in for_you for p in new[:5])
    # The same period again: nothing composed or sent twice.
    again, resent = run(site)
    assert again.queued == 0 and resent.sent == 0
    assert len([m for m in smtp.inbox.to("me@example.org") if "digest" in m["Subject"]]) == 1
    # The manage link (no sign-in needed) keeps, changes and checks the choice.
    from paperwire.tokens import subscription_token

    manage = f"/subscriptions/{subscription_token(site.services.secret, subscription.id)}"
    page = site.client.get(manage).text
    assert 'name="recommended" value="true" checked' in page and ">Reading list</option>" in page
    form = {"csrf_token": site.csrf(), "frequency": "weekly", "recommended": "true",
            "profile": str(theirs), "query": [""], "mode": ["hybrid"]}  # fmt: skip
    refused = site.client.post(manage, data=form)
    assert refused.status_code == 400 and f"no collection {theirs}" in refused.text
    assert site.store.get_subscription(subscription.id).frequency == "daily"  # unchanged
    kept = site.client.post(manage, data={**form, "profile": str(reading)})
    assert kept.status_code == 200
    changed = site.store.get_subscription(subscription.id)
    assert changed.frequency == "weekly" and changed.recommended
    assert changed.profile_id == reading
