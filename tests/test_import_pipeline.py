"""Import at parse speed (issue 30): what was made faster stores the same thing.

- A pipelined load (each batch written by a thread while the next is parsed) leaves the
  same store and the same report as the in-line load, for any mix of records and batch
  sizes; a batch refused by the store stops both the same way.
- A `paperwire import` killed while its writer thread commits leaves whole batches in a
  store that passes SQLite's integrity check, and running it again finishes the job.
- The ASCII fast path of normalise_title folds exactly as the regex does; the cached
  category check answers as the rule.
- Building a Deployment (what every command does) imports neither scipy nor scikit-learn.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperwire.ingest import Deleted, RecordError
from paperwire.ingest.load import ImportReport, load
from paperwire.models import (
    _CATEGORY_RE,
    _NON_WORD,
    Author,
    Paper,
    _category_shape,
    normalise_title,
    valid_category,
)
from paperwire.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
# Columns compared between stores: all but the write times.
_SKIP = {"created_at", "modified_at"}


def _rows(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(papers)") if r[1] not in _SKIP]
        papers = conn.execute(f"SELECT {', '.join(columns)} FROM papers ORDER BY id").fetchall()
        aliases = conn.execute(
            "SELECT alias, paper_id FROM paper_aliases ORDER BY alias"
        ).fetchall()
        tombstones = conn.execute("SELECT seq, paper_id FROM paper_tombstones ORDER BY rowid")
        seq = conn.execute("SELECT value FROM sync_state WHERE name = 'seq'").fetchone()
        return [*papers, ("aliases", *aliases), ("tombstones", *tombstones.fetchall()), seq]
    finally:
        conn.close()


def _paper(n: int, with_id: bool, variant: int) -> Paper:
    # Titles repeat across ids (n % 5), so records meet by title as well as by id; the
    # variant changes what a repeat brings (a longer abstract, another author).
    return Paper(
        title=f"Paper number {n % 5}",
        abstract=f"Abstract {n}." + " more" * variant,
        arxiv_id=f"2301.{n:05d}" if with_id else None,
        authors=[Author(f"Author {n}")] + [Author(f"Second {variant}")] * (variant % 2),
        categories=["cs.LG"] if variant % 3 else ["cs.CL", "cs.LG"],
    )


_items = st.lists(
    st.one_of(
        st.tuples(st.just("paper"), st.integers(0, 15), st.booleans(), st.integers(0, 3)),
        st.tuples(st.just("error"), st.integers(0, 0), st.booleans(), st.integers(0, 0)),
        st.tuples(st.just("deleted"), st.integers(0, 15), st.booleans(), st.integers(0, 0)),
    ),
    max_size=60,
)


def _parsed(spec):
    for kind, n, flag, variant in spec:
        if kind == "paper":
            yield _paper(n, flag, variant)
        elif kind == "error":
            yield RecordError("mix", f"record {n}", "broken")
        else:
            yield Deleted(f"2301.{n:05d}")


def _counts(report: ImportReport) -> tuple[int, ...]:
    papers = report.papers
    return (
        report.read,
        papers.inserted,
        papers.updated,
        papers.unchanged,
        report.deleted,
        report.skipped,
        report.error_count,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored=_items, incoming=_items, batch_size=st.integers(1, 9))
def test_a_pipelined_load_stores_what_the_in_line_load_stores(stored, incoming, batch_size):
    """Any mix of new papers, repeats (by id or title), merges, broken records and
    deletions, in batches of any size: the same rows, aliases, tombstones, change
    numbers and report."""
    with tempfile.TemporaryDirectory() as folder:
        results = []
        for pipelined in (False, True):
            path = Path(folder) / f"p-{pipelined}.db"
            store = SQLiteStore(f"sqlite:///{path}")
            try:
                reports = [
                    load(store, _parsed(spec), batch_size=batch_size, pipelined=pipelined)
                    for spec in (stored, incoming)
                ]
            finally:
                store.close()
            results.append(([_counts(r) for r in reports], _rows(path)))
        assert results[0] == results[1]


def _refusing_store(path: Path) -> SQLiteStore:
    """A store whose papers table refuses one title (a real SQLite trigger)."""
    store = SQLiteStore(f"sqlite:///{path}")
    with store.write() as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON papers WHEN NEW.title = 'Poison' "
            "BEGIN SELECT RAISE(ABORT, 'this title is refused'); END"
        )
    return store


@pytest.mark.parametrize("poison_at", [0, 7, 23, 29])
def test_a_refused_batch_stops_a_pipelined_load_as_it_stops_the_in_line_one(tmp_path, poison_at):
    """The batch holding the refused record is rolled back and raises; the batches before
    it stay stored and counted; nothing after it is written."""
    papers = [Paper(title=f"Paper {n}", arxiv_id=f"2301.{n:05d}") for n in range(30)]
    papers[poison_at] = Paper(title="Poison", arxiv_id=f"2301.{poison_at:05d}")
    outcomes = []
    for pipelined in (False, True):
        path = tmp_path / f"p-{pipelined}.db"
        store = _refusing_store(path)
        report = ImportReport()
        try:
            with pytest.raises(sqlite3.IntegrityError, match="this title is refused"):
                load(store, iter(papers), batch_size=5, report=report, pipelined=pipelined)
        finally:
            store.close()
        outcomes.append((_counts(report)[1:], report.stored, _rows(path), report.read))
    assert outcomes[0][:3] == outcomes[1][:3]
    assert outcomes[1][1] == poison_at // 5 * 5  # whole batches before the refused one
    # The pipelined load had parsed the next batch when the refusal reached it.
    assert outcomes[0][3] <= outcomes[1][3] <= outcomes[0][3] + 5


def _snapshot_file(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            record = {
                "id": f"2301.{n:05d}",
                "title": f"Paper number {n} on zebrafish{n} locomotion",
                "abstract": f"We study item {n} with several words about fins. " * 8,
                "authors_parsed": [["Doe", "Jane", ""], ["Roe", f"Rich{n}", ""]],
                "categories": "q-bio.NC cs.LG",
                "versions": [{"version": "v1", "created": "Mon, 2 Jan 2023 10:00:00 GMT"}],
                "update_date": "2023-01-03",
            }
            out.write(json.dumps(record) + "\n")
    return path


def test_a_killed_pipelined_import_leaves_whole_batches_and_finishes_when_run_again(tmp_path):
    """SIGKILL while the writer thread is committing: the store passes integrity_check,
    holds a whole number of batches, and the same import run again stores every paper
    once."""
    count, batch = 40_000, 500
    corpus = _snapshot_file(tmp_path / "snapshot.jsonl", count)
    db = tmp_path / "k.db"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")},
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "PAPERWIRE_DATABASE_URL": f"sqlite:///{db}",
        "PAPERWIRE_CACHE_DIR": str(tmp_path / "cache"),
        "PAPERWIRE_IMPORT_BATCH_SIZE": str(batch),
    }
    SQLiteStore(f"sqlite:///{db}").close()  # migrated: its change number before the import
    with sqlite3.connect(db) as conn:
        seq_before = int(
            conn.execute("SELECT value FROM sync_state WHERE name = 'seq'").fetchone()[0]
        )
    command = [sys.executable, "-m", "paperwire.cli", "import", "-q", str(corpus)]
    importer = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    stored = 0
    deadline = time.monotonic() + 120
    while stored < 3 * batch and time.monotonic() < deadline and importer.poll() is None:
        time.sleep(0.05)
        if db.exists():
            with sqlite3.connect(db, timeout=30) as conn:
                stored = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    assert importer.poll() is None, "the import ended before it was killed: a larger file"
    importer.send_signal(signal.SIGKILL)
    importer.wait(timeout=60)

    conn = sqlite3.connect(db, timeout=30)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        left = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        assert 0 < left < count and left % batch == 0
        seq = int(conn.execute("SELECT value FROM sync_state WHERE name = 'seq'").fetchone()[0])
        assert seq - seq_before == left // batch  # one change number a committed batch
    finally:
        conn.close()

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*), count(DISTINCT arxiv_id) FROM papers").fetchone() == (
            count,
            count,
        )
    finally:
        conn.close()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_the_ascii_title_fold_is_the_regex_fold(title):
    assert normalise_title.__wrapped__(title) == _NON_WORD.sub("-", title.lower()).strip("-")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.sampled_from(["cs.LG", "hep-ph", "math.GT", "x" * 41])))
def test_the_cached_category_check_is_the_rule(value):
    expected = len(value) <= 40 and bool(_CATEGORY_RE.match(value))
    assert valid_category(value) is expected
    assert valid_category(value) is expected  # from the cache the second time


def test_long_category_values_never_reach_the_cache():
    """A hostile record's 4 MB "category" is refused by its length, not kept."""
    before = _category_shape.cache_info().currsize
    assert not valid_category("cs." + "x" * 4_000_000)
    assert _category_shape.cache_info().currsize == before


def test_building_a_deployment_imports_neither_scipy_nor_sklearn(tmp_path):
    """They cost every command ~0.6 s CPU of start-up (a 100k import's 16 µs a paper);
    only the recommender uses them, and imports them itself."""
    code = (
        "import json, sys\n"
        "from paperwire.config import load_settings\n"
        "from paperwire.deployment import Deployment\n"
        f"Deployment(load_settings(None, database_url='sqlite:///{tmp_path / 'd.db'}')).close()\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not loaded & {"scipy", "sklearn"}


_MIX = [
    ("paper", 1, True, 0),
    ("paper", 6, False, 1),  # title "Paper number 1": meets paper 1 by title
    ("deleted", 2, True, 0),
    ("paper", 2, True, 2),
    ("error", 0, True, 0),
    ("paper", 1, True, 3),  # paper 1 again: a longer abstract, another author
    ("paper", 7, True, 1),
    ("deleted", 7, True, 0),
    ("paper", 3, False, 0),
    ("paper", 8, True, 2),
]


def test_a_pipelined_load_on_either_engine_stores_what_the_in_line_load_stores(store, tmp_path):
    """The writer thread uses the engine's own connections (PostgreSQL's pool too): the
    same papers come back, with the same report."""
    reference = SQLiteStore(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        expected = load(reference, _parsed(_MIX * 3), batch_size=4)
        wanted = sorted(reference.iter_papers(), key=lambda p: p.key)
    finally:
        reference.close()
    report = load(store, _parsed(_MIX * 3), batch_size=4, pipelined=True)
    assert _counts(report) == _counts(expected)
    assert sorted(store.iter_papers(), key=lambda p: p.key) == wanted
