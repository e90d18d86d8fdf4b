-- The HNSW index over 16-bit copies of the vectors (halfvec), its candidates re-scored on
-- the full 32-bit vectors (store/pg_search.py). Measured at 100k against float32 HNSW and
-- binary quantisation (bench/RESULTS.md §8): the same recall at twice the search breadth,
-- an index 42% smaller (what must stay in memory as the corpus grows) and inserts 55%
-- faster; binary codes of MiniLM's 384 dimensions lost too much recall (0.81 at 200).
-- halfvec needs pgvector 0.7 or later.
ALTER EXTENSION vector UPDATE;
DROP INDEX IF EXISTS paper_vectors_hnsw;
CREATE INDEX paper_vectors_hnsw ON paper_vectors
    USING hnsw ((CAST(embedding AS halfvec(384))) halfvec_cosine_ops);
