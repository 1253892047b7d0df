-- One mark per organization and user per statement. The marks of 0022 took DISTINCT over rows
-- that carried pg_current_wal_insert_lsn(), which is read per row: while other sessions write
-- WAL, two rows of one user could carry different positions, survive DISTINCT, and make the
-- upsert touch the same mark twice (CardinalityViolation: the whole draft save failed). The
-- position is now read once per (organization, user) after DISTINCT.
CREATE OR REPLACE FUNCTION vanguard.mark_draft_writes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO vanguard.draft_marks (organization_id, user_id, seq, lsn)
        SELECT w.organization_id, w.user_id, 1, pg_current_wal_insert_lsn()
        FROM (SELECT DISTINCT organization_id, user_id FROM old_rows) AS w
        ON CONFLICT (organization_id, user_id)
        DO UPDATE SET seq = vanguard.draft_marks.seq + 1, lsn = EXCLUDED.lsn;
    ELSE
        INSERT INTO vanguard.draft_marks (organization_id, user_id, seq, lsn)
        SELECT w.organization_id, w.user_id, 1, pg_current_wal_insert_lsn()
        FROM (SELECT DISTINCT organization_id, user_id FROM new_rows) AS w
        ON CONFLICT (organization_id, user_id)
        DO UPDATE SET seq = vanguard.draft_marks.seq + 1, lsn = EXCLUDED.lsn;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION vanguard.mark_draft_writes() FROM PUBLIC;
