-- name: kpis_with_drafts
-- The materialized baseline plus the moves of the caller's working drafts (kept by triggers).
WITH adjusted AS (
    SELECT category, source, records, plan_cost, forecast_cost, actual_cost
    FROM vanguard.kpi_category_source WHERE organization_id = %(org)s
    UNION ALL
    SELECT category, source, records, plan_cost, forecast_cost, actual_cost
    FROM vanguard.kpi_draft_delta WHERE organization_id = %(org)s AND user_id = %(user_id)s
)
SELECT category, source, sum(records)::bigint, sum(plan_cost), sum(forecast_cost), sum(actual_cost),
       sum(forecast_cost) - sum(plan_cost)
FROM adjusted
GROUP BY category, source
HAVING sum(records) <> 0
ORDER BY category, source;

-- name: draft_delta_rows_added
-- Rows of the caller's moves added since their last compaction (migration 0028).
SELECT count(*) - coalesce((SELECT row_count FROM vanguard.draft_moves_compacted
                            WHERE organization_id = %(org)s AND user_id = %(user_id)s AND moves = 'kpi'), 0)
FROM vanguard.kpi_draft_delta WHERE organization_id = %(org)s AND user_id = %(user_id)s;

-- name: compact_draft_deltas
-- Many small moves become one row per category and source. Rows other transactions add meanwhile
-- are not in this statement's snapshot, so they are neither deleted nor counted twice.
WITH gone AS (
    DELETE FROM vanguard.kpi_draft_delta WHERE organization_id = %(org)s AND user_id = %(user_id)s
    RETURNING *
)
INSERT INTO vanguard.kpi_draft_delta
SELECT organization_id, user_id, category, source, sum(records), sum(plan_cost), sum(forecast_cost), sum(actual_cost)
FROM gone
GROUP BY 1, 2, 3, 4
HAVING sum(records) <> 0 OR sum(plan_cost) <> 0 OR sum(forecast_cost) <> 0 OR sum(actual_cost) <> 0;

-- name: timeline_with_drafts
SELECT least(t.plan_start, d.plan_start), greatest(t.plan_end, d.plan_end),
       least(t.forecast_start, d.forecast_start), greatest(t.forecast_end, d.forecast_end),
       t.actual_start, t.actual_end
FROM (SELECT * FROM vanguard.kpi_timeline WHERE organization_id = %(org)s) AS t
FULL JOIN (SELECT min(plan_start) AS plan_start, max(plan_end) AS plan_end,
                  min(forecast_start) AS forecast_start, max(forecast_end) AS forecast_end
           FROM vanguard.pfa_draft
           WHERE organization_id = %(org)s AND user_id = %(user_id)s AND state = 'draft' AND NOT record_deleted) AS d
  ON true;

-- name: kpis_baseline
-- The same figures as PEMS has them (the materialized baseline alone), to show drafts as a change.
SELECT category, source, records::bigint, plan_cost, forecast_cost, actual_cost, forecast_cost - plan_cost
FROM vanguard.kpi_category_source
WHERE organization_id = %(org)s
ORDER BY category, source;

-- name: record_kpi_compaction
-- The caller's rows of moves right after a compaction (migration 0028), for the next read's threshold.
INSERT INTO vanguard.draft_moves_compacted (organization_id, user_id, moves, row_count)
SELECT %(org)s, %(user_id)s, 'kpi', count(*)
FROM vanguard.kpi_draft_delta WHERE organization_id = %(org)s AND user_id = %(user_id)s
ON CONFLICT (organization_id, user_id, moves) DO UPDATE SET row_count = EXCLUDED.row_count;
