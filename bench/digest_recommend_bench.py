"""A daily digest run with a "Recommended for you" section for every subscriber (issue 16:
10,000 subscribers in <= 5 minutes, memory flat), over 100k papers.

The corpus (made once, kept in bench/out/digest-rec-base-N.db): N synthetic papers
(bench/synth.py's bigram chain over the sample's vocabulary) with random unit vectors
stored under the embedding model's name, spread over 1,000 days of "added" times (~100
new papers a day, as bench/digest_bench.py does), the newest 100 listed on today's feed.
Each subscriber is an account with a Reading list of 10 random papers and 3 dismissed
ones, subscribed daily to the trending papers with recommendations on.

Measured in a child process each (wall time and peak RSS from wait4): composing every
due digest into the outbox and delivering it to a local aiosmtpd; for each size, the run
with recommendations and, as the baseline in the same run, the same subscribers with
trending only (the section off). The digest_bench.py corpus (web-100k.db) is not needed.

    python bench/digest_recommend_bench.py [--sizes 2500,10000] [--papers 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from aiosmtpd.controller import Controller

from benchlib import OUT, machine, run_child
from digest_bench import Counter
from synth import SampleModel

DAY = 100


def base(papers: int) -> Path:
    """The corpus, made once."""
    from paperwire.models import Paper
    from paperwire.search.embed import DEFAULT_MODEL, make_embedder
    from paperwire.search.vectors import to_bytes
    from paperwire.store.sqlite import SQLiteStore

    db = OUT / f"digest-rec-base-{papers}.db"
    if db.exists():
        return db
    OUT.mkdir(exist_ok=True)
    partial = db.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    store = SQLiteStore(f"sqlite:///{partial}")
    model = SampleModel()
    rng = np.random.default_rng(7)
    name = make_embedder(DEFAULT_MODEL, OUT / "models").name
    for start in range(0, papers, 5000):
        batch = [
            Paper(
                model.sentence(rng, 9),
                model.sentence(rng, 120),
                arxiv_id=f"{2001 + i // 90000}.{10000 + i % 90000:05d}",
            )
            for i in range(start, min(papers, start + 5000))
        ]
        store.upsert_papers(batch)
        ids = store.paper_ids([p.key for p in batch])
        vectors = rng.standard_normal((len(batch), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        blobs = to_bytes(vectors)
        store.save_vectors(name, [(ids[p.key], p, b) for p, b in zip(batch, blobs, strict=True)])
        print(f"  corpus: {start + len(batch)} papers", flush=True)
    now = datetime.now(UTC)
    with store.write() as conn:
        conn.execute(
            "UPDATE papers SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ', ?, "
            f"'-' || (({papers} - id) / {DAY}) || ' days', '-' || (id % 3600) || ' seconds')",
            (now.strftime("%Y-%m-%d %H:%M:%S"),),
        )
        newest = [
            r[0] for r in conn.execute(f"SELECT key FROM papers ORDER BY id DESC LIMIT {DAY}")
        ]
    store.submit_many(newest, now.date(), now)
    store.close()
    partial.rename(db)
    return db


def prepare(db: Path, source: Path, subscribers: int, recommended: bool) -> None:
    """A copy of the corpus with `subscribers` accounts, each subscribed."""
    from paperwire.models import Subscription
    from paperwire.store.sqlite import SQLiteStore

    for leftover in db.parent.glob(db.name + "*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    shutil.copy(source, db)
    store = SQLiteStore(f"sqlite:///{db}")
    now = datetime.now(UTC)
    rng = np.random.default_rng(subscribers)
    total = store.count_papers()
    for i in range(subscribers):
        user = store.get_or_create_user(f"s{i}@example.org", now)
        reading = store.collections_of(user.id, now)[0].id
        picks = [int(x) for x in rng.integers(1, total + 1, 13)]
        store.add_items(user.id, reading, picks[:10], now)
        for pid in picks[10:]:
            store.set_feedback(user.id, pid, "not_interested", "", now)
        store.add_subscription(
            Subscription(0, user.email, "daily", True, [], "active", now, now, user_id=user.id,
                         recommended=recommended),
            None,
            None,
        )  # fmt: skip
    store.close()


def child(db: Path, port: int) -> None:
    """The measured run (digest_bench's), plus how many papers were marked seen."""
    from digest_bench import measured_run
    from paperwire.store import open_store

    result = measured_run(db, port)
    store = open_store(f"sqlite:///{db}")
    with store.read() as conn:
        seen = conn.execute("SELECT count(*) FROM feedback WHERE signal = 'seen'").fetchone()[0]
    store.close()
    print(json.dumps({**result, "seen": seen}))


def main() -> None:
    """Prepare, measure each size, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2500,10000")
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--child", type=Path)
    parser.add_argument("--port", type=int)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.port)
        return
    print(f"machine: {machine()}; load average {os.getloadavg()}\n", flush=True)
    source = base(args.papers)
    print("| subscribers | section | compose s | deliver s | total s | sent | papers listed "
          "| marked seen | peak MiB |")  # fmt: skip
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", flush=True)
    for size in [int(s) for s in args.sizes.split(",")]:
        largest = size == max(int(s) for s in args.sizes.split(","))
        for recommended in (False, True) if largest and not args.skip_baseline else (True,):
            db = OUT / f"digest-rec-{size}.db"
            prepare(db, source, size, recommended)
            sink = Counter()
            port = 21000 + size % 10000 + os.getpid() % 1000 + int(recommended)
            controller = Controller(sink, hostname="127.0.0.1", port=port)
            controller.start()
            try:
                run = run_child([sys.executable, __file__, "--child", str(db), "--port", str(port)])
                result = json.loads(run.output.strip().splitlines()[-1])
            finally:
                controller.stop()
            label = "trending + recommended" if recommended else "baseline: trending only"
            print(
                f"| {size:,} | {label} | {result['compose_s']:.1f} | {result['deliver_s']:.1f} "
                f"| {result['compose_s'] + result['deliver_s']:.1f} | {result['sent']:,} | "
                f"{result['papers']:,} | {result['seen']:,} | {run.peak_mib:.0f} |",
                flush=True,
            )
    print(f"\nload average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
