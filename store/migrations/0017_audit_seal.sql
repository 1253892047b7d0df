-- The audit ledger, sealed with a key the database never holds (store/audit_seal.py).
--
-- The sha256 chain of 0011 is rebuilt by anyone who can write the table: delete the newest
-- entries, or edit one and recompute every later hash with the database's own functions, and it
-- verifies again. The service therefore seals each entry with an HMAC-SHA256 under its own key
-- (chained over the previous seal) into nlq_audit_seal, and publishes signed chain heads that
-- outside monitors keep. The database keeps what it can do without the key: one order and the
-- sha256 link, now over the time as a UTC epoch (the row's text rendering of a timestamptz
-- follows the session's TimeZone, so another TimeZone made an intact chain look broken), and
-- the time of an entry is the database's, never the inserter's.

-- NULL: an entry chained before this migration (sha256 over its text rendering, "legacy").
ALTER TABLE vanguard.nlq_audit ADD COLUMN chain_version smallint;

CREATE FUNCTION vanguard.audit_row_hash_v2(entry vanguard.nlq_audit) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(
        coalesce(entry.prev_hash, '') || '|'
        || ((to_jsonb(entry) - 'row_hash' - 'prev_hash' - 'created_at')
            || jsonb_build_object('created_at', extract(epoch FROM entry.created_at)))::text, 'UTF8')), 'hex')
$$;

-- What 0011's hash covered: the row without the columns added since.
CREATE FUNCTION vanguard.audit_row_hash_v1(entry vanguard.nlq_audit) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(
        coalesce(entry.prev_hash, '') || '|'
        || (to_jsonb(entry) - 'row_hash' - 'prev_hash' - 'chain_version')::text, 'UTF8')), 'hex')
$$;

CREATE OR REPLACE FUNCTION vanguard.chain_audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- One writer at a time, so two concurrent inserts cannot both link to the same predecessor.
    PERFORM pg_advisory_xact_lock(hashtextextended('vanguard.nlq_audit.chain', 0));
    SELECT a.row_hash, a.chain_position + 1 INTO NEW.prev_hash, NEW.chain_position
    FROM vanguard.nlq_audit AS a ORDER BY a.chain_position DESC NULLS LAST LIMIT 1;
    NEW.chain_position := coalesce(NEW.chain_position, 1);
    NEW.created_at := now();
    NEW.chain_version := 2;
    NEW.row_hash := vanguard.audit_row_hash_v2(NEW);
    -- Delivered at commit: the service's sealer seals the entry moments after it exists.
    PERFORM pg_notify('vanguard_audit', NEW.chain_position::text);
    RETURN NEW;
END;
$$;

-- The same refusal for both ledger tables, naming the table it guards.
CREATE OR REPLACE FUNCTION vanguard.refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- One seal per chain position, written by the service only. The MAC covers the entry's content,
-- its position and the previous seal's MAC; the organization is kept beside it so an entry
-- removed after it was sealed is still known to belong to its organization.
CREATE TABLE vanguard.nlq_audit_seal (
    chain_position   bigint PRIMARY KEY,
    audit_id         bigint NOT NULL,
    organization_id  text NOT NULL,
    mac              text NOT NULL,
    sealed_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER nlq_audit_seal_append_only
    BEFORE UPDATE OR DELETE ON vanguard.nlq_audit_seal
    FOR EACH ROW EXECUTE FUNCTION vanguard.refuse_audit_change();
CREATE TRIGGER nlq_audit_seal_no_truncate
    BEFORE TRUNCATE ON vanguard.nlq_audit_seal
    FOR EACH STATEMENT EXECUTE FUNCTION vanguard.refuse_audit_change();

GRANT SELECT, INSERT ON vanguard.nlq_audit_seal TO vanguard_app;
