-- Papers, their categories and former keys, resumable state, and the change sequence the
-- search indexes beside the database follow (search/lexical.py, search/vectors.py).
CREATE TABLE papers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: indexes key on it
    key           TEXT NOT NULL UNIQUE,
    arxiv_id      TEXT UNIQUE,
    title_norm    TEXT NOT NULL,
    title_hash    INTEGER NOT NULL,                  -- 64-bit hash of title_norm (small index)
    title         TEXT NOT NULL,
    abstract      TEXT NOT NULL DEFAULT '',
    authors       TEXT NOT NULL DEFAULT '',          -- names joined by '; ' (indexed for search)
    authors_json  TEXT NOT NULL DEFAULT '[]',        -- [[name, affiliation|null], ...]
    author_count  INTEGER,
    published     TEXT,                              -- ISO date
    updated       TEXT,
    year          INTEGER,
    categories    TEXT NOT NULL DEFAULT '',          -- space separated, primary first
    doi           TEXT,
    url           TEXT,
    code_urls     TEXT NOT NULL DEFAULT '[]',
    upvotes       INTEGER NOT NULL DEFAULT 0,
    sources       TEXT NOT NULL DEFAULT '[]',
    journal_ref   TEXT,
    comments      TEXT,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    modified_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- The write batch that last changed this row; indexes apply rows past their watermark.
    seq           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX papers_seq ON papers (seq, id);
CREATE INDEX papers_title_hash ON papers (title_hash);
CREATE INDEX papers_published ON papers (published);

-- A paper first known by its title keeps that key as an alias once it gains an arXiv id.
CREATE TABLE paper_aliases (
    alias     TEXT PRIMARY KEY,
    paper_id  INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE sync_state (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Deleted papers, so the indexes beside the database drop them too.
CREATE TABLE paper_tombstones (
    seq       INTEGER NOT NULL,
    paper_id  INTEGER NOT NULL
);
CREATE INDEX paper_tombstones_seq ON paper_tombstones (seq);

-- The change sequence: one number per write batch, taken under the write lock.
INSERT INTO sync_state (name, value) VALUES ('seq', '0');
INSERT INTO sync_state (name, value) VALUES ('store_id', lower(hex(randomblob(16))));
