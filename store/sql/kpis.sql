-- name: kpis_with_drafts
WITH working AS (
    SELECT d.record_id, d.category, d.source, d.plan_cost, d.forecast_cost, d.actual_cost
    FROM vanguard.pfa_draft AS d
    WHERE d.organization_id = %(org)s AND d.user_id = %(user_id)s AND d.state = 'draft' AND NOT d.record_deleted
), adjusted AS (
    SELECT category, source, records, plan_cost, forecast_cost, actual_cost
    FROM vanguard.kpi_category_source WHERE organization_id = %(org)s
    UNION ALL
    SELECT coalesce(w.category, ''), coalesce(w.source, ''), 1,
           coalesce(w.plan_cost, 0), coalesce(w.forecast_cost, 0), coalesce(w.actual_cost, 0)
    FROM working AS w
    UNION ALL
    SELECT coalesce(m.category, ''), coalesce(m.source, ''), -1,
           -coalesce(m.plan_cost, 0), -coalesce(m.forecast_cost, 0), -coalesce(m.actual_cost, 0)
    FROM working AS w
    JOIN vanguard.pfa_mirror AS m ON m.organization_id = %(org)s AND m.id = w.record_id AND m.deleted_at IS NULL
)
SELECT category, source, sum(records)::bigint, sum(plan_cost), sum(forecast_cost), sum(actual_cost),
       sum(forecast_cost) - sum(plan_cost)
FROM adjusted
GROUP BY category, source
HAVING sum(records) <> 0
ORDER BY category, source;

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
