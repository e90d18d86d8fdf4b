"""A runner process killed (SIGKILL) in the middle of a harvest: a start after it finds
the dead runner's lease held until it lapses, then resumes — the day stored before the kill is
not fetched again, the interrupted run is recorded as such, the cursor reaches the end.
Real processes (tests/sources_child.py) over one SQLite file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from paperwire.store import open_store

CHILD = Path(__file__).parent / "sources_child.py"
pytestmark = pytest.mark.timeout(120)


ORIGIN = time.time()


def _child(url: str, cache: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), url, str(cache), mode, str(ORIGIN)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_killed_runner_is_resumed_by_the_next_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'site.db'}"
    killed = _child(url, tmp_path / "cache", "hang")
    assert killed.stdout is not None
    assert killed.stdout.readline().strip() == "HANGING", killed.stderr.read()  # type: ignore[union-attr]
    os.kill(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=10)  # reaped, its pipes closed
    assert killed.returncode == -signal.SIGKILL

    # A runner started before the dead one's lease (2 s here) lapses finds it held and
    # does nothing; once nobody renews it, the next start takes over.
    answers = []
    for _ in range(20):
        resumed = _child(url, tmp_path / "cache", "finish")
        out, err = resumed.communicate(timeout=60)
        assert resumed.returncode == 0, err
        answers.append(out.strip())
        if answers[-1] != "LEASE HELD":
            break
        time.sleep(0.5)
    assert all(answer == "LEASE HELD" for answer in answers[:-1])
    # The 22nd was stored before the kill and is not fetched again.
    assert answers[-1] == "ok 2024-07-23 2024-07-23 2024-07-24", err

    store = open_store(url)
    try:
        assert [r.status for r in store.source_runs("hf")] == ["ok", "interrupted"]
        assert store.feed(date(2024, 7, 22), date(2024, 7, 23))[1] == 2
    finally:
        store.close()
