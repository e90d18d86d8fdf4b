"""How long `paperwire import` of N new records keeps the user waiting, this checkout beside
a baseline checkout (e.g. the commit before imports stopped embedding inline), in one run.

    git worktree add /tmp/pw-base df8e165
    python bench/import_wait_bench.py --baseline /tmp/pw-base --sizes 1000 2000

Each import runs in its own process on a fresh SQLite file with a warm model cache (the
ONNX export is made once beforehand, so neither side pays it). Beside it: the time until
the same papers are searchable by meaning here (`paperwire embed` after the import), which
the baseline spent inside the import."""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
from pathlib import Path

from benchlib import OUT, machine, run_child
from synth import generate

HERE = Path(__file__).resolve().parents[1]


def _first(source: Path, n: int, target: Path) -> Path:
    with source.open("rb") as src, target.open("wb") as dst:
        dst.writelines(itertools.islice(src, n))
    return target


def _env(src: Path, work: Path, models: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    env.update(
        PYTHONPATH=str(src),
        PAPERWIRE_DATABASE_URL=f"sqlite:///{work / 'bench.db'}",
        PAPERWIRE_CACHE_DIR=str(models),
    )
    return env


def _paperwire(*args: str) -> list[str]:
    return [sys.executable, "-m", "paperwire.cli", *args]


def main() -> None:
    """Run the comparison and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout to compare with")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000])
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    source = OUT / "synth-wait.jsonl"
    if not source.exists():
        generate(max(args.sizes), source)
    models = OUT / "wait-models"
    sides = {"baseline": args.baseline / "src", "this": HERE / "src"}
    # Warm the model cache once (the ONNX int8 export), outside the timings.
    warm = OUT / "wait-warm"
    shutil.rmtree(warm, ignore_errors=True)
    warm.mkdir()
    run_child(_paperwire("embed", "-q"), _env(sides["this"], warm, models))
    print(f"machine: {machine()}; load: {os.getloadavg()[0]:.1f}")
    print("| N | baseline import s | this import s | ratio | this: import + embed s |")
    print("| --- | --- | --- | --- | --- |")
    for n in args.sizes:
        data = _first(source, n, OUT / f"wait-{n}.jsonl")
        seconds = {}
        for name, src in sides.items():
            work = OUT / f"wait-{name}-{n}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            done = run_child(_paperwire("import", "-q", str(data)), _env(src, work, models))
            assert done.returncode == 0, done.output
            seconds[name] = done.seconds
            if name == "this":
                embed = run_child(_paperwire("embed", "-q"), _env(src, work, models))
                seconds["embed"] = embed.seconds
        print(
            f"| {n:,} | {seconds['baseline']:.1f} | {seconds['this']:.1f} | "
            f"{seconds['baseline'] / seconds['this']:.1f}x | "
            f"{seconds['this'] + seconds['embed']:.1f} |"
        )


if __name__ == "__main__":
    main()
