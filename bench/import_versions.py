"""`paperwire import` against parse-only, for several checkouts of the code in one run.

    python bench/import_versions.py /tmp/synth-100k.jsonl \
        --version before=/work/main/src --version after=src --rounds 3

Each round runs, for every version in turn, in its own process: the snapshot parser alone
(`parse_any` over the file: the ceiling), then `Deployment.import_sources` into a fresh
SQLite file (parse, validate, merge, write, and the keyword index built by its second
process). The importing process's CPU is also given for its main thread alone (where
parsing runs; a pipelined import writes from a second thread). The import's time is
split at the moment its last batch is stored: what is left is the keyword index catching
up (the importing process waits for it). Imports never
embed; the papers left to embed are counted. Wall time, CPU time (this process and the
ones it waited for: the indexer) and peak RSS (the largest of them) come from wait4.
Peak memory by kind is sampled from /proc every 0.2 s: anonymous (the process's own
heap) apart from file-backed (files mapped in, i.e. the page cache: tantivy reads its
segments through mmap). Medians over the rounds; the ratio import / parse-only is taken
within a round, so the noise of a shared machine mostly cancels."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlib import OUT, machine

PARSE_ONLY = """
import sys
from paperwire.ingest import parse_any
n = 0
with open(sys.argv[1], 'rb') as f:
    for item in parse_any(f, sys.argv[1], 'arxiv-snapshot'):
        n += 1
print('{"n": %d}' % n)
"""

IMPORT = """
import json, os, resource, sys, threading, time
from pathlib import Path
import psutil
kinds = {}
def sample():
    # Peak anonymous (the process's own) and file-backed (mapped files: page cache) memory
    # of this process and of its keyword indexer, read from /proc every 0.2 s.
    me = psutil.Process()
    while True:
        pids = {"importer": os.getpid()}
        for child in me.children():
            try:
                if "spawn_main" in " ".join(child.cmdline()):
                    pids["indexer"] = child.pid
            except psutil.Error:
                pass
        for who, pid in pids.items():
            try:
                with open(f"/proc/{pid}/status") as status:
                    for line in status:
                        name, _, value = line.partition(":")
                        if name in ("RssAnon", "RssFile"):
                            key = f"{name[3:].lower()}_{who}_mib"
                            kinds[key] = max(kinds.get(key, 0), int(value.split()[0]) / 1024)
            except OSError:
                pass
        time.sleep(0.2)
threading.Thread(target=sample, daemon=True).start()
from paperwire.config import load_settings
from paperwire.deployment import Deployment
from paperwire.deployment.imports import FileInput
deployment = Deployment(load_settings(None, database_url='sqlite:///' + sys.argv[2]))
stored = []
started = time.perf_counter()
outcome = deployment.import_sources(
    [FileInput(Path(sys.argv[1]), 'arxiv-snapshot')],
    on_input=lambda _r: stored.append(
        (time.perf_counter(), time.thread_time(), time.process_time())),
)
ended = time.perf_counter()
deployment.close()
print(json.dumps({"n": outcome.total.read, "new": outcome.total.papers.inserted,
                  "stored_s": stored[0][0] - started, "catch_up_s": ended - stored[0][0],
                  "cpu_main_at_stored_s": stored[0][1], "cpu_self_at_stored_s": stored[0][2],
                  "to_embed": outcome.index.to_embed,
                  "cpu_self_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
                  "cpu_main_thread_s": time.thread_time(),
                  "peak_importer_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "peak_indexer_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "cpu_indexer_s": sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]),
                  **kinds}))
"""


def measured(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """`run` with the child's rusage (wait4: CPU of it and its waited-for children)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[:3]} failed: {err.decode()[-2000:]}")
    line = out.decode().strip().splitlines()[-1]
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        **json.loads(line),
    }


def anon(runs: list[dict[str, float]], who: str) -> str:
    """The median sampled peak of a process's anonymous memory, MiB ("-" when not run)."""
    values = [r[f"anon_{who}_mib"] for r in runs if f"anon_{who}_mib" in r]
    return f"{statistics.median(values):.0f}" if values else "-"


def filed(runs: list[dict[str, float]], who: str) -> str:
    """The median sampled peak of a process's file-backed memory, MiB ("-" when not run)."""
    values = [r[f"file_{who}_mib"] for r in runs if f"file_{who}_mib" in r]
    return f"{statistics.median(values):.0f}" if values else "-"


def main() -> None:
    """Run the rounds and print the medians as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--version", action="append", required=True, metavar="NAME=SRC")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--defer-keyword",
        action="store_true",
        help="no keyword indexer beside the import: the index catches up in the importing "
        "process after the last batch is stored (PAPERWIRE_BACKGROUND_INDEX_BYTES past "
        "the file's size), so 'stored at' is the import without the keyword index",
    )
    args = parser.parse_args()
    versions = dict(v.split("=", 1) for v in args.version)
    python = sys.executable
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_ in range(args.rounds):
        for name, src in versions.items():
            env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
            if args.defer_keyword:
                env["PAPERWIRE_BACKGROUND_INDEX_BYTES"] = str(10**15)
            db = OUT / f"import-versions-{name}-{args.corpus.stem}.db"
            for path in OUT.glob(f"{db.name}*"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            parse = measured([python, "-c", PARSE_ONLY, str(args.corpus)], env)
            full = measured([python, "-c", IMPORT, str(args.corpus), str(db)], env)
            full["ratio"] = parse["wall_s"] / full["wall_s"]
            full["stored_ratio"] = parse["wall_s"] / full["stored_s"]
            full["cpu_ratio"] = parse["cpu_s"] / full["cpu_s"]
            full["stored_cpu_ratio"] = parse["cpu_s"] / full["cpu_self_at_stored_s"]
            results.setdefault((name, "parse"), []).append(parse)
            results.setdefault((name, "import"), []).append(full)
            load = os.getloadavg()[0]
            print(
                json.dumps(
                    {"round": round_, "version": name, "load": load, "parse": parse, "import": full}
                ),
                flush=True,
            )
    print(f"\nmachine: {machine()}; load at the end {os.getloadavg()}\n")
    print(
        "| version | what | N | seconds | papers/s | CPU s | importer CPU s (main thread) | "
        "indexer CPU s | importer CPU at stored s (main thread) | peak RSS MiB "
        "(importer / indexer); sampled anonymous importer / indexer, indexer file-backed | "
        "stored at s | keyword catch-up s | "
        "parse / import (wall) | parse / stored-at (wall) | parse / import (CPU) | "
        "parse / stored-at (CPU) |\n" + "|---" * 16 + "|"
    )
    for (name, what), runs in results.items():

        def med(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        n = int(runs[0]["n"])
        label = "paperwire import" if what == "import" else "parse only"
        cpus = (
            f"{med('cpu_self_s'):.1f} ({med('cpu_main_thread_s'):.1f}) | "
            f"{med('cpu_indexer_s'):.1f} | "
            f"{med('cpu_self_at_stored_s'):.1f} ({med('cpu_main_at_stored_s'):.1f})"
            if what == "import"
            else "- | - | -"
        )
        peak = (
            f"{med('peak_mib'):.0f} ({med('peak_importer_mib'):.0f} / "
            f"{med('peak_indexer_mib'):.0f}); anon {anon(runs, 'importer')} / "
            f"{anon(runs, 'indexer')}, file {filed(runs, 'indexer')}"
            if what == "import"
            else f"{med('peak_mib'):.0f}"
        )
        extra = (
            f"{med('stored_s'):.1f} | {med('catch_up_s'):.1f} | {med('ratio'):.2f}x | "
            f"{med('stored_ratio'):.2f}x | {med('cpu_ratio'):.2f}x | "
            f"{med('stored_cpu_ratio'):.2f}x"
            if what == "import"
            else "- | - | - | - | - | -"
        )
        print(
            f"| {name} | {label} | {n:,} | {med('wall_s'):.1f} | {n / med('wall_s'):,.0f} | "
            f"{med('cpu_s'):.1f} | {cpus} | {peak} | {extra} |"
        )


if __name__ == "__main__":
    main()
