"""No token or secret reaches the server's log (issue 19): the real server as a child
process, signed in, given a token, subscribed, and its log read."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from server_support import Served, csrf_of, serving


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
    time.sleep(0.5)
    text = served.log.read_text()
    assert "[redacted]" in text and "/subscriptions/" in text, text  # the access log is on
    for secret in secrets:
        assert secret not in text
        assert secret.split(".")[-1] not in text
