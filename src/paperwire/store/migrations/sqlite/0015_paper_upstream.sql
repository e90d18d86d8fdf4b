-- What upstream says beyond the record (issue 29), each field with its source and read
-- time: {"summary": {"value": ..., "source": "hf-daily", "read_at": "..."}, ...}
-- (paperwire.upstream). Only trusted sources write it (models.merge_papers).
ALTER TABLE papers ADD COLUMN extras TEXT NOT NULL DEFAULT '{}';
-- The most stars of the paper's code repositories, when upstream gave them (sort:stars).
ALTER TABLE papers ADD COLUMN stars INTEGER;
-- The paper's topic slugs, '|'-delimited ("|machine-learning|diffusion-models|"), for
-- topic: filters and topic pages (paperwire.topics).
ALTER TABLE papers ADD COLUMN topics TEXT NOT NULL DEFAULT '';
