-- What the sync worker and write-back need beyond DESIGN section 4's tables: the PEMS update
-- counter per record (optimistic locking on write), a watermark per organization, commits, and
-- write runs in the sync log.

ALTER TABLE vanguard.pfa_mirror ADD COLUMN pems_record_id bigint;

CREATE TABLE vanguard.sync_state (
    organization_id  text PRIMARY KEY REFERENCES vanguard.organizations (id),
    watermark        timestamptz,
    last_full_at     timestamptz,
    last_success_at  timestamptz,
    last_attempt_at  timestamptz
);

CREATE TABLE vanguard.commits (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  text NOT NULL REFERENCES vanguard.organizations (id),
    user_id          bigint NOT NULL REFERENCES vanguard.users (id),
    change_set_id    bigint REFERENCES vanguard.change_sets (id),
    created_at       timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE vanguard.pfa_draft
    ADD CONSTRAINT pfa_draft_commit_fk FOREIGN KEY (commit_id) REFERENCES vanguard.commits (id);
CREATE INDEX pfa_draft_by_commit ON vanguard.pfa_draft (commit_id) WHERE commit_id IS NOT NULL;

ALTER TABLE vanguard.sync_runs DROP CONSTRAINT sync_runs_kind_check;
ALTER TABLE vanguard.sync_runs ADD CONSTRAINT sync_runs_kind_check
    CHECK (kind IN ('full', 'incremental', 'manual', 'writeback'));

GRANT SELECT, INSERT, UPDATE, DELETE ON vanguard.sync_state, vanguard.commits TO vanguard_app;
