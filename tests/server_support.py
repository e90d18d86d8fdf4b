"""`paperwire serve` as a child process for tests that need the real server: its log
in a file, its mail in a folder, and the CSRF token a form needs."""

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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from paperwire.web.security import csrf_binding, csrf_token
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


@contextmanager
def serving(tmp_path: Path, **extra: str) -> Iterator[Served]:
    """`paperwire serve` on a fresh SQLite file, with extra PAPERWIRE_* settings."""
    port = free_port()
    tmp_path.mkdir(parents=True, exist_ok=True)
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
        **{f"PAPERWIRE_{name.upper()}": value for name, value in extra.items()},
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


def csrf_of(client: httpx.Client) -> str:
    """The CSRF token a form of this client's session needs."""
    if "pw_csrf" not in client.cookies:
        client.get("/signin")
    return csrf_token(
        SECRET, csrf_binding(client.cookies["pw_csrf"], client.cookies.get("pw_session"))
    )
