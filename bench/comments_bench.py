"""A paper page with 500 comments, rendered uncached, beside the same page with none, in
the same run (issue 17; goal: p95 <= 100 ms on 2 cores). Since issue 25 a discussion is
paged (comments.PAGE_COMMENTS a page): the page timed shows the first page.

The site is the real app over a SQLite copy of the sample corpus, driven in process
through Starlette's TestClient (no network, one request at a time), the page cache off
(PAPERWIRE_PAGE_CACHE_SECONDS=0). The 500 comments are 125 threads of a top comment and
three replies, written by 50 readers, each a few lines of Markdown with inline and
display math, a link, a list and a mention. Three pages are timed, interleaved:

- "no comments": another paper of the same store;
- "500 comments": as served — each comment's HTML was rendered and sanitised when it was
  written and is read with it (markup.stored); the page is built every time;
- "500 comments, from Markdown": the stored HTML marked stale (as after a renderer
  change) and every memo emptied before each request, so every comment goes through
  markdown-it, nh3 and texmath each time (the cost the stored HTML saves).

    python bench/comments_bench.py [--requests 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from benchlib import machine, summary_ms
from paperwire import texmath
from paperwire.discussion import markup
from paperwire.web.usecases.comments import PAGE_COMMENTS
from support import make_site

BODY = (
    "Comment {n}: the bound in the second lemma, $O(n \\log n)$ for $n > {n}$, seems loose.\n\n"
    "- it assumes $\\sum_i x_i^2 \\le 1$\n- and see [the appendix](https://arxiv.org/abs/1706.03762)\n\n"
    "$$\\frac{{a_{n}}}{{b + {n}}}$$\n\n@{handle} what do you think? `code {n}`"
)


def build(folder: Path):
    site = make_site(folder, page_cache_seconds=0)
    today = site.clock.now.date()
    entries, _ = site.store.feed(today, today, "upvotes", 2)
    busy, quiet = entries[0].paper.key, entries[1].paper.key
    old = datetime(2026, 1, 1, tzinfo=UTC)
    readers = [site.store.get_or_create_user(f"r{i}@example.org", old) for i in range(50)]
    now = site.clock.now - timedelta(days=1)
    n = 0
    for thread in range(125):
        author = readers[thread % 50]
        text = BODY.format(n=n, handle=readers[(thread + 1) % 50].handle)
        top = site.store.add_comment(busy, author.id, text, now, rendered=markup.stored(text))
        n += 1
        parent = top.id
        for depth in range(3):
            writer = readers[(thread + depth + 2) % 50]
            text = BODY.format(n=n, handle=author.handle)
            made = site.store.add_comment(
                busy, writer.id, text, now, parent, rendered=markup.stored(text)
            )
            n += 1
            parent = made.id  # a reply to a reply: flattened "in reply to"
    assert len(site.store.paper_comments(busy)) == 500
    return site, busy, quiet


def stale(site, yes: bool) -> None:
    """Mark the stored HTML stale (yes) or current again."""
    with site.store.write() as conn:
        conn.execute("UPDATE comments SET rendered_with = ?", (0 if yes else markup.VERSION,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        site, busy, quiet = build(Path(folder))
        pages = {
            "no comments": (f"/papers/{quiet}", False),
            "500 comments": (f"/papers/{busy}", False),
            "500 comments, from Markdown": (f"/papers/{busy}", True),
        }
        times: dict[str, list[float]] = {name: [] for name in pages}
        with site.client:
            for path, _ in pages.values():  # warm up the app, the store, texmath's imports
                assert site.client.get(path).status_code == 200
            for _ in range(args.requests):
                for name, (path, cold) in pages.items():
                    stale(site, cold)
                    if cold:
                        markup.clear_rendered()
                        texmath.mathml.cache_clear()
                    start = time.perf_counter()
                    response = site.client.get(path)
                    times[name].append(time.perf_counter() - start)
                    assert response.status_code == 200
                    if path.endswith(busy):  # the first page of the discussion
                        assert response.text.count('class="comment') >= PAGE_COMMENTS
                        assert response.text.count("<math") >= 3 * PAGE_COMMENTS
        size = len(site.client.get(f"/papers/{busy}").content)
        print(f"machine: {machine()}")
        print(f"page with 500 comments: {size / 1024:.0f} KiB of HTML")
        print("| page | requests | p50 ms | p95 ms |")
        print("| --- | --- | --- | --- |")
        for name, seconds in times.items():
            stats = summary_ms(seconds)
            print(f"| {name} | {len(seconds)} | {stats['p50']:.1f} | {stats['p95']:.1f} |")


if __name__ == "__main__":
    main()
