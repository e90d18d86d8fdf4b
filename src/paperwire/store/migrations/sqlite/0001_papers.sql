-- Papers, their categories and former keys, resumable state, and the FTS5 index.
CREATE TABLE papers (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,
    arxiv_id      TEXT UNIQUE,
    title_norm    TEXT NOT NULL,
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
    modified_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX papers_title_norm ON papers (title_norm);
CREATE INDEX papers_published ON papers (published);
CREATE INDEX papers_year ON papers (year);

CREATE TABLE paper_categories (
    category  TEXT NOT NULL,
    paper_id  INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    PRIMARY KEY (category, paper_id)
) WITHOUT ROWID;
CREATE INDEX paper_categories_paper ON paper_categories (paper_id);

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

CREATE VIRTUAL TABLE papers_fts USING fts5 (
    title, abstract, authors,
    content = 'papers', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
-- Title matches count four times an abstract match, author matches twice.
INSERT INTO papers_fts (papers_fts, rank) VALUES ('rank', 'bm25(4.0, 1.0, 2.0)');

CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
    INSERT INTO papers_fts (rowid, title, abstract, authors)
    VALUES (new.id, new.title, new.abstract, new.authors);
END;
CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
    INSERT INTO papers_fts (papers_fts, rowid, title, abstract, authors)
    VALUES ('delete', old.id, old.title, old.abstract, old.authors);
END;
CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract, authors ON papers BEGIN
    INSERT INTO papers_fts (papers_fts, rowid, title, abstract, authors)
    VALUES ('delete', old.id, old.title, old.abstract, old.authors);
    INSERT INTO papers_fts (rowid, title, abstract, authors)
    VALUES (new.id, new.title, new.abstract, new.authors);
END;
