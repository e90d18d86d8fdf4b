-- A paper keeps one vector per model (issues 30, 31): a new model's vectors are written
-- beside the old model's, which search keeps using until the new ones cover the store
-- (deployment/search.py). Before, paper_id alone was the key, so a vector of one model
-- replaced the other's. The HNSW index holds both models' rows meanwhile; a search skips
-- the other model's as its iterative scan goes on (pg_search.nearest).
ALTER TABLE paper_vectors DROP CONSTRAINT paper_vectors_pkey;
ALTER TABLE paper_vectors ADD PRIMARY KEY (paper_id, model);
