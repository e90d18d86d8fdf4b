"""`paperwire sources run` with no network (issue 25, defects found by hand): it took 46 s
to fail (five paced retries of each request). A host that cannot be connected to is now
tried once more, then each source says so on its own line. "No network" is played with
real sockets: every request goes through a proxy on a closed local port (connection
refused), or on an address with no route (the connect timeout)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.ingest.fetch import CONNECT_TIMEOUT_S, FetchError

SRC = Path(__file__).parents[1] / "src"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(tmp_path: Path, proxy: str, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "PAPERWIRE_CACHE_DIR": str(tmp_path / "cache"),
        "PAPERWIRE_EMBED_IN_BACKGROUND": "false",
        "HTTPS_PROXY": proxy,
        "HTTP_PROXY": proxy,
        "NO_PROXY": "",
    }
    command = [sys.executable, "-m", "paperwire.cli", "--db", f"sqlite:///{tmp_path / 'p.db'}"]
    start = time.monotonic()
    done = subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=120)
    return done, time.monotonic() - start


def test_sources_run_without_a_network_fails_fast_with_a_line_per_source(tmp_path):
    proxy = f"http://127.0.0.1:{closed_port()}"
    for source in (("huggingface",), ("arxiv", "--category", "cs.LG")):
        added, _ = _cli(tmp_path, proxy, "sources", "add", *source)
        assert added.returncode == 0, added.stderr
    # The same interpreter start, doing nothing upstream: the baseline of the timing.
    _, baseline = _cli(tmp_path, proxy, "sources", "list")
    done, seconds = _cli(tmp_path, proxy, "sources", "run", "huggingface", "arxiv")
    assert done.returncode == 1, done.stdout + done.stderr
    assert seconds - baseline < 10, f"{seconds:.1f} s against {baseline:.1f} s"
    assert "huggingface: failed" in done.stdout and "arxiv: failed" in done.stdout
    problems = [line for line in done.stderr.splitlines() if line.startswith("  ")]
    assert any("cannot connect to huggingface.co" in line for line in problems), done.stderr
    assert any("cannot connect to oaipmh.arxiv.org" in line for line in problems)
    assert all("2 attempts); is the network up?" in line for line in problems)


def test_an_unroutable_host_fails_within_the_connect_timeout(tmp_path):
    """The deployment's own client: a connect timeout of a few seconds, one retry."""
    deployment = Deployment(Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}"))
    client = deployment.arxiv
    assert client.client.timeout.connect == CONNECT_TIMEOUT_S <= 5
    # 10.255.255.1 answers nothing: the connection attempt waits out the timeout (or
    # fails at once where there is no route at all).
    client.client = httpx.Client(
        timeout=client.client.timeout, proxy="http://10.255.255.1:9", trust_env=False
    )
    start = time.monotonic()
    with pytest.raises(FetchError, match="cannot connect to export.arxiv.org"):
        client.get("https://export.arxiv.org/api/query", {"id_list": "1512.03385"})
    assert time.monotonic() - start < 2 * CONNECT_TIMEOUT_S + 5
    deployment.close()
