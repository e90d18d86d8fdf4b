-- PostgreSQL's engine indexes text and vectors in the database from here on (its 0005).
-- SQLite keeps both indexes in files beside the database: nothing to change here; the
-- number keeps the two engines' schema versions in step (migrate-store compares them).
SELECT 1;
