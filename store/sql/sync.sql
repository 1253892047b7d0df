-- name: insert_sync_run
INSERT INTO vanguard.sync_runs (organization_id, direction, kind)
VALUES (%(org)s, %(direction)s, %(kind)s)
RETURNING id;

-- name: finish_sync_run
UPDATE vanguard.sync_runs
   SET status = %(status)s, fetched = %(fetched)s, inserted = %(inserted)s, updated = %(updated)s,
       unchanged = %(unchanged)s, deleted = %(deleted)s, malformed = %(malformed)s, failed = %(failed)s,
       watermark_from = %(watermark_from)s, watermark_to = %(watermark_to)s, error = %(error)s,
       detail = %(detail)s, finished_at = clock_timestamp()
 WHERE id = %(id)s;

-- name: try_sync_lock
SELECT pg_try_advisory_lock(hashtextextended(%(key)s, 0));

-- name: release_sync_lock
SELECT pg_advisory_unlock(hashtextextended(%(key)s, 0));

-- name: get_sync_state
SELECT watermark, last_full_at FROM vanguard.sync_state WHERE organization_id = %(org)s;

-- name: note_sync_attempt
INSERT INTO vanguard.sync_state (organization_id, last_attempt_at) VALUES (%(org)s, now())
ON CONFLICT (organization_id) DO UPDATE SET last_attempt_at = now();

-- name: save_sync_state
-- The watermark is set, not raised: a run that met rows it could not read moves it back to them.
INSERT INTO vanguard.sync_state (organization_id, watermark, last_full_at, last_success_at, last_attempt_at)
VALUES (%(org)s, %(watermark)s, CASE WHEN %(full)s THEN now() END, now(), now())
ON CONFLICT (organization_id) DO UPDATE
   SET watermark = EXCLUDED.watermark,
       last_full_at = coalesce(EXCLUDED.last_full_at, vanguard.sync_state.last_full_at),
       last_success_at = now(), last_attempt_at = now();

-- name: last_read_held_back
SELECT coalesce((detail ->> 'watermark_held_back')::boolean, false)
FROM vanguard.sync_runs
WHERE organization_id = %(org)s AND direction = 'read' AND status = 'succeeded'
ORDER BY id DESC LIMIT 1;

-- name: claim_due_sync
-- Take a due organization for this process: of several processes asking at once, one gets it.
INSERT INTO vanguard.sync_state (organization_id, last_attempt_at) VALUES (%(org)s, now())
ON CONFLICT (organization_id) DO UPDATE SET last_attempt_at = now()
 WHERE vanguard.sync_state.last_attempt_at IS NULL
    OR vanguard.sync_state.last_attempt_at < now() - make_interval(secs => %(interval_seconds)s)
RETURNING organization_id;

-- name: create_seen
CREATE TEMP TABLE sync_seen (id text NOT NULL) ON COMMIT DROP;

-- name: create_staging
CREATE TEMP TABLE sync_staging (
    id              text NOT NULL,
    data            jsonb NOT NULL,
    pems_record_id  bigint
) ON COMMIT DROP;

-- name: copy_seen
COPY sync_seen (id) FROM STDIN;

-- name: copy_staging
COPY sync_staging (id, data, pems_record_id) FROM STDIN;

-- name: clear_staging
TRUNCATE sync_staging;

-- name: analyze_seen
ANALYZE sync_seen;

-- name: upsert_from_staging
-- Returns the id of every row written and whether it was new; unchanged rows are not returned.
WITH incoming AS (
    SELECT DISTINCT ON (id) id, data, pems_record_id
    FROM sync_staging
    ORDER BY id, data ->> 'lastModified' DESC
)
INSERT INTO vanguard.pfa_mirror AS m (organization_id, id, data, pems_record_id, last_synced_at, deleted_at)
SELECT %(org)s, id, data, pems_record_id, now(), NULL FROM incoming
ON CONFLICT (organization_id, id) DO UPDATE
   SET data = EXCLUDED.data, pems_record_id = EXCLUDED.pems_record_id,
       last_synced_at = EXCLUDED.last_synced_at, deleted_at = NULL
 WHERE m.data IS DISTINCT FROM EXCLUDED.data
    OR m.pems_record_id IS DISTINCT FROM EXCLUDED.pems_record_id
    OR m.deleted_at IS NOT NULL
RETURNING m.id, (xmax = 0) AS inserted;

-- name: mark_missing_deleted
WITH gone AS (
    UPDATE vanguard.pfa_mirror AS m
       SET deleted_at = now()
     WHERE m.organization_id = %(org)s
       AND m.deleted_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM sync_seen AS s WHERE s.id = m.id)
    RETURNING m.id
)
SELECT count(*) FROM gone;

-- name: count_flagged_drafts
SELECT count(*) FROM vanguard.pfa_draft
WHERE organization_id = %(org)s AND record_deleted AND state IN ('proposed', 'draft');

-- name: organizations_due
SELECT o.id
FROM vanguard.organizations AS o
LEFT JOIN vanguard.sync_state AS s ON s.organization_id = o.id
WHERE s.last_attempt_at IS NULL OR s.last_attempt_at < now() - make_interval(secs => %(interval_seconds)s)
ORDER BY s.last_attempt_at NULLS FIRST, o.id;

-- name: full_sync_due
SELECT s.last_full_at IS NULL OR s.last_full_at < now() - make_interval(secs => %(full_every_seconds)s)
FROM vanguard.organizations AS o
LEFT JOIN vanguard.sync_state AS s ON s.organization_id = o.id
WHERE o.id = %(org)s;

-- name: list_missing
SELECT m.id FROM vanguard.pfa_mirror AS m
WHERE m.organization_id = %(org)s AND m.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM sync_seen AS s WHERE s.id = m.id)
ORDER BY m.id;

-- name: count_missing
SELECT (SELECT count(*) FROM vanguard.pfa_mirror AS m
        WHERE m.organization_id = %(org)s AND m.deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM sync_seen AS s WHERE s.id = m.id)),
       (SELECT count(*) FROM vanguard.pfa_mirror
        WHERE organization_id = %(org)s AND deleted_at IS NULL);

-- name: organizations_abandoned
-- Organizations whose newest read run is unfinished and began longer than the lease ago.
SELECT s.organization_id
FROM vanguard.sync_state AS s
WHERE s.last_attempt_at < now() - make_interval(secs => %(lease_seconds)s)
  AND EXISTS (SELECT 1 FROM vanguard.sync_runs AS r
              WHERE r.organization_id = s.organization_id AND r.direction = 'read' AND r.finished_at IS NULL)
ORDER BY s.last_attempt_at, s.organization_id;

-- name: claim_abandoned_sync
-- Take over an organization whose sync was abandoned: of several processes asking at once, one gets it.
UPDATE vanguard.sync_state AS s
   SET last_attempt_at = now()
 WHERE s.organization_id = %(org)s
   AND s.last_attempt_at < now() - make_interval(secs => %(lease_seconds)s)
   AND EXISTS (SELECT 1 FROM vanguard.sync_runs AS r
               WHERE r.organization_id = s.organization_id AND r.direction = 'read' AND r.finished_at IS NULL)
RETURNING s.organization_id;

-- name: close_abandoned_runs
-- Called while holding the organization's sync lock: every other unfinished read run lost its process.
UPDATE vanguard.sync_runs
   SET status = 'failed', error = 'abandoned: the process running it stopped before it finished',
       finished_at = clock_timestamp()
 WHERE organization_id = %(org)s AND direction = 'read' AND finished_at IS NULL AND id < %(run_id)s;
