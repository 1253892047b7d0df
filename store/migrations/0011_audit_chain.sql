-- Hash-chain the NL audit ledger: each row carries the hash of its own content and of the row
-- before it, computed by the database at insert time, so an edit made below the append-only
-- trigger (by someone who can disable it) or a deleted row is detectable by recomputing.

-- The chain's order is assigned under the chain lock (ids are drawn before it, so two concurrent
-- inserts may take the lock in the opposite order of their ids).
ALTER TABLE vanguard.nlq_audit ADD COLUMN chain_position bigint;
CREATE UNIQUE INDEX nlq_audit_chain_position ON vanguard.nlq_audit (chain_position);

CREATE FUNCTION vanguard.audit_row_hash(entry vanguard.nlq_audit) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(
        coalesce(entry.prev_hash, '') || '|' || (to_jsonb(entry) - 'row_hash' - 'prev_hash')::text, 'UTF8')), 'hex')
$$;

CREATE FUNCTION vanguard.chain_audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- One writer at a time, so two concurrent inserts cannot both link to the same predecessor.
    PERFORM pg_advisory_xact_lock(hashtextextended('vanguard.nlq_audit.chain', 0));
    SELECT a.row_hash, a.chain_position + 1 INTO NEW.prev_hash, NEW.chain_position
    FROM vanguard.nlq_audit AS a ORDER BY a.chain_position DESC NULLS LAST LIMIT 1;
    NEW.chain_position := coalesce(NEW.chain_position, 1);
    NEW.row_hash := vanguard.audit_row_hash(NEW);
    RETURN NEW;
END;
$$;

CREATE TRIGGER nlq_audit_chain
    BEFORE INSERT ON vanguard.nlq_audit
    FOR EACH ROW EXECUTE FUNCTION vanguard.chain_audit_row();
