-- Issue 27, pages round 2.
-- A collection's description, shown on its page and on its shared page ('' when none).
ALTER TABLE collections ADD COLUMN description TEXT NOT NULL DEFAULT '';

-- /for-you keeps one list a day per profile: the papers recommended on the reader's
-- first visit of the day, in order, shown again on every visit that day (issue 27: it
-- changed on every reload). Only the latest day's list of a profile is kept.
CREATE TABLE for_you_days (
    collection_id  BIGINT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    day            TEXT NOT NULL,      -- YYYY-MM-DD, the site's clock (UTC)
    position       INTEGER NOT NULL,
    paper_id       BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    PRIMARY KEY (collection_id, day, paper_id)
);
CREATE INDEX for_you_days_paper ON for_you_days (paper_id);
