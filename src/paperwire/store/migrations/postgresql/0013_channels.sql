-- Channels (issue 28): chat and webhook targets that get the papers of each period. A
-- channel is the operator's (owner_id NULL: instance-wide, added from the CLI) or a
-- reader's own (added on /account). Its target URL and its signing secret are sealed with
-- the instance key (channels/sealing.py); target_label is what may be shown.
CREATE TABLE channels (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            TEXT NOT NULL,
    owner_id        BIGINT REFERENCES users (id) ON DELETE CASCADE,
    frequency       TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    selection       TEXT NOT NULL CHECK (selection IN ('trending', 'query', 'collection', 'for-you')),
    query           TEXT,
    collection_id   BIGINT REFERENCES collections (id) ON DELETE CASCADE,
    reader_id       BIGINT REFERENCES users (id) ON DELETE CASCADE,   -- for-you: whose
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
-- (digests), a reader (comment notices) or a channel (one per channel and period).
ALTER TABLE outbox ADD COLUMN channel_id BIGINT REFERENCES channels (id) ON DELETE CASCADE;
ALTER TABLE outbox DROP CONSTRAINT outbox_owner;
ALTER TABLE outbox ADD CONSTRAINT outbox_owner
    CHECK (num_nonnulls(subscription_id, user_id, channel_id) = 1);
CREATE UNIQUE INDEX outbox_channel_period ON outbox (channel_id, period);
