"""Import throughput and peak memory from the snapshot format, at several N.

    python bench/import_bench.py bench/out/synth-1m.jsonl --sizes 1000 100000

Beside each `paperwire import` (parse + validate + merge + SQLite with FTS5), in the same
run: parse alone (the ceiling the store could reach) and a bare executemany into a table
with no full-text index (what SQLite costs without FTS). Also the same file gzip-compressed
(parse only, and imported: decompression is streamed) and imported a second time into the
filled store (every record merged field by field against the stored paper). Each runs in
its own process so its peak memory is its own."""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import shutil
import sys
from pathlib import Path

from benchlib import OUT, machine, run_child

PARSE_ONLY = """
import sys, time
from paperwire.ingest import parse_any
n = 0
with open(sys.argv[1], 'rb') as f:
    for item in parse_any(f, sys.argv[1], 'arxiv-snapshot'):
        n += 1
print(n)
"""


def gzipped(path: Path) -> Path:
    """A gzip copy of `path` (level 6, as `gzip` makes it), cached beside it."""
    target = path.with_suffix(path.suffix + ".gz")
    if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
        with path.open("rb") as src, gzip.open(target, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    return target


BARE_SQLITE = """
import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[2], isolation_level=None)
conn.execute('PRAGMA journal_mode=WAL'); conn.execute('PRAGMA synchronous=NORMAL')
conn.execute('CREATE TABLE p (id INTEGER PRIMARY KEY, arxiv_id TEXT UNIQUE, title TEXT, abstract TEXT, authors TEXT)')
batch = []
def flush():
    conn.execute('BEGIN'); conn.executemany('INSERT INTO p (arxiv_id, title, abstract, authors) VALUES (?,?,?,?)', batch); conn.execute('COMMIT'); batch.clear()
with open(sys.argv[1], 'rb') as f:
    for line in f:
        r = json.loads(line)
        batch.append((r['id'], r['title'], r['abstract'], r['authors']))
        if len(batch) == 2000: flush()
flush()
"""


def slice_file(source: Path, n: int) -> Path:
    """The first n lines of the corpus, cached beside it."""
    target = OUT / f"{source.stem}-first-{n}.jsonl"
    if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
        with source.open("rb") as src, target.open("wb") as dst:
            dst.writelines(itertools.islice(src, n))
    return target


def main() -> None:
    """Run the three measurements at each size and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    args = parser.parse_args()
    python = sys.executable
    paperwire = str(Path(python).with_name("paperwire"))
    rows = []
    for n in args.sizes:
        data = slice_file(args.corpus, n)
        db = OUT / f"import-{n}.db"
        gz_db = OUT / f"import-gz-{n}.db"
        bare_db = OUT / f"bare-{n}.db"
        compressed = gzipped(data)
        for path in [db, gz_db, bare_db]:
            for suffix in ["", "-wal", "-shm"]:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        parse = run_child([python, "-c", PARSE_ONLY, str(data)])
        parse_gz = run_child([python, "-c", PARSE_ONLY, str(compressed)])
        bare = run_child([python, "-c", BARE_SQLITE, str(data), str(bare_db)])
        full = run_child([paperwire, "--db", f"sqlite:///{db}", "import", "-q", str(data)], env=env)
        assert full.returncode == 0, full.output
        again = run_child(
            [paperwire, "--db", f"sqlite:///{db}", "import", "-q", str(data)], env=env
        )
        assert again.returncode == 0, again.output
        full_gz = run_child(
            [paperwire, "--db", f"sqlite:///{gz_db}", "import", "-q", str(compressed)], env=env
        )
        assert full_gz.returncode == 0, full_gz.output
        for name, run in [
            ("paperwire import", full),
            ("paperwire import, .gz", full_gz),
            ("import again into the filled store (all merged)", again),
            ("parse only (baseline)", parse),
            ("parse only, .gz (baseline)", parse_gz),
            ("bare SQLite, no FTS (baseline)", bare),
        ]:
            rows.append(
                {
                    "n": n,
                    "what": name,
                    "seconds": round(run.seconds, 1),
                    "papers_per_s": round(n / run.seconds),
                    "peak_mib": round(run.peak_mib),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    print(f"\nmachine: {machine()}\n")
    print("| N | what | seconds | papers/s | peak RSS MiB |\n| --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['n']:,} | {row['what']} | {row['seconds']} | {row['papers_per_s']:,} | {row['peak_mib']} |"
        )


if __name__ == "__main__":
    main()
