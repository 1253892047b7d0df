-- The sync log (every read or write attempt) and the write-back outbox.

CREATE TABLE vanguard.sync_runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  text NOT NULL REFERENCES vanguard.organizations (id),
    direction        text NOT NULL CHECK (direction IN ('read', 'write')),
    kind             text NOT NULL CHECK (kind IN ('full', 'incremental', 'manual')),
    status           text NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
    fetched          integer NOT NULL DEFAULT 0,
    inserted         integer NOT NULL DEFAULT 0,
    updated          integer NOT NULL DEFAULT 0,
    unchanged        integer NOT NULL DEFAULT 0,
    deleted          integer NOT NULL DEFAULT 0,
    malformed        integer NOT NULL DEFAULT 0,
    failed           integer NOT NULL DEFAULT 0,
    watermark_from   timestamptz,
    watermark_to     timestamptz,
    error            text,
    detail           jsonb NOT NULL DEFAULT '{}',
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX sync_runs_recent ON vanguard.sync_runs (organization_id, started_at DESC);

CREATE TABLE vanguard.writeback_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  text NOT NULL REFERENCES vanguard.organizations (id),
    draft_id         bigint NOT NULL UNIQUE REFERENCES vanguard.pfa_draft (id),
    record_id        text NOT NULL,
    idempotency_key  uuid NOT NULL UNIQUE,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'in_flight', 'done', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX writeback_outbox_due ON vanguard.writeback_outbox (next_attempt_at) WHERE status = 'pending';
