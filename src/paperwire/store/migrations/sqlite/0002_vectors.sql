-- Sentence embeddings, one per paper and model, L2-normalised float32 (little endian).
-- text_hash says which title+abstract was embedded, so a changed paper is embedded again.
CREATE TABLE paper_vectors (
    paper_id   INTEGER PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    vector     BLOB NOT NULL,
    seq        INTEGER NOT NULL
);
CREATE INDEX paper_vectors_seq ON paper_vectors (model, seq, paper_id);
