"""No token or secret reaches the server's log: the real server as a child process, signed
in, given a token, subscribed, sent to share, feed and reply-mail links, and its log read;
and every route that takes a token has it redacted, read from the app's own routes."""

from __future__ import annotations

import re
import secrets as secrets_module
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from paperwire.logredact import REDACTED, redact
from paperwire.web.app import route_paths
from server_support import Served, csrf_of, serving
from support import make_site


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serving(tmp_path) as running:
        yield running


def test_no_token_reaches_the_server_log(served: Served) -> None:
    """Sign in, subscribe, confirm, manage, unsubscribe and make an API token against a
    real `paperwire serve`: no secret of any of these flows appears in its log, though
    the access log recorded each request (redacted)."""
    secrets: list[str] = []
    with httpx.Client(base_url=served.base, timeout=30) as client:
        # sign-in link: opened (GET, as a mail client would) and spent
        response = client.post(
            "/signin", data={"email": "ada@example.org", "csrf_token": csrf_of(client)}
        )
        assert response.status_code == 200, response.text
        link = served.last_link("ada@example.org")
        token = parse_qs(urlsplit(link).query)["token"][0]
        secrets.append(token)
        assert client.get(link).status_code == 200
        response = client.post(
            "/signin/confirm", data={"token": token, "csrf_token": csrf_of(client)}
        )
        assert response.status_code in {200, 303}, response.text
        # a personal API token, shown once on the account page
        response = client.post(
            "/account/tokens",
            data={"name": "t", "csrf_token": csrf_of(client)},
            follow_redirects=True,
        )
        api_token = re.search(r"pw_[A-Za-z0-9_-]{20,}", response.text).group(0)
        secrets.append(api_token)
        assert (
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {api_token}"}).status_code
            == 200
        )
    with httpx.Client(base_url=served.base, timeout=30) as client:
        # a subscription by someone not signed in: confirmation link, then manage links
        response = client.post(
            "/subscribe",
            data={"email": "bob@example.org", "trending": "true", "csrf_token": csrf_of(client)},
        )
        assert response.status_code == 200, response.text
        link = served.last_link("bob@example.org")
        confirm = parse_qs(urlsplit(link).query)["token"][0]
        secrets.append(confirm)
        assert client.get(link).status_code == 200
        response = client.post(
            "/subscriptions/confirm", data={"token": confirm, "csrf_token": csrf_of(client)}
        )
        manage = re.search(r"/subscriptions/(\d+\.[0-9a-f.]+)", response.text).group(1)
        secrets.append(manage)
        assert client.get(f"/subscriptions/{manage}").status_code == 200
        assert client.get(f"/subscriptions/{manage}/unsubscribe").status_code == 200
        client.get(f"/subscriptions/{manage}x")  # a 404 is logged too
    with httpx.Client(base_url=served.base, timeout=30) as client:
        # share, private-feed and reply-mail links, and a token-shaped query value (these
        # reached the access log); unknown tokens are logged as 404s all the same
        share, feed = (
            f"sh_{secrets_module.token_urlsafe(32)}",
            f"fd_{secrets_module.token_urlsafe(32)}",
        )
        mail = f"7.{secrets_module.token_hex(16)}"
        opaque = secrets_module.token_urlsafe(24) + "9a"
        for path in (
            f"/shared/{share}",
            f"/feeds/for-you/{feed}.atom",
            f"/comments/mail/{mail}/unsubscribe",
            f"/?ref={opaque}",
            f"/shared/{opaque}",  # the route's segment, whatever its shape
        ):
            client.get(path)
        secrets += [share, feed, mail, opaque]
    deadline = time.monotonic() + 15  # the access log is written after each response
    while time.monotonic() < deadline and served.log.read_text().count("/shared/") < 2:
        time.sleep(0.1)
    text = served.log.read_text()
    assert "[redacted]" in text and "/subscriptions/" in text, text  # the access log is on
    for secret in secrets:
        assert secret not in text
        assert secret.split(".")[-1] not in text
        assert secret.split("_", 1)[-1] not in text
    assert '"GET /shared/[redacted] HTTP/1.1" 404' in text, text
    assert "/feeds/for-you/[redacted].atom" in text and "/comments/mail/[redacted]/" in text


def test_every_route_taking_a_token_is_redacted_from_the_log(tmp_path: Path) -> None:
    """The token-bearing routes are read from the app's own routes: each route with a
    path parameter named like "token" (today /shared, /feeds/for-you, /subscriptions,
    /comments/mail) has that segment redacted from an access-log line, whatever the
    token's shape; its fixed neighbours (/subscriptions/confirm) and other parameters
    (a paper's key) are left alone."""
    site = make_site(tmp_path)
    taking = [
        path
        for path in route_paths(site.client.app)
        if re.search(r"\{[^}:]*token[^}:]*(:[^}]*)?\}", path, re.I)
    ]
    assert {
        "/shared/{token}",
        "/feeds/for-you/{token}.atom",
        "/comments/mail/{token}/unsubscribe",
        "/subscriptions/{token}",
    } <= set(taking)
    for template in taking:
        for token in ("sh_" + secrets_module.token_urlsafe(32), "12.abcdef", "Plain-Looking"):
            path = re.sub(r"\{[^}]*token[^}]*\}", token, template, flags=re.I)
            path = re.sub(r"\{[^}]*\}", "2401.00001", path)
            line = redact(f'127.0.0.1:5 - "GET {path}?page=2 HTTP/1.1" 404')
            assert token not in line and REDACTED in line, (template, line)
    kept = '"GET /subscriptions/confirm HTTP/1.1" 200 /papers/2401.00001v2'
    assert redact(kept) == kept
