-- name: sync_runs_by_status
SELECT organization_id, direction, kind, status, count(*) FROM vanguard.sync_runs GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;

-- name: sync_durations
SELECT organization_id, direction, sum(extract(epoch FROM finished_at - started_at))
FROM vanguard.sync_runs WHERE finished_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2;

-- name: records_synced
SELECT organization_id, sum(inserted + updated) FROM vanguard.sync_runs WHERE direction = 'read' GROUP BY 1 ORDER BY 1;

-- name: mirror_records
SELECT organization_id, count(*) FROM vanguard.pfa_mirror WHERE deleted_at IS NULL GROUP BY 1 ORDER BY 1;

-- name: drafts_by_state
SELECT organization_id, state, count(*) FROM vanguard.pfa_draft GROUP BY 1, 2 ORDER BY 1, 2;

-- name: nlq_by_verdict
SELECT organization_id, kind, verdict, count(*) FROM vanguard.nlq_audit GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
