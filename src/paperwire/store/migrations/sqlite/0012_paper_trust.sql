-- Trust (issue 25): a paper is confirmed when a trusted source brought it (a harvest, the
-- Hugging Face sync, the operator's import) or a curator confirmed it. A record only
-- readers sent is unconfirmed: out of the public feed, search, feeds, digests and the
-- API, seen only by the readers who sent it (their submissions, their collections) and
-- by curators. models.merge_papers holds the rule.
ALTER TABLE papers ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1;
-- Papers typed in by hand on /submit/manual were readers' records alone: unconfirmed now.
-- They take a new change number, so the keyword index beside the store drops them.
UPDATE sync_state SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE name = 'seq';
UPDATE papers SET confirmed = 0,
    seq = (SELECT CAST(value AS INTEGER) FROM sync_state WHERE name = 'seq')
    WHERE sources = '["manual"]';
DELETE FROM paper_vectors WHERE paper_id IN (SELECT id FROM papers WHERE confirmed = 0);
-- The curators' queue (few rows: a partial index).
CREATE INDEX papers_unconfirmed ON papers (id) WHERE confirmed = 0;
