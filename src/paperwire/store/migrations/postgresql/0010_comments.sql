-- Discussion on every paper (issue 17): comments (threaded by parent, the thread's top
-- comment as root), each edit's former text, readers' reports, and reply/mention notices
-- that are mailed in batches through the outbox (one message per reader per hour at most).
CREATE TABLE comments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    paper_id    BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    parent_id   BIGINT REFERENCES comments (id) ON DELETE SET NULL,  -- the comment replied to
    root_id     BIGINT REFERENCES comments (id) ON DELETE SET NULL,  -- its thread's top comment
    body        TEXT NOT NULL,                     -- Markdown as written ('' once deleted)
    html        TEXT NOT NULL DEFAULT '',          -- body rendered and sanitised on writing
    rendered_with INTEGER NOT NULL DEFAULT 0,      -- markup.VERSION that made html
    status      TEXT NOT NULL DEFAULT 'visible'
                CHECK (status IN ('visible', 'deleted', 'hidden')),
    created_at  TEXT NOT NULL,
    edited_at   TEXT,
    hidden_by   BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX comments_paper ON comments (paper_id, id);
CREATE INDEX comments_user ON comments (user_id, id);
CREATE INDEX comments_parent ON comments (parent_id);

-- The text a comment had before each edit (kept; shown to curators).
CREATE TABLE comment_revisions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    comment_id  BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    replaced_at TEXT NOT NULL
);
CREATE INDEX comment_revisions_comment ON comment_revisions (comment_id, id);

-- One report per reader per comment; open until a curator hides or restores it.
CREATE TABLE comment_reports (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    comment_id   BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason       TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    resolved_at  TEXT,
    UNIQUE (comment_id, user_id)
);
CREATE INDEX comment_reports_open ON comment_reports (resolved_at, id);

-- A reader to tell about a reply or a mention; outbox_id is set in the transaction that
-- writes the batch holding it to the outbox.
CREATE TABLE comment_notices (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    comment_id  BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('reply', 'mention')),
    created_at  TEXT NOT NULL,
    outbox_id   BIGINT,
    UNIQUE (user_id, comment_id)
);
CREATE INDEX comment_notices_pending ON comment_notices (outbox_id, user_id);

-- Per reader: whether replies and mentions are mailed, and when the last batch was.
CREATE TABLE comment_mail (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    enabled       INTEGER NOT NULL DEFAULT 1,
    last_sent_at  TEXT
);

-- The outbox carries notification batches too: a row belongs to a subscription (digests)
-- or to a reader (comment notices, one per reader and hour: UNIQUE (user_id, period)).
ALTER TABLE outbox ALTER COLUMN subscription_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN user_id BIGINT REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE outbox ADD CONSTRAINT outbox_owner CHECK ((subscription_id IS NULL) <> (user_id IS NULL));
CREATE UNIQUE INDEX outbox_user_period ON outbox (user_id, period);
