"""What the browser tests share: Debian's Chromium (CI must have it; elsewhere its tests are
skipped), the flags it runs with here, the screenshots folder, and the app served on a
real loopback port from a thread."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from paperwire.digest.mailer import SMTPMailer
from smtp_support import SMTPServer, free_port
from support import make_site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
# Without the background-networking flags Chromium's own connections are refused by this
# closed network, many at a time.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skip the calling module without Chromium, except on CI, where it is an error."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium: .ci/run installs it")
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serving(app: Any, port: int) -> Iterator[None]:
    """The app under uvicorn on 127.0.0.1:port, in a thread, until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def axe_violations(
    page: Any, within: str | None = None, exclude: list[str] | None = None
) -> list[str]:
    """axe-core's violations as "rule (impact): selectors" lines: on the whole page, within
    one element (`within`, a CSS selector), or leaving some out (`exclude`, CSS selectors).
    The context must bypass the site's CSP for the injected script:
    `new_context(bypass_csp=True)`."""
    page.add_script_tag(path=str(AXE))
    return list(
        page.evaluate(
            """async ([within, exclude]) => {
                const target = within ? document.querySelector(within)
                    : exclude ? {exclude: exclude.map(selector => [selector])} : document;
                const result = await axe.run(target, {resultTypes: ["violations"]});
                return result.violations.map(v => v.id + " (" + v.impact + "): " +
                    v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
            }""",
            [within, exclude],
        )
    )


@contextmanager
def mailing_site(folder: Path, **settings: Any) -> Iterator[tuple[str, Any, Any]]:
    """The app on a loopback port, mailing through a real aiosmtpd server: (its base URL,
    the site, the server's inbox). `settings` go to support.make_site."""
    with SMTPServer() as smtp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        site = make_site(
            folder,
            base_url=base,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_starttls=False,
            **settings,
        )
        site.services.mailer = SMTPMailer(site.services.settings)
        with serving(site.client.app, port):
            yield base, site, smtp.inbox
