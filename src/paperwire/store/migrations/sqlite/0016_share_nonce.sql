-- A collection's public link is listed on the collection (issue 27): the link is
-- derived from the site's secret and this random nonce (web.usecases.collections),
-- so the owner sees it again and a copy of the database alone does not give it.
-- share_hash stays the hash the link is looked up by; a link made before this
-- migration has no nonce (the page offers a new link).
ALTER TABLE collections ADD COLUMN share_nonce TEXT;
