-- Read-your-drafts on a streaming replica. Every statement that writes a user's drafts bumps that
-- user's mark in the same transaction, so the mark and the drafts become visible together: on a
-- replica, the mark at least as high as on the primary proves the drafts are replayed too. The
-- WAL position is kept beside it for reporting (lag in bytes), not for the decision, because the
-- commit record that makes a transaction visible comes after any position read inside it.

CREATE TABLE vanguard.draft_marks (
    organization_id  text NOT NULL,
    user_id          bigint NOT NULL,
    seq              bigint NOT NULL,
    lsn              pg_lsn NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);

CREATE FUNCTION vanguard.mark_draft_writes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO vanguard.draft_marks (organization_id, user_id, seq, lsn)
        SELECT DISTINCT organization_id, user_id, 1, pg_current_wal_insert_lsn() FROM old_rows
        ON CONFLICT (organization_id, user_id)
        DO UPDATE SET seq = vanguard.draft_marks.seq + 1, lsn = EXCLUDED.lsn;
    ELSE
        INSERT INTO vanguard.draft_marks (organization_id, user_id, seq, lsn)
        SELECT DISTINCT organization_id, user_id, 1, pg_current_wal_insert_lsn() FROM new_rows
        ON CONFLICT (organization_id, user_id)
        DO UPDATE SET seq = vanguard.draft_marks.seq + 1, lsn = EXCLUDED.lsn;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION vanguard.mark_draft_writes() FROM PUBLIC;

CREATE TRIGGER pfa_draft_mark_insert AFTER INSERT ON vanguard.pfa_draft
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vanguard.mark_draft_writes();
CREATE TRIGGER pfa_draft_mark_update AFTER UPDATE ON vanguard.pfa_draft
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vanguard.mark_draft_writes();
CREATE TRIGGER pfa_draft_mark_delete AFTER DELETE ON vanguard.pfa_draft
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION vanguard.mark_draft_writes();

GRANT SELECT ON vanguard.draft_marks TO vanguard_app;

-- What the reader may learn on a replica: its own mark (for the organization and user its
-- transaction is scoped to, 0 when none) and how far the server has replayed. Nothing else.
CREATE FUNCTION nlq.my_draft_mark() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT seq FROM vanguard.draft_marks
                     WHERE organization_id = vanguard.current_org() AND user_id = vanguard.current_app_user()), 0)
$$;

CREATE FUNCTION nlq.replay_position(OUT in_recovery boolean, OUT replay_lsn pg_lsn, OUT replayed_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), pg_last_xact_replay_timestamp()
$$;

REVOKE ALL ON FUNCTION nlq.my_draft_mark(), nlq.replay_position() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nlq.my_draft_mark(), nlq.replay_position() TO vanguard_app, vanguard_reader;
