-- The community around the papers: accounts, sign-in links, sessions, personal API tokens,
-- upvotes and the daily feed's submissions. Secrets are stored only as SHA-256 hashes.
CREATE TABLE users (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,           -- lower case
    handle      TEXT NOT NULL UNIQUE,           -- shown on pages, in /users/<handle>
    is_curator  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

-- Single-use sign-in links: valid until expires_at, spent when used_at is set.
CREATE TABLE login_tokens (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX login_tokens_email ON login_tokens (email, created_at);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- One upvote per user per paper; counts are taken from here, so they are exact.
CREATE TABLE votes (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id    BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_id)
);
CREATE INDEX votes_paper ON votes (paper_id);

-- A paper is listed in the daily feed once: on the day it was first submitted.
CREATE TABLE submissions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    paper_id      INTEGER NOT NULL UNIQUE REFERENCES papers (id) ON DELETE CASCADE,
    day           TEXT NOT NULL,                 -- ISO date of the feed it is listed on
    user_id       BIGINT REFERENCES users (id) ON DELETE SET NULL,  -- NULL: imported
    submitted_at  TEXT NOT NULL,
    hidden        INTEGER NOT NULL DEFAULT 0,
    hidden_by     BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX submissions_day ON submissions (day, hidden);
CREATE INDEX submissions_user ON submissions (user_id);
CREATE INDEX submissions_time ON submissions (submitted_at);

-- The deployment's signing key (CSRF tokens, unsubscribe links) when the settings give
-- none: made once here, so every worker process of one deployment shares it.
INSERT INTO sync_state (name, value) VALUES ('secret_key', replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''));
