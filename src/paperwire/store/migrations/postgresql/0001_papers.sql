-- Papers, their former keys, resumable state, and the change sequence the indexes follow
-- (the same tables as the SQLite engine's, in PostgreSQL's types).
CREATE TABLE papers (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- never reused
    key           TEXT NOT NULL UNIQUE,
    arxiv_id      TEXT UNIQUE,
    title_norm    TEXT NOT NULL,
    title_hash    BIGINT NOT NULL,
    title         TEXT NOT NULL,
    abstract      TEXT NOT NULL DEFAULT '',
    authors       TEXT NOT NULL DEFAULT '',
    authors_json  TEXT NOT NULL DEFAULT '[]',
    author_count  INTEGER,
    published     TEXT,
    updated       TEXT,
    year          INTEGER,
    categories    TEXT NOT NULL DEFAULT '',
    doi           TEXT,
    url           TEXT,
    code_urls     TEXT NOT NULL DEFAULT '[]',
    upvotes       INTEGER NOT NULL DEFAULT 0,
    sources       TEXT NOT NULL DEFAULT '[]',
    journal_ref   TEXT,
    comments      TEXT,
    created_at    TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    modified_at   TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    seq           BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX papers_seq ON papers (seq, id);
CREATE INDEX papers_title_hash ON papers (title_hash);
CREATE INDEX papers_published ON papers (published);

CREATE TABLE paper_aliases (
    alias     TEXT PRIMARY KEY,
    paper_id  BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE
);

CREATE TABLE sync_state (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
);

CREATE TABLE paper_tombstones (
    seq       BIGINT NOT NULL,
    paper_id  BIGINT NOT NULL
);
CREATE INDEX paper_tombstones_seq ON paper_tombstones (seq);

-- The sequence row is locked by every write that takes a number, until it commits: the
-- numbers follow commit order, so a follower never skips a late commit.
INSERT INTO sync_state (name, value) VALUES ('seq', '0');
INSERT INTO sync_state (name, value) VALUES ('store_id', replace(gen_random_uuid()::text, '-', ''));
