-- What upstream says beyond the record (issue 29), each field with its source and read
-- time: {"summary": {"value": ..., "source": "hf-daily", "read_at": "..."}, ...}
-- (paperwire.upstream). Only trusted sources write it (models.merge_papers).
ALTER TABLE papers ADD COLUMN extras TEXT NOT NULL DEFAULT '{}';
-- The most stars of the paper's code repositories, when upstream gave them (sort:stars).
ALTER TABLE papers ADD COLUMN stars INTEGER;
-- The paper's topic slugs, '|'-delimited ("|machine-learning|diffusion-models|"), for
-- topic: filters and topic pages (paperwire.topics).
ALTER TABLE papers ADD COLUMN topics TEXT NOT NULL DEFAULT '';
-- The organization upstream files the paper under (its short name), for its page.
ALTER TABLE papers ADD COLUMN organization TEXT;
CREATE INDEX papers_organization ON papers (organization, published) WHERE organization IS NOT NULL;

-- People (issue 29). A reader follows an author (by name key, people/names.py), an
-- organization (its upstream name) or a topic (its slug): their new papers come to the
-- reader's For-you page and digests. Private: only the reader sees their follows.
CREATE TABLE follows (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('author', 'organization', 'topic')),
    target      TEXT NOT NULL,
    label       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, target)
);
-- A signed-in reader claims an author name on a paper; a curator confirms or rejects.
-- Private until confirmed (then the paper shows it and the author page is theirs).
CREATE TABLE author_claims (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id    INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    author_name TEXT NOT NULL,
    author_key  TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'confirmed', 'rejected')),
    created_at  TEXT NOT NULL,
    decided_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    decided_at  TEXT,
    UNIQUE (user_id, paper_id, author_key)
);
CREATE INDEX author_claims_status ON author_claims (status, id);
CREATE INDEX author_claims_key ON author_claims (author_key, status);
-- What a confirmed author writes on their page (rendered and sanitised as comments are;
-- a curator may hide it, as a comment).
CREATE TABLE author_profiles (
    author_key  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body        TEXT NOT NULL DEFAULT '',
    html        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'visible' CHECK (status IN ('visible', 'hidden')),
    updated_at  TEXT NOT NULL
);
