-- The built-in PEMS simulator's own database (store/pems/sim_store.py). Not the app's schema and
-- not migrated with it: PEMS is a separate system that happens to keep its state on the same server.

-- name: database_exists
SELECT 1 FROM pg_database WHERE datname = %(name)s;

-- name: create_schema
-- Every writer of the simulated PEMS updates the one `state` row first and holds it until it
-- commits: writes queue there, so `version` grows in commit order and a reader that has seen
-- version N has seen every change up to N.
SELECT pg_advisory_xact_lock(hashtextextended('vanguard.pems_sim.schema', 0));
CREATE SCHEMA IF NOT EXISTS pems;
CREATE TABLE IF NOT EXISTS pems.state (
    only_row      boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version       bigint NOT NULL DEFAULT 0,
    generation    uuid NOT NULL DEFAULT gen_random_uuid(),
    seed          integer NOT NULL,
    clock_offset  interval NOT NULL DEFAULT '0 seconds',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS pems.organizations (
    code            text PRIMARY KEY,
    next_index      integer NOT NULL,
    seeded_records  integer NOT NULL
);
CREATE TABLE IF NOT EXISTS pems.records (
    organization  text NOT NULL REFERENCES pems.organizations (code),
    id            text NOT NULL,
    data          jsonb NOT NULL,
    recordid      bigint NOT NULL,
    modified      timestamptz NOT NULL,
    version       bigint NOT NULL,
    deleted       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (organization, id)
);
CREATE INDEX IF NOT EXISTS records_by_version ON pems.records (version);
CREATE TABLE IF NOT EXISTS pems.idempotency (
    key         text PRIMARY KEY,
    status      integer NOT NULL,
    body        jsonb NOT NULL,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- name: insert_state
INSERT INTO pems.state (seed) VALUES (%(seed)s) ON CONFLICT (only_row) DO NOTHING;

-- name: repeatable_read
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;

-- name: read_state
SELECT version, generation, seed, clock_offset FROM pems.state;

-- name: begin_change
-- Takes the state row until commit (see create_schema).
UPDATE pems.state SET version = version + 1 RETURNING version, generation, seed, clock_offset;

-- name: set_clock_offset
UPDATE pems.state SET clock_offset = %(offset)s RETURNING clock_offset;

-- name: advance_clock
UPDATE pems.state SET clock_offset = clock_offset + %(step)s RETURNING clock_offset;

-- name: list_organizations
SELECT code, next_index FROM pems.organizations ORDER BY code;

-- name: insert_organization
INSERT INTO pems.organizations (code, next_index, seeded_records) VALUES (%(code)s, %(next_index)s, %(records)s);

-- name: set_next_index
UPDATE pems.organizations SET next_index = %(next_index)s WHERE code = %(code)s;

-- name: copy_records
COPY pems.records (organization, id, data, recordid, modified, version) FROM STDIN;

-- name: live_records
SELECT organization, id, data, recordid, modified FROM pems.records WHERE NOT deleted;

-- name: records_changed_since
SELECT organization, id, data, recordid, modified, deleted FROM pems.records
WHERE version > %(since)s ORDER BY version;

-- name: put_record
INSERT INTO pems.records (organization, id, data, recordid, modified, version, deleted)
VALUES (%(organization)s, %(id)s, %(data)s, %(recordid)s, %(modified)s, %(version)s, false)
ON CONFLICT (organization, id) DO UPDATE
   SET data = EXCLUDED.data, recordid = EXCLUDED.recordid, modified = EXCLUDED.modified,
       version = EXCLUDED.version, deleted = false;

-- name: delete_record
UPDATE pems.records SET deleted = true, version = %(version)s WHERE organization = %(organization)s AND id = %(id)s;

-- name: find_answer
SELECT status, body FROM pems.idempotency WHERE key = %(key)s;

-- name: remember_answer
INSERT INTO pems.idempotency (key, status, body, version) VALUES (%(key)s, %(status)s, %(body)s, %(version)s)
ON CONFLICT (key) DO NOTHING;

-- name: forget_records
TRUNCATE pems.records, pems.organizations, pems.idempotency;

-- name: new_generation
-- Every process holding this PEMS in memory sees the new generation and loads it afresh.
UPDATE pems.state SET generation = gen_random_uuid(), seed = %(seed)s, clock_offset = '0 seconds'
RETURNING version, generation, seed, clock_offset;
