"""One daily digest run at scale: N subscribers with 3 saved searches each (half of them
also trending) over the 100k-paper corpus, composed into the outbox and delivered to a
local aiosmtpd; wall time and peak memory of the run (a child process), for several N
to show memory flat in the number of subscribers. Baseline in the same run: the same
number of messages of the same size pushed through smtplib on one connection (the floor
the SMTP part cannot beat).

The corpus is bench/out/web-100k.db (web_bench.py makes it: 100k papers listed 100 a day,
synthetic vectors); its papers are spread over 1,000 days of "added" times, so a daily
window holds ~100 new papers. Queries: 3,000 distinct texts (the 36 evaluation queries
and word pairs drawn from the corpus titles), each subscriber taking 3 at random.

    python bench/digest_bench.py [--sizes 2500,5000,10000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import smtplib
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller

from benchlib import OUT, machine, run_child

SOURCE = OUT / "web-100k.db"
QUERIES = 3000


class Counter:
    """An SMTP sink that counts what it accepts."""

    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.count += 1
        self.bytes += len(envelope.content)
        return "250 OK"


def prepare(db: Path, subscribers: int) -> None:
    """A copy of the corpus with `subscribers` active subscriptions."""
    for leftover in db.parent.glob(db.name + "*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    shutil.copy(SOURCE, db)
    for suffix in (".lexical",):
        if Path(f"{SOURCE}{suffix}").exists():
            shutil.copytree(f"{SOURCE}{suffix}", f"{db}{suffix}")
    vectors = next(SOURCE.parent.glob(SOURCE.name + ".vectors-*"), None)
    if vectors:
        shutil.copytree(vectors, db.parent / (db.name + vectors.name[len(SOURCE.name) :]))
    rng = random.Random(11)
    now = datetime.now(UTC)
    with sqlite3.connect(db) as conn:
        # Spread the corpus over 1,000 days of "added" times: ~100 new papers a day.
        conn.execute(
            "UPDATE papers SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ', ?, "
            "'-' || ((id - 1) / 100) || ' days', '-' || (id % 86400) || ' seconds')",
            (now.strftime("%Y-%m-%d %H:%M:%S"),),
        )
        titles = [
            row[0] for row in conn.execute("SELECT title FROM papers ORDER BY random() LIMIT 5000")
        ]
        words = sorted({w.lower() for t in titles for w in t.split() if len(w) > 5 and w.isalpha()})
        judged = [q["text"] for q in json.loads(Path("eval/judgments.json").read_text())["queries"]]
        pool = list(
            dict.fromkeys(
                judged + [f"{rng.choice(words)} {rng.choice(words)}" for _ in range(QUERIES * 2)]
            )
        )[:QUERIES]
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        for i in range(subscribers):
            sid = conn.execute(
                "INSERT INTO subscriptions (email, frequency, trending, status, created_at, confirmed_at) "
                "VALUES (?, 'daily', ?, 'active', ?, ?) RETURNING id",
                (f"s{i}@example.org", i % 2, stamp, stamp),
            ).fetchone()[0]
            conn.executemany(
                "INSERT INTO saved_searches (subscription_id, query, mode) VALUES (?, ?, 'hybrid')",
                [(sid, q) for q in rng.sample(pool, 3)],
            )


def measured_run(db: Path, port: int) -> dict[str, float | int]:
    """Compose every due digest of the store at `db`, deliver the outbox to the SMTP
    server on `port`; the seconds of each step and what was done."""
    from paperwire.config import Settings
    from paperwire.digest.mailer import SMTPMailer
    from paperwire.digest.run import compose_due
    from paperwire.digest.send import deliver
    from paperwire.search.embed import DEFAULT_MODEL, make_embedder
    from paperwire.store import open_store
    from paperwire.tokens import signing_key

    settings = Settings(
        database_url=f"sqlite:///{db}", smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
        embedding_model=DEFAULT_MODEL, cache_dir=str(OUT / "models"),
    )  # fmt: skip
    store = open_store(settings.database_url)
    embedder = make_embedder(DEFAULT_MODEL, OUT / "models")
    started = time.perf_counter()
    report = compose_due(
        store,
        settings,
        signing_key(settings, store),
        embedder=embedder,
        frequency="daily",
        now=datetime.now(UTC),
    )
    composed = time.perf_counter()
    sent = deliver(store, SMTPMailer(settings), lambda: datetime.now(UTC), batch=200)
    done = time.perf_counter()
    store.close()
    return {"compose_s": composed - started, "deliver_s": done - composed,
            "due": report.due, "queued": report.queued, "papers": report.papers,
            "sent": sent.sent}  # fmt: skip


def child(db: Path, port: int) -> None:
    """The measured run, printed as one JSON line for the parent."""
    print(json.dumps(measured_run(db, port)))


def baseline(port: int, count: int, size: int) -> float:
    """Seconds to push `count` messages of `size` bytes through smtplib, one connection."""
    line = b"x" * 76 + b"\r\n"
    text = line * (size // len(line) + 1)
    body = b"Subject: x\r\nFrom: a@example.org\r\nTo: b@example.org\r\n\r\n" + text
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(count):
            smtp.sendmail("a@example.org", ["b@example.org"], body)
    return time.perf_counter() - started


def main() -> None:
    """Prepare, measure each size, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2500,5000,10000")
    parser.add_argument("--child", type=Path)
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.port)
        return
    if not SOURCE.exists():
        raise SystemExit(f"run bench/web_bench.py first: it makes {SOURCE}")
    print(f"machine: {machine()}\n")
    print("| subscribers | compose s | deliver s | total s | digests sent | papers listed "
          "| peak MiB | baseline: smtplib alone, same count and size, s |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in [int(s) for s in args.sizes.split(",")]:
        db = OUT / f"digest-{size}.db"
        prepare(db, size)
        sink = Counter()
        port = 20000 + size % 10000 + os.getpid() % 1000
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            run = run_child([sys.executable, __file__, "--child", str(db), "--port", str(port)])
            result = json.loads(run.output.strip().splitlines()[-1])
            average = sink.bytes // max(1, sink.count)
            floor = baseline(port, result["sent"], average)
        finally:
            controller.stop()
        print(
            f"| {size:,} | {result['compose_s']:.1f} | {result['deliver_s']:.1f} | "
            f"{result['compose_s'] + result['deliver_s']:.1f} | {result['sent']:,} | "
            f"{result['papers']:,} | {run.peak_mib:.0f} | {floor:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
