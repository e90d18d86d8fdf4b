"""Every benchmark, in order, with the commands bench/RESULTS.md quotes (long: ~2.5 hours at 1M).

python bench/run_all.py            # or: make bench
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out"


def run(*args: str, log_name: str | None = None) -> None:
    """One benchmark, its output teed into bench/out/<log_name or script name>.log."""
    name = log_name or Path(args[0]).stem
    print(f"== {' '.join(args)}", flush=True)
    with (OUT / f"{name}.log").open("w") as log:
        proc = subprocess.run(
            [sys.executable, *args],
            cwd=HERE.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        log.write(proc.stdout)
    print(proc.stdout[-3000:], flush=True)
    if proc.returncode:
        raise SystemExit(f"{name} failed ({proc.returncode})")


def main() -> None:
    """Synthetic corpus, import, keyword search, embeddings, quality, vectors, web load,
    digests, then PostgreSQL beside SQLite."""
    OUT.mkdir(exist_ok=True)
    corpus = OUT / "synth-1m.jsonl"
    if not corpus.exists():
        run("bench/synth.py", "1000000", "-o", str(corpus))
    run("bench/import_bench.py", str(corpus), "--sizes", "100000", "1000000")
    db = OUT / "import-1000000.db"
    run(
        "bench/keyword_bench.py",
        "--db",
        str(db),
        "--corpus",
        str(OUT / "synth-1m-first-1000000.jsonl"),
    )
    run("bench/embed_bench.py")
    run("eval/run.py", "--choose-alpha")
    run("bench/vector_bench.py", "--db", str(db))
    run("bench/web_bench.py")  # needs wrk (apt-get install wrk)
    run("bench/digest_bench.py")
    run("bench/pg_vector_bench.py", "--n", "100000")
    run("bench/pg_bench.py", "--n", "1000000", log_name="pg-bench-1m")
    run("bench/pg_footprint.py", "--n", "1000000", log_name="pg-footprint-1m")
    run("bench/web_bench.py", "--engine", "sqlite", "postgresql", log_name="web-bench-both")


if __name__ == "__main__":
    main()
