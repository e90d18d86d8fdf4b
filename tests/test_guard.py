"""The guard: oversized headers, pages showing secrets never cached, the CSRF token bound
to the session and rotated at sign-in, a read-only database answering 503; input at the
edges (addresses with controls, views at the calendar's ends)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paperwire.web.security import csrf_token

# -- the guard: headers, caching, CSRF -------------------------------------------------------


def test_oversized_request_headers_are_refused(site) -> None:
    """Request headers past MAX_HEADER_BYTES are a 431 (8 MB were accepted)."""
    from paperwire.web.middleware import MAX_HEADER_BYTES

    response = site.client.get("/daily", headers={"X-Big": "a" * (MAX_HEADER_BYTES + 1)})
    assert response.status_code == 431
    many = {f"X-H{n}": "b" * 200 for n in range(100)}
    assert site.client.get("/daily", headers=many).status_code == 431
    assert site.client.get("/daily", headers={"X-Small": "a" * 1000}).status_code == 200


def test_pages_showing_secrets_are_never_cached(site) -> None:
    """The account page (with a new API token), a subscription's manage and confirm
    pages and sign-in pages answer Cache-Control: no-store; public pages do not."""
    site.sign_in("ada@example.org")
    response = site.client.post("/account/tokens", data={"name": "t", "csrf_token": site.csrf()})
    assert "pw_" in response.text and response.headers["cache-control"] == "no-store"
    assert site.client.get("/account").headers["cache-control"] == "no-store"
    response = site.client.post(
        "/subscribe",
        data={"email": "ada@example.org", "trending": "true", "csrf_token": site.csrf()},
    )
    manage = re.search(r"/subscriptions/([0-9a-f.]+)", response.text).group(1)
    for path in (
        f"/subscriptions/{manage}",
        "/subscriptions/confirm?token=x",
        "/signin/confirm?token=x",
    ):
        assert site.client.get(path).headers.get("cache-control") == "no-store", path
    assert site.client.get("/api/v1/me").headers.get("cache-control") == "no-store"
    assert site.client.get("/daily").headers.get("cache-control") != "no-store"


def test_the_csrf_token_is_bound_to_the_session_and_rotated_at_sign_in(site) -> None:
    """A token from before signing in is refused after it; a token made for a CSRF
    cookie the client chose is refused for a signed-in session."""
    before = site.csrf()
    cookie_before = site.client.cookies["pw_csrf"]
    site.sign_in("ada@example.org")
    assert site.client.cookies["pw_csrf"] != cookie_before  # rotated
    data = {"name": "t"}
    assert (
        site.client.post("/account/tokens", data={**data, "csrf_token": before}).status_code == 403
    )
    planted = csrf_token(site.services.secret, site.client.cookies["pw_csrf"])  # cookie alone
    assert (
        site.client.post("/account/tokens", data={**data, "csrf_token": planted}).status_code == 403
    )
    assert (
        site.client.post("/account/tokens", data={**data, "csrf_token": site.csrf()}).status_code
        == 200
    )


def test_a_read_only_sqlite_database_answers_503(tmp_path: Path) -> None:
    """Writes to a SQLite file that cannot be written answer 503, as PostgreSQL does
    (they answered 500); reads go on."""
    from conftest import make_site

    site = make_site(tmp_path)
    with site.client:
        site.sign_in("ada@example.org")
        csrf = site.csrf()
        site.store._writer.execute("PRAGMA query_only = ON")  # as a read-only file does
        response = site.client.put(
            f"/api/v1/papers/{_any_key(site)}/vote",
            json={"vote": True},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 503, response.text
        assert site.client.get("/daily").status_code == 200
        site.store._writer.execute("PRAGMA query_only = OFF")
        response = site.client.put(
            f"/api/v1/papers/{_any_key(site)}/vote",
            json={"vote": True},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 200, response.text


def _any_key(site) -> str:
    entries, _ = site.store.feed(site.clock.now.date(), site.clock.now.date(), "upvotes", 1, 0)
    return entries[0].paper.key


# -- input at the edges ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "ada\x00@example.org",
        "ada\x01@example.org",
        "a\ufffdda@example.org",
        "ada\u202e@example.org",  # right-to-left override
        "ada\u2066x@example.org",  # left-to-right isolate
        "ad\u200ba@example.org",  # zero-width space
    ],
)
def test_addresses_with_controls_bidi_or_replacement_characters_are_refused(address) -> None:
    from paperwire.digest.addresses import normalise_email

    with pytest.raises(ValueError, match="is not an email address"):
        normalise_email(address)


def test_no_mail_goes_to_an_address_with_control_characters(site) -> None:
    csrf = site.csrf()
    for address in ("ada\x01@example.org", "ada\u202e@example.org", "a\ufffd@example.org"):
        response = site.client.post("/signin", data={"email": address, "csrf_token": csrf})
        assert response.status_code == 400
        response = site.client.post(
            "/subscribe", data={"email": address, "trending": "true", "csrf_token": csrf}
        )
        assert response.status_code == 400
    assert site.mails() == []


def test_views_at_the_calendars_ends_are_not_a_500(site) -> None:
    """Week and month views at years 9999 and 1 answered 500; now a page or a 400."""
    for day in ("9999-12-31", "9999-12-27", "0001-01-01", "0001-01-03"):
        for view in ("day", "week", "month"):
            response = site.client.get(f"/daily/{day}?view={view}")
            assert response.status_code in {200, 400}, (day, view, response.text)
            response = site.client.get(f"/api/v1/daily?date={day}&view={view}")
            assert response.status_code in {200, 400}, (day, view, response.text)
