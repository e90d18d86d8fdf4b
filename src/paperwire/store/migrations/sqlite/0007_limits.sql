-- Limits every worker shares, each kept by one atomic statement (store/limits.py): a
-- counter per (action, subject) over a window that opens at its first hit (sign-in links
-- per address, confirmation mails per address and per requester), and the next time a
-- host may be asked for something (the pace towards arXiv, across threads and processes).
CREATE TABLE rate_limits (
    action        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    window_start  TEXT NOT NULL,
    hits          INTEGER NOT NULL,
    PRIMARY KEY (action, subject)
);

CREATE TABLE host_pace (
    host     TEXT PRIMARY KEY,
    next_at  DOUBLE PRECISION NOT NULL              -- seconds since the epoch
);
