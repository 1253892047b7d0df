-- name: insert_change_set
INSERT INTO vanguard.change_sets (organization_id, user_id, origin, name, request, plan)
VALUES (%(org)s, %(user_id)s, 'ai_bulk', %(name)s, %(request)s, %(plan)s)
RETURNING id;

-- name: insert_proposed_drafts
-- One statement for the whole proposal (arrays in step), not one per row.
INSERT INTO vanguard.pfa_draft (organization_id, user_id, record_id, change_set_id, state, delta, base, detail)
SELECT %(org)s, %(user_id)s, p.record_id, %(change_set_id)s, 'proposed', p.delta, p.base, p.detail
  FROM unnest(%(record_ids)s::text[], %(deltas)s::jsonb[], %(bases)s::jsonb[], %(details)s::jsonb[])
       AS p (record_id, delta, base, detail);

-- name: set_change_set_audit
UPDATE vanguard.change_sets SET audit_id = %(audit_id)s WHERE id = %(id)s;

-- name: merged_records
SELECT id, data FROM nlq.pfa_merged WHERE id = ANY(%(ids)s);

-- name: mirror_records
SELECT id, data FROM vanguard.pfa_mirror WHERE organization_id = %(org)s AND id = ANY(%(ids)s);

-- name: list_change_sets
SELECT c.id, c.origin, c.name, c.request, c.status, c.created_at,
       count(d.id) FILTER (WHERE d.state = 'proposed') AS proposed,
       count(d.id) FILTER (WHERE d.state = 'draft') AS accepted,
       count(d.id) FILTER (WHERE d.state = 'rejected') AS rejected,
       count(d.id) FILTER (WHERE d.state IN ('committed', 'synced', 'conflict', 'sync_error')) AS committed
FROM vanguard.change_sets AS c
LEFT JOIN vanguard.pfa_draft AS d ON d.change_set_id = c.id
WHERE c.organization_id = %(org)s AND c.user_id = %(user_id)s
GROUP BY c.id
ORDER BY c.id DESC
LIMIT 200;

-- name: get_change_set
SELECT id, origin, name, request, plan, status, audit_id, created_at
FROM vanguard.change_sets WHERE id = %(id)s AND organization_id = %(org)s AND user_id = %(user_id)s;

-- name: change_set_items
SELECT d.record_id, d.state, d.delta, d.detail
FROM vanguard.pfa_draft AS d
WHERE d.change_set_id = %(id)s AND d.user_id = %(user_id)s
ORDER BY d.record_id, d.id
LIMIT %(limit)s OFFSET %(offset)s;

-- name: change_set_counts
-- Items per state over the whole change set, whatever page is shown.
SELECT d.state, count(*) FROM vanguard.pfa_draft AS d
WHERE d.change_set_id = %(id)s AND d.user_id = %(user_id)s
GROUP BY d.state;

-- name: lock_proposed
SELECT d.id, d.record_id, d.delta, d.base, m.data
FROM vanguard.pfa_draft AS d
JOIN vanguard.pfa_mirror AS m ON m.organization_id = d.organization_id AND m.id = d.record_id
WHERE d.change_set_id = %(id)s AND d.user_id = %(user_id)s AND d.state = 'proposed'
  AND (%(record_ids)s::text[] IS NULL OR d.record_id = ANY(%(record_ids)s::text[]))
ORDER BY d.record_id
FOR UPDATE OF d;

-- name: accept_proposed
-- One statement for every plain acceptance of a call, however many (a change set can hold thousands).
UPDATE vanguard.pfa_draft SET state = 'draft', updated_at = now() WHERE id = ANY(%(ids)s::bigint[]);

-- name: merge_into_working
UPDATE vanguard.pfa_draft
   SET delta = delta || %(delta)s, base = %(base)s || base, change_set_id = %(change_set_id)s, updated_at = now()
 WHERE id = %(id)s;

-- name: close_proposed
UPDATE vanguard.pfa_draft SET state = %(state)s, detail = %(detail)s, updated_at = now() WHERE id = %(id)s;

-- name: reject_proposed
UPDATE vanguard.pfa_draft
   SET state = 'rejected', updated_at = now()
 WHERE change_set_id = %(id)s AND user_id = %(user_id)s AND state = 'proposed'
   AND (%(record_ids)s::text[] IS NULL OR record_id = ANY(%(record_ids)s::text[]))
RETURNING record_id;
