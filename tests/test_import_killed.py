"""An import killed at any moment never leaves keyword search broken: its indexing child
dies with it (it used to live on, holding the index's writer lock, so every later
import and reindex indexed nothing), and the next import, reindex and search see every
paper. A command that cannot do its work says so and exits non-zero."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

PAPERS = 12_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("killed") / "papers.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for n in range(PAPERS):
            record = {
                "format": "paperwire",
                "title": f"Paper number {n} on zebrafish{n} locomotion",
                "abstract": f"We study item {n} with several words about fins and swimming.",
            }
            out.write(json.dumps(record) + "\n")
    return path


def _command(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")},
        "PAPERWIRE_DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
        "PAPERWIRE_CACHE_DIR": str(tmp_path / "cache"),
        "PAPERWIRE_BACKGROUND_INDEX_BYTES": "1",  # every file is indexed by a second process
        "PAPERWIRE_IMPORT_BATCH_SIZE": "200",
    }
    return [sys.executable, "-m", "paperwire.cli"], env


def _wait_gone(pids: list[int], seconds: float = 15) -> list[int]:
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [
            p for p in alive if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"
        ]
        time.sleep(0.1)
    return alive


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("after", [0.0, 1.0])
def test_a_killed_import_leaves_keyword_search_working(tmp_path, big_file, sig, after):
    command, env = _command(tmp_path)
    importer = subprocess.Popen(
        [*command, "import", "-q", str(big_file)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    parent = psutil.Process(importer.pid)
    children: list[int] = []
    deadline = time.monotonic() + 60
    while not children and time.monotonic() < deadline and importer.poll() is None:
        children = [c.pid for c in parent.children(recursive=True)]
        time.sleep(0.02)
    assert children, "the import finished before its indexer started: make the file larger"
    time.sleep(after)
    importer.send_signal(sig)
    importer.wait(timeout=60)
    assert _wait_gone(children) == [], "the indexing child outlived its import"

    again = subprocess.run(
        [*command, "import", "-q", str(big_file)], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    last = PAPERS - 1
    found = subprocess.run(
        [*command, "search", "--mode", "lexical", "--json", f"zebrafish{last}"], env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert [hit["title"] for hit in json.loads(found.stdout)] == [
        f"Paper number {last} on zebrafish{last} locomotion"
    ]
    rebuilt = subprocess.run(
        [*command, "reindex", "-q"], env=env, capture_output=True, text=True, timeout=300
    )
    assert rebuilt.returncode == 0 and f"indexed {PAPERS:,} papers" in rebuilt.stdout
    stats = json.loads(
        subprocess.run(
            [*command, "stats", "--json"], env=env, capture_output=True, text=True, check=True
        ).stdout
    )
    assert stats["papers"] == PAPERS and stats["keyword_index_lag"] == 0


def test_reindex_while_another_process_writes_the_index_fails_loudly(tmp_path, fixtures):
    """A live writer holds the lock: reindex says so and exits non-zero (it used to print
    "indexed 0 papers" and exit 0)."""
    from paperwire.search.lexical import LexicalIndex

    command, env = _command(tmp_path)
    subprocess.run([*command, "import", "-q", str(fixtures / "sample.bib")], env=env, check=True)
    holder = LexicalIndex(tmp_path / "k.db.lexical").index.writer()  # this process writes
    try:
        result = subprocess.run([*command, "reindex", "-q"], env=env, capture_output=True,
                                text=True, timeout=120)  # fmt: skip
        assert result.returncode == 3
        assert "being written by another process" in result.stderr
    finally:
        del holder
