-- The NL query ledger: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE for everyone,
-- the owner included) and hash-chained so tampering below the trigger is detectable.

CREATE TABLE vanguard.nlq_audit (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at        timestamptz NOT NULL DEFAULT now(),
    organization_id   text NOT NULL,
    user_id           bigint,
    kind              text NOT NULL CHECK (kind IN ('query', 'bulk')),
    question          text NOT NULL,
    provider          text,
    model             text,
    prompt_template   text,
    prompt_hash       text,
    prompt_tokens     integer,
    llm_outputs       jsonb NOT NULL DEFAULT '[]',
    attempts          jsonb NOT NULL DEFAULT '[]',
    executed_sql      text,
    scope             jsonb,
    explain_estimate  jsonb,
    verdict           text NOT NULL CHECK (verdict IN ('allowed', 'rejected', 'error')),
    error_code        text,
    row_count         integer,
    truncated         boolean,
    timings           jsonb NOT NULL DEFAULT '{}',
    detail            jsonb NOT NULL DEFAULT '{}',
    prev_hash         text,
    row_hash          text
);
CREATE INDEX nlq_audit_by_org_time ON vanguard.nlq_audit (organization_id, created_at DESC);

CREATE FUNCTION vanguard.refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'nlq_audit is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER nlq_audit_append_only
    BEFORE UPDATE OR DELETE ON vanguard.nlq_audit
    FOR EACH ROW EXECUTE FUNCTION vanguard.refuse_audit_change();
CREATE TRIGGER nlq_audit_no_truncate
    BEFORE TRUNCATE ON vanguard.nlq_audit
    FOR EACH STATEMENT EXECUTE FUNCTION vanguard.refuse_audit_change();
