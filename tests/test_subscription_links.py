"""Subscriptions' manage links: they expire, saving never resubscribes, and any token is
read or refused, never raises."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

# -- subscriptions' manage links ------------------------------------------------------------------


def test_manage_links_expire_and_saving_never_resubscribes(site) -> None:
    """A manage link works for MANAGE_DAYS, then only unsubscribes; saving the manage
    form of an unsubscribed address keeps it unsubscribed."""
    from datetime import timedelta

    from paperwire.tokens import MANAGE_DAYS, _mac, subscription_token

    site.sign_in("ada@example.org")
    response = site.client.post(
        "/subscribe",
        data={"email": "ada@example.org", "trending": "true", "csrf_token": site.csrf()},
    )
    token = re.search(r"/subscriptions/([0-9a-f.]+)", response.text).group(1)
    sid = int(token.split(".")[0])
    assert site.client.get(f"/subscriptions/{token}").status_code == 200
    # unsubscribe, then save the manage form: still unsubscribed
    assert site.client.post(f"/subscriptions/{token}/unsubscribe").status_code == 200
    form = {"frequency": "weekly", "trending": "true", "csrf_token": site.csrf()}
    assert site.client.post(f"/subscriptions/{token}", data=form).status_code == 200
    stored = site.store.get_subscription(sid)
    assert stored.status == "unsubscribed" and stored.frequency == "weekly"
    # past its expiry the link no longer manages, but still unsubscribes
    site.clock.now += timedelta(days=MANAGE_DAYS + 1)
    assert site.client.get(f"/subscriptions/{token}").status_code == 404
    assert site.client.post(f"/subscriptions/{token}", data=form).status_code == 404
    assert site.client.get(f"/subscriptions/{token}/unsubscribe").status_code == 200
    assert site.client.post(f"/subscriptions/{token}/unsubscribe").status_code == 200
    fresh = subscription_token(site.services.secret, sid, site.clock.now.date())
    assert site.client.get(f"/subscriptions/{fresh}").status_code == 200
    # the older form of link (no expiry) only unsubscribes; a forged expiry is refused
    old = f"{sid}.{_mac(site.services.secret, f'subscription:{sid}')}"
    assert site.client.get(f"/subscriptions/{old}").status_code == 404
    assert site.client.post(f"/subscriptions/{old}/unsubscribe").status_code == 200
    forged = fresh.split(".")
    forged[1] = "99991231"
    assert site.client.get(f"/subscriptions/{'.'.join(forged)}").status_code == 404


@given(st.text(max_size=90))
def test_any_subscription_token_is_read_or_refused_never_raises(token):
    """A manage link's token is whatever a visitor typed: non-ASCII text made
    hmac.compare_digest raise (a 500); every text is now an id or None."""
    from paperwire.tokens import read_subscription_token, subscription_token

    assert read_subscription_token("k" * 32, token, allow_expired=True) is None or token.isascii()
    genuine = subscription_token("k" * 32, 7)
    assert read_subscription_token("k" * 32, genuine) == 7
    assert read_subscription_token("k" * 32, genuine + "é") is None
