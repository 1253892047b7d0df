-- name: records_meta
SELECT (SELECT count(*) FROM vanguard.pfa_draft
        WHERE organization_id = %(org)s AND user_id = %(user_id)s AND state = 'draft') AS draft_count,
       (SELECT last_success_at FROM vanguard.sync_state WHERE organization_id = %(org)s) AS last_synced_at,
       EXISTS (SELECT 1 FROM vanguard.sync_runs
               WHERE organization_id = %(org)s AND direction = 'read' AND status = 'running'
                 AND started_at > now() - interval '1 hour') AS syncing;

-- name: get_merged_record
SELECT * FROM nlq.pfa_merged WHERE id = %(record_id)s;

-- name: get_draft_of_record
SELECT d.id, d.state, d.delta, d.base, d.change_set_id, d.updated_at, m.data
FROM vanguard.pfa_draft AS d
JOIN vanguard.pfa_mirror AS m ON m.organization_id = d.organization_id AND m.id = d.record_id
WHERE d.organization_id = %(org)s AND d.user_id = %(user_id)s AND d.record_id = %(record_id)s
  AND d.state IN ('draft', 'conflict', 'committed', 'sync_error')
ORDER BY d.state = 'draft' DESC, d.updated_at DESC
LIMIT 1;

-- name: export_merged
COPY (SELECT row_to_json(p) FROM (SELECT * FROM nlq.pfa_merged ORDER BY id) AS p)
TO STDOUT (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');

-- name: export_merged_columns
-- {columns} is composed with psycopg.sql from the field registry (identifiers, never values).
COPY (SELECT row_to_json(p) FROM (SELECT {columns} FROM nlq.pfa_merged ORDER BY id) AS p)
TO STDOUT (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');

-- name: export_merged_filtered
-- The export of a filtered and sorted grid. The columns, filters and order are composed with
-- psycopg.sql (`nlq.records.query.export_statement`): identifiers from the field registry, values bound.
COPY (SELECT row_to_json(p) FROM (SELECT {columns} FROM nlq.pfa_merged {where} {order}) AS p)
TO STDOUT (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');

-- name: export_merged_rows
-- The same rows for a CSV export, read through a server-side cursor.
SELECT {columns} FROM nlq.pfa_merged {where} {order};

-- name: vocabulary
SELECT 'category' AS kind, category AS value FROM vanguard.pfa_mirror
 WHERE organization_id = %(org)s AND deleted_at IS NULL AND category IS NOT NULL GROUP BY category
UNION ALL
SELECT 'class', class FROM vanguard.pfa_mirror
 WHERE organization_id = %(org)s AND deleted_at IS NULL AND class IS NOT NULL GROUP BY class
UNION ALL
SELECT 'area', area FROM vanguard.pfa_mirror
 WHERE organization_id = %(org)s AND deleted_at IS NULL AND area IS NOT NULL GROUP BY area
UNION ALL
SELECT 'manufacturer', manufacturer FROM vanguard.pfa_mirror
 WHERE organization_id = %(org)s AND deleted_at IS NULL AND manufacturer IS NOT NULL GROUP BY manufacturer
UNION ALL
SELECT 'model', model FROM vanguard.pfa_mirror
 WHERE organization_id = %(org)s AND deleted_at IS NULL AND model IS NOT NULL GROUP BY model;

-- name: working_drafts_of_records
-- The caller's draft fields on one page of records (the grid marks them per field).
SELECT record_id, delta, base FROM vanguard.pfa_draft
WHERE organization_id = %(org)s AND user_id = %(user_id)s AND state = 'draft' AND record_id = ANY(%(ids)s);
