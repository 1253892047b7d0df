-- Conversations in the chat: each user's questions in one organization, with what answered them,
-- so a follow-up can build on the earlier turns and a reopened conversation shows its answers.
--
-- A turn keeps the first rows of its answer (bounded by the service) for its own user's
-- re-display only; what later prompts may carry is the question and the model's own statement
-- (prompt_sql), never rows. The audit links each entry to its conversation.

CREATE TABLE vanguard.conversations (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id  text NOT NULL REFERENCES vanguard.organizations (id) ON DELETE CASCADE,
    user_id          bigint NOT NULL REFERENCES vanguard.users (id) ON DELETE CASCADE,
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    turn_count       integer NOT NULL DEFAULT 0 CHECK (turn_count >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_by_owner ON vanguard.conversations (organization_id, user_id, updated_at DESC, id);

-- The id is stable from the moment the turn starts (the stream announces it), so a rating or a
-- golden example can refer to it.
CREATE TABLE vanguard.conversation_turns (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id  uuid NOT NULL REFERENCES vanguard.conversations (id) ON DELETE CASCADE,
    position         integer NOT NULL CHECK (position >= 1),
    question         text NOT NULL,
    state            text NOT NULL DEFAULT 'running'
                     CHECK (state IN ('running', 'answered', 'failed', 'cancelled')),
    audit_id         bigint,
    reading          text,
    prompt_sql       text,
    executed_sql     text,
    explanation      text,
    summary          jsonb,
    columns          jsonb,
    rows             jsonb,
    rows_kept        integer,
    rows_cut         boolean,
    error            jsonb,
    notes            jsonb NOT NULL DEFAULT '[]',
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    UNIQUE (conversation_id, position)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON vanguard.conversations, vanguard.conversation_turns TO vanguard_app;

-- The audit's link. No foreign key: the ledger outlives a conversation its user deletes.
ALTER TABLE vanguard.nlq_audit ADD COLUMN conversation_id uuid;
CREATE INDEX nlq_audit_by_conversation ON vanguard.nlq_audit (organization_id, conversation_id)
    WHERE conversation_id IS NOT NULL;

-- The ledger's hashes cover the new column only where it is set: entries written before it
-- existed (and entries outside any conversation) hash exactly as before, and setting, changing
-- or clearing a conversation below the triggers changes the hash.
CREATE OR REPLACE FUNCTION vanguard.audit_row_hash_v2(entry vanguard.nlq_audit) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(
        coalesce(entry.prev_hash, '') || '|'
        || ((to_jsonb(entry) - 'row_hash' - 'prev_hash' - 'created_at'
             - CASE WHEN entry.conversation_id IS NULL THEN 'conversation_id' ELSE '' END)
            || jsonb_build_object('created_at', extract(epoch FROM entry.created_at)))::text, 'UTF8')), 'hex')
$$;

CREATE OR REPLACE FUNCTION vanguard.audit_row_hash_v1(entry vanguard.nlq_audit) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(
        coalesce(entry.prev_hash, '') || '|'
        || (to_jsonb(entry) - 'row_hash' - 'prev_hash' - 'chain_version'
            - CASE WHEN entry.conversation_id IS NULL THEN 'conversation_id' ELSE '' END)::text, 'UTF8')), 'hex')
$$;
