-- Verified examples ("golden queries"): a question and the SQL an admin approved for it, per
-- organization, retrieved by full-text search into the SQL prompt. Never rows: only the text an
-- admin saved. Answer ratings: a user's up or down on one of their own answers (an audit entry).
-- Neither references nlq_audit with a foreign key: its entries are never removed (a trigger
-- refuses it), the routes check that an entry exists in the caller's organization, and a foreign
-- key would make TRUNCATE of the ledger fail on the key instead of on the append-only trigger.

CREATE TABLE vanguard.golden_examples (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  text NOT NULL REFERENCES vanguard.organizations (id) ON DELETE CASCADE,
    source_audit_id  bigint,
    question         text NOT NULL CHECK (length(question) BETWEEN 1 AND 2000),
    sql              text NOT NULL CHECK (length(sql) BETWEEN 1 AND 8000),
    created_by       bigint REFERENCES vanguard.users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       bigint REFERENCES vanguard.users (id) ON DELETE SET NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    retired_by       bigint REFERENCES vanguard.users (id) ON DELETE SET NULL,
    retired_at       timestamptz,
    -- The question only: what a new question is compared with. The regconfig is named, so the
    -- expression is immutable and can be a stored generated column.
    search           tsvector GENERATED ALWAYS AS (to_tsvector('english', question)) STORED
);
CREATE INDEX golden_examples_search ON vanguard.golden_examples USING gin (search) WHERE retired_at IS NULL;
CREATE INDEX golden_examples_by_org ON vanguard.golden_examples (organization_id, id DESC);

-- OR of tsqueries (the built-in `||` on tsquery), so a question's words can each find an example.
CREATE AGGREGATE vanguard.tsquery_any(tsquery) (SFUNC = tsquery_or, STYPE = tsquery);

CREATE TABLE vanguard.answer_ratings (
    organization_id  text NOT NULL REFERENCES vanguard.organizations (id) ON DELETE CASCADE,
    audit_id         bigint NOT NULL,
    user_id          bigint NOT NULL REFERENCES vanguard.users (id) ON DELETE CASCADE,
    rating           text NOT NULL CHECK (rating IN ('up', 'down')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (audit_id, user_id)
);
CREATE INDEX answer_ratings_by_org ON vanguard.answer_ratings (organization_id, rating, updated_at DESC);

GRANT SELECT, INSERT, UPDATE ON vanguard.golden_examples, vanguard.answer_ratings TO vanguard_app;
REVOKE ALL ON FUNCTION vanguard.tsquery_any(tsquery) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vanguard.tsquery_any(tsquery) TO vanguard_app;
