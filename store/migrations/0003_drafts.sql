-- Drafts are field-level deltas beside the mirror; change sets group them (manual edits or an
-- AI bulk suggestion) so they can be reviewed and committed together.

CREATE TABLE vanguard.change_sets (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  text NOT NULL REFERENCES vanguard.organizations (id),
    user_id          bigint NOT NULL REFERENCES vanguard.users (id),
    origin           text NOT NULL CHECK (origin IN ('manual', 'ai_bulk')),
    name             text NOT NULL DEFAULT '',
    request          text,
    plan             jsonb,
    audit_id         bigint,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'committed', 'discarded')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX change_sets_by_owner ON vanguard.change_sets (organization_id, user_id, status);

CREATE TABLE vanguard.pfa_draft (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  text NOT NULL,
    user_id          bigint NOT NULL REFERENCES vanguard.users (id),
    record_id        text NOT NULL,
    change_set_id    bigint REFERENCES vanguard.change_sets (id),
    state            text NOT NULL CHECK (state IN ('proposed', 'draft', 'committed', 'synced',
                                                    'conflict', 'sync_error', 'rejected', 'discarded')),
    delta            jsonb NOT NULL CHECK (jsonb_typeof(delta) = 'object'),
    base             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(base) = 'object'),
    base_version     text,
    commit_id        bigint,
    detail           jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, record_id) REFERENCES vanguard.pfa_mirror (organization_id, id)
);

-- At most one working draft per organization, user and record; it also serves the merged view.
CREATE UNIQUE INDEX pfa_draft_one_working
    ON vanguard.pfa_draft (organization_id, user_id, record_id) WHERE state = 'draft';
CREATE INDEX pfa_draft_by_state ON vanguard.pfa_draft (organization_id, user_id, state);
CREATE INDEX pfa_draft_by_change_set ON vanguard.pfa_draft (change_set_id) WHERE change_set_id IS NOT NULL;
CREATE INDEX pfa_draft_by_record ON vanguard.pfa_draft (organization_id, record_id);
