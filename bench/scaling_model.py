"""What breaks first as papers and readers grow: a projection from measured per-component
costs (docs/SCALING.md). Every input is a figure measured on this project's 2-core machine
and named by its bench/RESULTS.md section; every output is arithmetic on them, marked
"projected". Nothing here is timed.

    python bench/scaling_model.py            # the two tables of docs/SCALING.md
    python bench/scaling_model.py --json     # the same, for other scripts

Scaling rules (the assumption each projection makes, stated so it can be checked):
- sizes on disk and in memory grow linearly with papers (rows, postings, codes, vectors);
- keyword latency grows as papers ** KEYWORD_GROWTH, the exponent measured between the 1M
  store of §9 and the 2.7M store of §22 (p95 26.1 -> 51.0 ms: 0.675);
- the binary-code vector scan grows linearly with papers; re-scoring 5,000 candidates does not;
- the import's and embedding's CPU a paper is constant (measured flat from 100k to 1M, §1);
- readers: each active reader makes VIEWS page views and SEARCHES searches a day, PEAK of the
  day's requests falls in the busiest hour, and a share CACHED of page views is answered by the
  page cache (anonymous feed pages: §6)."""

from __future__ import annotations

import argparse
import json
import math

# --- measured (bench/RESULTS.md section in each comment) -----------------------------------
IMPORT_CPU_US = 297.0  # §22: 802.7 s CPU / 2.7M papers, importer + keyword indexer, flat in N
STORE_BYTES = 5_553 * 2**20 / 2.7e6 + 1_536  # §22: SQLite at 2.7M (arXiv-sized) + float32 vector
KEYWORD_INDEX_BYTES = 1_004 * 2**20 / 2.7e6  # §22: tantivy beside the store, 2.7M
VECTOR_FILE_BYTES = 786 * 2**20 / 1e6  # §8: binary codes + float16 vectors, 1M
PG_BYTES = 10_136 * 2**20 / 1e6  # §8: PostgreSQL database at 1M, all indexes
PG_HNSW_BYTES = 1_116 * 2**20 / 1e6  # §8: halfvec HNSW at 1M (should sit in shared_buffers)
PG_HNSW_BUILD_S_1M = 5.7 * 60  # §8: one HNSW build of 1M vectors
KEYWORD_P95_MS_1M = 26.1  # §9: keyword p95 at 1M, 50 benchmark queries (quiet machine)
KEYWORD_GROWTH = 0.675  # ln(51.0 / 26.1) / ln(2.7): §22's 2.7M p95 against §9's 1M
VECTOR_SCAN_MS_1M = 10.0  # §5/§6: binary Hamming scan, one thread (~1 ms per 100k)
VECTOR_RESCORE_MS = 5.0  # §6: re-scoring 5,000 candidates from float16 (7 ms at 100k, less warm)
QUERY_EMBED_MS = 3.0  # §6: one query through the model, one thread
HYBRID_P95_MS_1M = 27.3  # §9: hybrid end to end at 1M, 50 benchmark queries
HYBRID_CPU_MS = 30.0  # §6: one hybrid search's CPU at 100k (both legs, snippets, page)
EMBED_RATE = 2 / 0.0178  # §23: 2 cores / 17.8 ms CPU a paper (the 128-piece model, `paperwire
# embed`): 112 papers/s, the low end of §23's 112-153 (§22's 1.27x rate was 59.3/s)
CACHED_PAGES_RPS = 3_050.0  # §6: daily page from the page cache, 2 workers, 2 cores
UNCACHED_PAPER_RPS = 76.0  # §6: paper page built uncached at 100k, 2 workers
DIGEST_S_PER_SUBSCRIBER = 64.7 / 10_000  # §7: compose + deliver, 3 saved searches each
CORES = 2

# --- assumptions (not measured; change them here) ---------------------------------------------
VIEWS = 10  # page views a reader makes a day
SEARCHES = 2  # searches a reader makes a day
PEAK = 0.10  # share of a day's requests in its busiest hour
CACHED = 0.8  # share of page views served from the page cache
KEYWORD_GOAL_MS = 50.0  # issue 2's keyword p95 goal
HYBRID_GOAL_MS = 100.0  # issue 4's search p95 goal under load
RAM_GIB = 24.0  # this machine


def papers_row(n: float) -> dict[str, float]:
    """Projected costs of one instance of `n` papers on one 2-core, 24 GiB box."""
    m = n / 1e6
    scan = VECTOR_SCAN_MS_1M * m
    return {
        "papers": n,
        "import_cpu_h": n * IMPORT_CPU_US / 1e6 / 3600,
        "import_wall_h_2_cores": n * IMPORT_CPU_US / 1e6 / 3600 / CORES,
        "sqlite_gib": n * STORE_BYTES / 2**30,
        "keyword_index_gib": n * KEYWORD_INDEX_BYTES / 2**30,
        "vector_files_gib": n * VECTOR_FILE_BYTES / 2**30,
        "postgres_gib": n * PG_BYTES / 2**30,
        "pg_hnsw_gib": n * PG_HNSW_BYTES / 2**30,
        "pg_hnsw_build_h": PG_HNSW_BUILD_S_1M * m * max(1.0, math.log2(max(m, 1)) + 1) / 3600,
        "keyword_p95_ms": KEYWORD_P95_MS_1M * m**KEYWORD_GROWTH,
        "vector_leg_ms": scan + VECTOR_RESCORE_MS + QUERY_EMBED_MS,
        "hybrid_p95_ms": HYBRID_P95_MS_1M + (scan - VECTOR_SCAN_MS_1M)
        + KEYWORD_P95_MS_1M * (m**KEYWORD_GROWTH - 1),
        "embed_days_one_box": n / EMBED_RATE / 86_400,
    }  # fmt: skip


def readers_row(readers: float, n: float = 2.7e6) -> dict[str, float]:
    """Projected peak-hour load of `readers` daily readers on an `n`-paper instance, and the
    2-core boxes each kind of request needs (CPU-bound; the page cache per box)."""
    views = readers * VIEWS * PEAK / 3600
    searches = readers * SEARCHES * PEAK / 3600
    m = n / 1e6
    search_cpu_ms = HYBRID_CPU_MS + VECTOR_SCAN_MS_1M * m + KEYWORD_P50_MS_1M * m**KEYWORD_GROWTH
    search_capacity = CORES * 1000 / search_cpu_ms
    cached_boxes = views * CACHED / CACHED_PAGES_RPS
    uncached_boxes = views * (1 - CACHED) / UNCACHED_PAPER_RPS
    search_boxes = searches / search_capacity
    return {
        "readers": readers,
        "peak_page_views_per_s": views,
        "peak_searches_per_s": searches,
        "search_cpu_ms": search_cpu_ms,
        "boxes_for_pages": cached_boxes + uncached_boxes,
        "boxes_for_search": search_boxes,
        "boxes": math.ceil(cached_boxes + uncached_boxes + search_boxes),
        "digest_h_all_subscribed": readers * DIGEST_S_PER_SUBSCRIBER / 3600,
    }


KEYWORD_P50_MS_1M = 16.4  # §9: keyword p50 at 1M, 50 benchmark queries


def shard_fanout(shards: int, papers: float, trials: int = 20_000) -> dict[str, float]:
    """Simulated keyword latency when `papers` are split over `shards` equal shards searched
    at once (one core each) and the top 10 merged: each shard's time is drawn from a lognormal
    fitted to §9's p50 and p95 at 1M, scaled to the shard's size by KEYWORD_GROWTH; the query waits for
    the slowest shard. Returns p50 and p95 ms of the fanned-out query."""
    import numpy as np

    rng = np.random.default_rng(30)
    size = papers / shards / 1e6
    mu = math.log(KEYWORD_P50_MS_1M * size**KEYWORD_GROWTH)
    sigma = (math.log(KEYWORD_P95_MS_1M) - math.log(KEYWORD_P50_MS_1M)) / 1.6449
    draws = rng.lognormal(mu, sigma, size=(trials, shards)).max(axis=1) + 1.0  # + merge
    return {
        "shards": shards,
        "papers_per_shard_m": size,
        "p50_ms": float(np.percentile(draws, 50)),
        "p95_ms": float(np.percentile(draws, 95)),
    }


def _print_table(rows: list[dict[str, float]]) -> None:
    """Rows of one shape as a Markdown table, their keys as the header."""
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + " ---: |" * len(keys))
    for row in rows:
        print("| " + " | ".join(_fmt(row[k]) for k in keys) + " |")


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    papers = [papers_row(n) for n in (1e6, 2.7e6, 10e6, 100e6)]
    readers = [readers_row(r) for r in (1e4, 1e5, 1e6)]
    fanout = [shard_fanout(s, n) for n, s in ((10e6, 4), (10e6, 8), (100e6, 40), (100e6, 80))]
    if args.json:
        print(json.dumps({"papers": papers, "readers": readers, "fanout": fanout}, indent=1))
        return
    print("Papers (projected from measured costs; one 2-core, 24 GiB box)\n")
    _print_table(papers)
    print("\nReaders (projected; 2.7M papers; peak hour)\n")
    _print_table(readers)
    print("\nKeyword search fanned out over shards (simulated from §9's 1M distribution)\n")
    print("| papers | shards | papers a shard (M) | p50 ms | p95 ms |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for (n, _), row in zip(((10e6, 4), (10e6, 8), (100e6, 40), (100e6, 80)), fanout, strict=True):
        print(
            f"| {n:,.0f} | {row['shards']} | {row['papers_per_shard_m']:.2f} | "
            f"{row['p50_ms']:.1f} | {row['p95_ms']:.1f} |"
        )


def _fmt(value: float) -> str:
    if value >= 1e5:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


if __name__ == "__main__":
    main()
