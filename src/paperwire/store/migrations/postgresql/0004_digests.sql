-- Email digests: subscriptions (double opt-in), their saved searches, and the outbox that
-- every digest is written to before any SMTP traffic (one row per subscription and period).
CREATE TABLE subscriptions (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email               TEXT NOT NULL,                    -- lower case
    user_id             BIGINT REFERENCES users (id) ON DELETE SET NULL,
    frequency           TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    trending            INTEGER NOT NULL DEFAULT 1,
    status              TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'active', 'paused', 'unsubscribed')),
    confirm_token_hash  TEXT UNIQUE,                      -- SHA-256 of the confirmation token
    confirm_expires_at  TEXT,
    created_at          TEXT NOT NULL,
    confirmed_at        TEXT,
    last_period         TEXT,                             -- e.g. 'daily:2026-11-23'
    covered_until       TEXT,                             -- papers added up to here were considered
    permanent_failures  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX subscriptions_email ON subscriptions (email);
CREATE INDEX subscriptions_due ON subscriptions (status, frequency, id);

CREATE TABLE saved_searches (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id  BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    query            TEXT NOT NULL,
    mode             TEXT NOT NULL DEFAULT 'hybrid' CHECK (mode IN ('hybrid', 'lexical', 'semantic')),
    category         TEXT,
    year_from        INTEGER,
    year_to          INTEGER
);
CREATE INDEX saved_searches_subscription ON saved_searches (subscription_id);

CREATE TABLE outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id  BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    period           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    message          BYTEA NOT NULL,                       -- the whole RFC 5322 message
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    claimed_until    TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT,
    UNIQUE (subscription_id, period)
);
CREATE INDEX outbox_ready ON outbox (status, next_attempt_at);

CREATE INDEX papers_created ON papers (created_at);
