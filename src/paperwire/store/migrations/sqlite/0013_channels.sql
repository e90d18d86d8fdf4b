-- Channels (issue 28): chat and webhook targets that get the papers of each period. A
-- channel is the operator's (owner_id NULL: instance-wide, added from the CLI) or a
-- reader's own (added on /account). Its target URL and its signing secret are sealed with
-- the instance key (channels/sealing.py); target_label is what may be shown.
CREATE TABLE channels (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL,
    owner_id        INTEGER REFERENCES users (id) ON DELETE CASCADE,
    frequency       TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    selection       TEXT NOT NULL CHECK (selection IN ('trending', 'query', 'collection', 'for-you')),
    query           TEXT,
    collection_id   INTEGER REFERENCES collections (id) ON DELETE CASCADE,
    reader_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,   -- for-you: whose
    target_kind     TEXT NOT NULL CHECK (target_kind IN ('apprise', 'webhook')),
    target_label    TEXT NOT NULL,                    -- the target without its secrets
    target_sealed   TEXT NOT NULL,                    -- the whole target URL, encrypted
    secret_sealed   TEXT,                             -- whsec_ signing secret, encrypted
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    created_at      TEXT NOT NULL,
    last_period     TEXT,                             -- e.g. 'daily:2026-11-23'
    covered_until   TEXT
);
CREATE UNIQUE INDEX channels_name ON channels (coalesce(owner_id, 0), name);
CREATE INDEX channels_due ON channels (status, frequency, id);
CREATE INDEX channels_owner ON channels (owner_id);

-- The outbox carries channel messages too: a row belongs to exactly one of a subscription
-- (digests), a reader (comment notices) or a channel (one per channel and period). SQLite
-- cannot change a CHECK, so the table is rebuilt (ids kept: comment_notices name them).
CREATE TABLE outbox_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id  INTEGER REFERENCES subscriptions (id) ON DELETE CASCADE,
    period           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    message          BLOB NOT NULL,
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    claimed_until    TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT,
    user_id          INTEGER REFERENCES users (id) ON DELETE CASCADE,
    channel_id       INTEGER REFERENCES channels (id) ON DELETE CASCADE,
    UNIQUE (subscription_id, period),
    CHECK ((subscription_id IS NOT NULL) + (user_id IS NOT NULL) + (channel_id IS NOT NULL) = 1)
);
INSERT INTO outbox_new (id, subscription_id, period, recipient, message_id, message, status,
    attempts, next_attempt_at, claimed_until, last_error, created_at, sent_at, user_id)
    SELECT id, subscription_id, period, recipient, message_id, message, status, attempts,
    next_attempt_at, claimed_until, last_error, created_at, sent_at, user_id FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_ready ON outbox (status, next_attempt_at);
CREATE UNIQUE INDEX outbox_user_period ON outbox (user_id, period);
CREATE UNIQUE INDEX outbox_channel_period ON outbox (channel_id, period);
