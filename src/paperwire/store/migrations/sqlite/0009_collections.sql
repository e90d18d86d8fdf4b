-- Collections a reader saves papers to (a "Reading list" per reader, made on first use),
-- each optionally a recommendation profile; per-reader feedback on papers. Share links
-- and profile feeds are stored only as SHA-256 hashes of their tokens.
CREATE TABLE collections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    share_hash  TEXT UNIQUE,                 -- NULL: private (the default)
    feed_hash   TEXT UNIQUE,                 -- NULL: no Atom feed of recommendations
    is_profile  INTEGER NOT NULL DEFAULT 0,
    seed        TEXT NOT NULL DEFAULT '',    -- what seeded the profile ("author:…", "import:…")
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE collection_items (
    collection_id  INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    paper_id       INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    note           TEXT NOT NULL DEFAULT '',
    position       INTEGER NOT NULL,
    added_at       TEXT NOT NULL,
    PRIMARY KEY (collection_id, paper_id)
) WITHOUT ROWID;
CREATE INDEX collection_items_paper ON collection_items (paper_id);

-- 'not_interested' (a negative for every profile of the reader; reason 'topic' or
-- 'paper') and 'seen' (shown once): never recommended again while the row exists.
CREATE TABLE feedback (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id  INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    signal    TEXT NOT NULL CHECK (signal IN ('not_interested', 'seen')),
    reason    TEXT NOT NULL DEFAULT '',
    at        TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_id, signal)
) WITHOUT ROWID;

-- An imported library's papers are found by DOI as well as by arXiv id and title.
CREATE INDEX papers_doi ON papers (lower(doi));
