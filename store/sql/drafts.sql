-- name: lock_mirror_records
SELECT id, data FROM vanguard.pfa_mirror
WHERE organization_id = %(org)s AND id = ANY(%(ids)s) AND deleted_at IS NULL
ORDER BY id
FOR SHARE;

-- name: lock_working_drafts_of_records
SELECT record_id, id, delta, base FROM vanguard.pfa_draft
WHERE organization_id = %(org)s AND user_id = %(user_id)s AND record_id = ANY(%(ids)s) AND state = 'draft'
ORDER BY record_id
FOR UPDATE;

-- name: insert_working_drafts
-- One statement for a whole batch (arrays in step): a row per statement cost 0.65 ms, set-based 0.05 ms.
INSERT INTO vanguard.pfa_draft (organization_id, user_id, record_id, change_set_id, state, delta, base)
SELECT %(org)s, %(user_id)s, w.record_id, %(change_set_id)s, 'draft', w.delta, w.base
  FROM unnest(%(record_ids)s::text[], %(deltas)s::jsonb[], %(bases)s::jsonb[]) AS w (record_id, delta, base);

-- name: update_working_drafts
UPDATE vanguard.pfa_draft AS d
   SET delta = w.delta, base = w.base, change_set_id = coalesce(%(change_set_id)s, d.change_set_id),
       updated_at = now()
  FROM unnest(%(ids)s::bigint[], %(deltas)s::jsonb[], %(bases)s::jsonb[]) AS w (id, delta, base)
 WHERE d.id = w.id;

-- name: discard_drafts_by_ids
UPDATE vanguard.pfa_draft SET state = 'discarded', updated_at = now() WHERE id = ANY(%(ids)s::bigint[]);

-- name: discard_draft_by_id
UPDATE vanguard.pfa_draft SET state = 'discarded', updated_at = now() WHERE id = %(id)s;

-- name: change_set_of_user
SELECT id FROM vanguard.change_sets
WHERE id = %(change_set_id)s AND organization_id = %(org)s AND user_id = %(user_id)s AND status = 'open';

-- name: list_drafts
SELECT d.id, d.record_id, d.state, d.delta, d.base, d.change_set_id, d.commit_id, d.detail, d.updated_at
FROM vanguard.pfa_draft AS d
WHERE d.organization_id = %(org)s AND d.user_id = %(user_id)s AND d.state = ANY(%(states)s)
ORDER BY d.updated_at DESC, d.id DESC
LIMIT %(limit)s;

-- name: discard_working_drafts
UPDATE vanguard.pfa_draft
   SET state = 'discarded', updated_at = now()
 WHERE organization_id = %(org)s AND user_id = %(user_id)s AND state = 'draft'
   AND (%(change_set_id)s::bigint IS NULL OR change_set_id = %(change_set_id)s::bigint)
   AND (%(record_ids)s::text[] IS NULL OR record_id = ANY(%(record_ids)s::text[]))
RETURNING record_id;

-- name: commit_status
SELECT d.record_id, d.state, d.detail, d.updated_at
FROM vanguard.pfa_draft AS d
WHERE d.organization_id = %(org)s AND d.user_id = %(user_id)s AND d.commit_id = %(commit_id)s
ORDER BY d.record_id;

-- name: conflict_draft
SELECT d.id, d.delta, m.data
FROM vanguard.pfa_draft AS d
JOIN vanguard.pfa_mirror AS m ON m.organization_id = d.organization_id AND m.id = d.record_id
WHERE d.organization_id = %(org)s AND d.user_id = %(user_id)s AND d.record_id = %(record_id)s
  AND d.state = 'conflict'
ORDER BY d.updated_at DESC
LIMIT 1
FOR UPDATE OF d;

-- name: has_working_draft
SELECT 1 FROM vanguard.pfa_draft
WHERE organization_id = %(org)s AND user_id = %(user_id)s AND record_id = %(record_id)s AND state = 'draft';

-- name: reopen_draft
UPDATE vanguard.pfa_draft
   SET state = 'draft', delta = delta, base = %(base)s, detail = NULL, commit_id = NULL, updated_at = now()
 WHERE id = %(id)s;

-- name: lock_user_drafts
SELECT pg_advisory_xact_lock(hashtextextended('vanguard.drafts:' || %(org)s || ':' || %(user_id)s::text, 0));
