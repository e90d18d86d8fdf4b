"""Readers' own channels on /account: the form needs the CSRF token, the target passes the
same guard as the operator's (a name resolving to 127.0.0.1 is refused), only the
reader's own collections can be sent, a reader has at most `channels_per_reader`; and
dead letters show on /status for curators."""

from __future__ import annotations

import pytest

from channel_support import Receiver, start_receiver
from paperwire.channels.manage import Choice
from support import ENGINES, engine_url, make_site


@pytest.fixture
def receiver():
    got = Receiver()
    server = start_receiver(got)
    yield got
    server.shutdown()
    server.server_close()


def _add(site, **fields):
    data = {"name": "mine", "target": "https://hooks.example.org/x", "what": "for-you",
            "frequency": "daily", "csrf_token": site.csrf(), **fields}  # fmt: skip
    return site.client.post("/account/channels", data=data)


def test_reader_channels_are_guarded_capped_and_their_own(tmp_path, receiver):
    site = make_site(tmp_path, channels_per_reader=2, channels_schedule=False)
    site.sign_in("reader@example.org")
    # No CSRF token: refused, nothing stored.
    no_csrf = site.client.post(
        "/account/channels", data={"name": "x", "target": "https://a.example/x"}
    )
    assert no_csrf.status_code == 403
    refused = _add(site, target=f"https://localhost:{receiver.port}/hook")
    assert refused.status_code == 400 and "resolves to 127.0.0.1" in refused.text
    other = site.store.get_or_create_user("other@example.org", site.clock())
    theirs = site.store.collections_of(other.id, site.clock())[0].id
    not_mine = _add(site, what="collection", collection=str(theirs), target="slack://T1/B2/C3")
    assert not_mine.status_code == 404 and f"you have no collection {theirs}" in not_mine.text
    added = _add(site, target="slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ")
    assert added.status_code == 200 and "Channel mine added" in added.text
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in added.text and "slack://…" in added.text
    assert (
        _add(
            site, name="two", what="query", query="diffusion", target="slack://T1/B2/C3"
        ).status_code
        == 200
    )
    capped = _add(site, name="three", target="slack://T1/B2/C4")
    assert capped.status_code == 409 and "2 channels already" in capped.text
    [reader] = [u for u in [site.store.reader_by_email("reader@example.org")] if u]
    assert {c.name for c in site.store.list_channels(reader.id)} == {"mine", "two"}
    assert site.store.list_channels() == []  # not the operator's
    gone = site.client.post(
        "/account/channels/remove", data={"name": "mine", "csrf_token": site.csrf()}
    )
    assert gone.status_code in {303, 200}
    assert {c.name for c in site.store.list_channels(reader.id)} == {"two"}


@pytest.fixture(params=ENGINES)
def url(request, tmp_path) -> str:
    return engine_url(request, tmp_path, sample=True)


def test_status_shows_dead_letters(tmp_path, receiver, url):
    site = make_site(
        tmp_path, database_url=url, sample_loaded=True, allow_private_targets=True,
        channel_attempts=1, channels_schedule=False,
    )  # fmt: skip
    try:
        receiver.statuses = [500]
        site.services.deployment.add_channel("lab", receiver.url(), "daily", Choice("trending"))
        site.services.deployment.run_channels()
        site.services.deployment.set_curator("curator@example.org", True)
        site.sign_in("curator@example.org")
        page = site.client.get("/status")
        assert page.status_code == 200
        assert (
            "dead letters 1" in page.text
            and 'data-channel="lab"' in page.text
            and "HTTP 500" in page.text
        )
        assert "paperwire channels retry NAME" in page.text
        # Retried: waiting again, not a dead letter; then delivered.
        assert site.services.deployment.retry_channel("lab") == 1
        page = site.client.get("/status")
        assert "queued 1" in page.text and "dead letters" not in page.text
        assert 'data-channel="lab"' not in page.text and "1 channel, none failing" in page.text
        assert site.services.deployment.run_channels().sent.sent == 1
        assert "sent 1" in site.client.get("/status").text
    finally:
        site.store.close()  # no lifespan ran to close it (PostgreSQL: its pool)
