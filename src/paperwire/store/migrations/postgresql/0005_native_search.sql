-- Search inside the database: a weighted tsvector (title A, authors B, abstract C) under a
-- GIN index, and the embeddings as pgvector vectors under an HNSW index (cosine).
ALTER TABLE papers ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A')
    || setweight(to_tsvector('simple', authors), 'B')
    || setweight(to_tsvector('english', abstract), 'C')
) STORED;
CREATE INDEX papers_search ON papers USING GIN (search);

CREATE EXTENSION IF NOT EXISTS vector;
ALTER TABLE paper_vectors ADD COLUMN embedding vector(384);
CREATE INDEX paper_vectors_hnsw ON paper_vectors USING hnsw (embedding vector_cosine_ops);
