"""Hardening (issue 19): what an attack run against the running service found, each
finding as a test that failed before its fix."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from paperwire.web.security import csrf_token
from smtp_support import free_port

SECRET = "k" * 48


@dataclass
class Served:
    """`paperwire serve` in a child process, its log going to a file."""

    base: str
    log: Path
    mail_dir: Path

    def mails(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted(self.mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        ]

    def last_link(self, to: str) -> str:
        for message in reversed(self.mails()):
            if message["To"] == to:
                body = message.get_body(("plain",)).get_content()
                return re.search(r"https?://\S+", body).group(0)
        raise AssertionError(f"no mail to {to}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    log = tmp_path / "serve.log"
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "PAPERWIRE_DATABASE_URL": f"sqlite:///{tmp_path / 'site.db'}",
        "PAPERWIRE_BASE_URL": f"http://127.0.0.1:{port}",
        "PAPERWIRE_MAIL_DIR": str(mail_dir),
        "PAPERWIRE_CACHE_DIR": str(tmp_path / "cache"),
        "PAPERWIRE_SECRET_KEY": SECRET,
        "PAPERWIRE_PAGE_CACHE_SECONDS": "0",
        "PAPERWIRE_EMBED_IN_BACKGROUND": "false",
    }
    with log.open("wb") as out:
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from paperwire.cli import main; main()",
                "serve",
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/signin", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert child.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.3)
        yield Served(base, log, mail_dir)
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _csrf(client: httpx.Client) -> str:
    if "pw_csrf" not in client.cookies:
        client.get("/signin")
    return csrf_token(SECRET, client.cookies["pw_csrf"])


def test_no_token_reaches_the_server_log(served: Served) -> None:
    """Sign in, subscribe, confirm, manage, unsubscribe and make an API token against a
    real `paperwire serve`: no secret of any of these flows appears in its log, though
    the access log recorded each request (redacted)."""
    secrets: list[str] = []
    with httpx.Client(base_url=served.base, timeout=30) as client:
        # sign-in link: opened (GET, as a mail client would) and spent
        response = client.post(
            "/signin", data={"email": "ada@example.org", "csrf_token": _csrf(client)}
        )
        assert response.status_code == 200, response.text
        link = served.last_link("ada@example.org")
        token = parse_qs(urlsplit(link).query)["token"][0]
        secrets.append(token)
        assert client.get(link).status_code == 200
        response = client.post(
            "/signin/confirm", data={"token": token, "csrf_token": _csrf(client)}
        )
        assert response.status_code in {200, 303}, response.text
        # a personal API token, shown once on the account page
        response = client.post("/account/tokens", data={"name": "t", "csrf_token": _csrf(client)})
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
            data={"email": "bob@example.org", "trending": "true", "csrf_token": _csrf(client)},
        )
        assert response.status_code == 200, response.text
        link = served.last_link("bob@example.org")
        confirm = parse_qs(urlsplit(link).query)["token"][0]
        secrets.append(confirm)
        assert client.get(link).status_code == 200
        response = client.post(
            "/subscriptions/confirm", data={"token": confirm, "csrf_token": _csrf(client)}
        )
        manage = re.search(r"/subscriptions/(\d+\.[0-9a-f]+)", response.text).group(1)
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
