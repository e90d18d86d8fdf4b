"""A full disk (issue 19, "not yet tried"): the database and its indexes on a small tmpfs
filled to the last byte. Imports, votes, sign-ups and digest runs fail with a clear error,
nothing already stored is lost, and everything works again once space is freed.

SQLite only: the PostgreSQL test server's data directory is shared by the whole session
and cannot be moved onto a small file system for one test."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import make_site

DISK_BYTES = 16 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs, or a skip saying why there cannot be one."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"mounting a small tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> Path:
    """Fill the file system to the last byte; returns the ballast file."""
    ballast = disk / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            try:
                while os.write(fd, b"\0" * size) == size:
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    return ballast


def _cli(args: list[str], db: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PAPERWIRE_DATABASE_URL": db,
        "PAPERWIRE_CACHE_DIR": str(tmp_path / "cache"),
        "PAPERWIRE_MAIL_DIR": str(tmp_path / "mail"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    command = [sys.executable, "-c", "from paperwire.cli import main; main()", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_a_full_disk_fails_clearly_loses_nothing_and_recovers(
    small_disk: Path, tmp_path: Path, fixtures: Path
) -> None:
    db_url = f"sqlite:///{small_disk / 'site.db'}"
    site = make_site(tmp_path, database_url=db_url)
    with site.client:
        site.sign_in("ada@example.org")
        csrf = site.csrf()
        entries, _ = site.store.feed(site.clock.now.date(), site.clock.now.date(), "upvotes", 2, 0)
        first, second = (e.paper.key for e in entries)
        headers = {"X-CSRF-Token": csrf}
        assert (
            site.client.put(
                f"/api/v1/papers/{first}/vote", json={"vote": True}, headers=headers
            ).status_code
            == 200
        )
        papers_before = site.store.count_papers()
        votes_before = site.store.entry(first).upvotes

        ballast = _fill(small_disk)
        # a vote and a sign-up: 503 with a clear message, not a 500
        response = site.client.put(
            f"/api/v1/papers/{second}/vote", json={"vote": True}, headers=headers
        )
        assert response.status_code == 503, response.text
        assert "database is not available" in response.json()["detail"]
        response = site.client.post(
            "/api/v1/subscriptions",
            json={"email": "bob@example.org", "frequency": "daily", "trending": True},
            headers=headers,
        )
        assert response.status_code == 503, response.text
        # an import and a digest run: a non-zero exit naming the full disk
        imported = _cli(
            ["import", "-q", str(fixtures / "arxiv" / "api_id_2106.09685.xml")], db_url, tmp_path
        )
        assert imported.returncode != 0
        assert "full" in (imported.stderr + imported.stdout).lower(), imported.stderr
        digest = _cli(["digest", "send"], db_url, tmp_path)
        assert digest.returncode != 0 or "sent 0" in digest.stdout, digest.stderr
        # nothing stored was lost, the file is sound, reads go on
        assert site.client.get("/daily").status_code == 200
        assert site.store.count_papers() == papers_before
        assert site.store.entry(first).upvotes == votes_before
        with sqlite3.connect(small_disk / "site.db") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        ballast.unlink()  # space again: everything works
        response = site.client.put(
            f"/api/v1/papers/{second}/vote", json={"vote": True}, headers=headers
        )
        assert response.status_code == 200, response.text
        imported = _cli(
            ["import", "-q", str(fixtures / "arxiv" / "api_id_2106.09685.xml")], db_url, tmp_path
        )
        assert imported.returncode == 0, imported.stderr
        assert site.store.count_papers() == papers_before + 1
