-- A filtered count of the grid counts the mirror's matching records that the caller has no draft
-- of, which needs each record's id. The source and class indexes did not hold it, so a count of
-- "rental cranes" (5,000 of 50,000 records) visited 3,400 heap pages; with the id in the index it
-- is an index-only scan (20 -> 13 ms with 10,000 drafts). The new indexes replace the old ones.
CREATE INDEX pfa_mirror_source_category_id ON vanguard.pfa_mirror (organization_id, source, category, id)
    WHERE deleted_at IS NULL;
DROP INDEX vanguard.pfa_mirror_source;
CREATE INDEX pfa_mirror_class_id ON vanguard.pfa_mirror (organization_id, class, id) WHERE deleted_at IS NULL;
DROP INDEX vanguard.pfa_mirror_class;
