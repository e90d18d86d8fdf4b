-- Sources that fill the feed on a schedule (Hugging Face daily papers, arXiv categories),
-- what each day of each source gave, every run, and the leases that keep one runner
-- across workers and hosts. Submissions remember who listed a paper upstream.
CREATE TABLE sources (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('huggingface', 'arxiv')),
    config            TEXT NOT NULL,                 -- JSON: categories, feed rule, start day
    cursor            TEXT,                          -- ISO day: every day up to it fully harvested
    interval_seconds  INTEGER NOT NULL DEFAULT 3600,
    next_run_at       TEXT,
    failures          INTEGER NOT NULL DEFAULT 0,    -- failed runs in a row
    last_success_at   TEXT,
    last_error        TEXT,
    created_at        TEXT NOT NULL
);

-- One row per source and day harvested: how many records, and whether the day counts as
-- complete ('done'), looks short ('suspect') or could not be read ('failed').
CREATE TABLE source_days (
    source_id   INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    day         TEXT NOT NULL,
    records     INTEGER NOT NULL,
    stated      INTEGER,                              -- the count upstream announced, if any
    status      TEXT NOT NULL CHECK (status IN ('done', 'suspect', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 1,
    note        TEXT,
    checked_at  TEXT NOT NULL,
    PRIMARY KEY (source_id, day)
);

CREATE TABLE source_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id    INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    status       TEXT NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'ok', 'partial', 'failed', 'interrupted')),
    records      INTEGER NOT NULL DEFAULT 0,
    listed       INTEGER NOT NULL DEFAULT 0,
    days         INTEGER NOT NULL DEFAULT 0,
    error        TEXT
);
CREATE INDEX source_runs_source ON source_runs (source_id, id);

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

ALTER TABLE submissions ADD COLUMN upstream_source TEXT;
ALTER TABLE submissions ADD COLUMN upstream_submitter TEXT;
