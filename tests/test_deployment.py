"""The deployment layer: one object built from Settings runs every pipeline, and
`paperwire serve` hands the whole configuration to its worker processes."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.deployment.imports import FileInput, SampleInput

SECRET = "f3d1c0ffee5eed5a1t0f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def test_serve_hands_the_configuration_file_to_its_workers(tmp_path):
    """Before: workers saw only the database URL; the file's base URL, secret key and mail
    settings were lost (links built from the default base URL, CSRF signed by another key)."""
    config = tmp_path / "site.toml"
    config.write_text(
        "[paperwire]\n"
        f'database_url = "sqlite:///{tmp_path / "site.db"}"\n'
        'base_url = "https://papers.example.org"\n'
        f'secret_key = "{SECRET}"\n'
        f'mail_dir = "{tmp_path / "mail"}"\n'
        f'cache_dir = "{tmp_path / "cache"}"\n'
        "embed_in_background = false\n",
        "utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    command = [sys.executable, "-m", "paperwire.cli", "--config", str(config)]
    subprocess.run([*command, "import", "-q", "--sample", "--list-on", "today"], env=env,
                   check=True, capture_output=True)  # fmt: skip
    port = _free_port()
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/feeds/daily.atom", server)
        for _ in range(4):  # both workers answer in turn, each must have the whole file
            feed = httpx.get(base + "/feeds/daily.atom", timeout=10)
            assert "https://papers.example.org/feeds/daily.atom" in feed.text
            page = httpx.get(base + "/signin", timeout=10)
            assert page.headers["strict-transport-security"]
            binding = page.cookies["pw_csrf"]
            expected = hmac.new(SECRET.encode(), f"csrf:{binding}".encode(), hashlib.sha256)
            found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
            assert found and found.group(1) == expected.hexdigest()
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()  # type: ignore[union-attr]


def test_one_deployment_imports_indexes_and_searches(tmp_path, fixtures):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'd.db'}",
        cache_dir=str(tmp_path / "cache"),
        mail_dir=str(tmp_path / "mail"),
    )
    seen = []
    with Deployment(settings) as deployment:
        outcome = deployment.import_sources(
            [SampleInput(), FileInput(fixtures / "snapshot_sample.jsonl")],
            list_on=datetime.now(UTC).date(),
            on_input=seen.append,
        )
        assert [i.name for i in seen] == ["sample corpus", str(fixtures / "snapshot_sample.jsonl")]
        assert outcome.total.read == 248 and outcome.failed_inputs == 0
        assert outcome.listed == 247
        hits = deployment.search("diffusion", mode="lexical", limit=3)
        assert len(hits) == 3
        assert deployment.reindex() == 247
    # A second deployment on the same files sees the same papers (the index persisted).
    with Deployment(settings) as again:
        assert again.store.count_papers() == 247
        assert again.keyword.is_current(again.store)


def test_an_unreadable_input_is_reported_and_the_rest_imports(tmp_path, fixtures):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'd.db'}", cache_dir=str(tmp_path / "cache"),
    )  # fmt: skip
    with Deployment(settings) as deployment:
        outcome = deployment.import_sources(
            [FileInput(tmp_path / "missing.bib"), FileInput(fixtures / "sample.bib")]
        )
    assert outcome.failed_inputs == 1
    assert "missing.bib" in (outcome.inputs[0].error or "")
    assert outcome.inputs[1].report is not None and outcome.inputs[1].report.read > 0


@pytest.mark.parametrize("path", [Path("src/paperwire/cli.py")])
def test_the_cli_holds_no_pipeline(path):
    """The front door parses, calls one method and prints: no store, index or engine
    is built in cli.py, and no web module is imported from it."""
    text = (Path(__file__).parents[1] / path).read_text("utf-8")
    for forbidden in ("open_store(", "keyword_index(", "vector_index(", "SearchEngine(",
                      "BackgroundIndexer(", "compose_due(", "deliver(", "transfer(",
                      "paperwire.web"):  # fmt: skip
        assert forbidden not in text, forbidden
