-- Sentence embeddings, one per paper and model, L2-normalised float32 (little endian).
CREATE TABLE paper_vectors (
    paper_id   BIGINT PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    vector     BYTEA NOT NULL,
    seq        BIGINT NOT NULL
);
CREATE INDEX paper_vectors_seq ON paper_vectors (model, seq, paper_id);
