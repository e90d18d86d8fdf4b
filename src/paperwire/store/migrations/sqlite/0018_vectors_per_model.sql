-- A paper keeps one vector per model (issues 30, 31): a new model's vectors are written
-- beside the old model's, which search keeps using until the new ones cover the store
-- (deployment/search.py). Before, paper_id alone was the key, so a vector of one model
-- replaced the other's. SQLite cannot change a primary key in place: the table is copied.
CREATE TABLE paper_vectors_by_model (
    paper_id   INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    vector     BLOB NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (paper_id, model)
);
INSERT INTO paper_vectors_by_model (paper_id, model, text_hash, vector, seq)
    SELECT paper_id, model, text_hash, vector, seq FROM paper_vectors;
DROP TABLE paper_vectors;
ALTER TABLE paper_vectors_by_model RENAME TO paper_vectors;
CREATE INDEX paper_vectors_seq ON paper_vectors (model, seq, paper_id);
