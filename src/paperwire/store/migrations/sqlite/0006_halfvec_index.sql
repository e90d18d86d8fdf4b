-- PostgreSQL's 0006 changes its vector index; SQLite's vector index is a file beside the
-- database. The number keeps the two engines' schema versions in step.
SELECT 1;
