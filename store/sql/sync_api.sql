-- name: make_due
INSERT INTO vanguard.sync_state (organization_id, last_attempt_at, last_full_at)
VALUES (%(org)s, NULL, NULL)
ON CONFLICT (organization_id) DO UPDATE
   SET last_attempt_at = NULL,
       last_full_at = CASE WHEN %(full)s THEN NULL ELSE vanguard.sync_state.last_full_at END;

-- name: recent_runs
SELECT id, direction, kind, status, fetched, inserted, updated, unchanged, deleted, malformed, failed, error,
       started_at, finished_at, extract(epoch FROM finished_at - started_at)::float8, detail ->> 'pems'
FROM vanguard.sync_runs
WHERE organization_id = %(org)s
ORDER BY id DESC
LIMIT 20;

-- name: sync_state
SELECT last_success_at, last_attempt_at, last_full_at, watermark
FROM vanguard.sync_state WHERE organization_id = %(org)s;

-- name: outbox_counts
SELECT status, count(*) FROM vanguard.writeback_outbox WHERE organization_id = %(org)s GROUP BY status;

-- name: last_success_per_org
SELECT o.id, s.last_success_at
FROM vanguard.organizations AS o
LEFT JOIN vanguard.sync_state AS s ON s.organization_id = o.id
ORDER BY o.id;
