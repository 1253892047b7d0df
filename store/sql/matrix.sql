-- name: matrix_cells
-- Plan / forecast / actual cost per group (category, area or class in %(by)s) and month, for the
-- months from %(first)s to %(last)s (first days of months), with totals per group, per month and
-- overall (GROUPING SETS; a NULL label or month marks a total). The caller's working drafts are
-- applied as the moves triggers recorded when they were saved (migration 0026): each moves its
-- record's events from the mirror's side to the draft's. Costs are exact sums, rounded to cents
-- per cell. Spreading rule: migration 0025.
WITH events AS (
    SELECT label, measure, month, slope, weight, lump
    FROM vanguard.matrix_events
    WHERE organization_id = %(org)s AND dimension = %(by)s AND month <= %(last)s::date
    UNION ALL
    SELECT label, measure, month, slope, weight, lump
    FROM vanguard.matrix_draft_delta
    WHERE organization_id = %(org)s AND user_id = %(user_id)s AND dimension = %(by)s AND month <= %(last)s::date
), by_month AS (
    -- Events before the window only matter through the running sums: one bucket, the month before.
    SELECT label, measure, greatest(month, (%(first)s::date - interval '1 month')::date) AS month,
           sum(slope) AS slope, sum(weight) AS weight, sum(lump) AS lump
    FROM events
    GROUP BY 1, 2, 3
), grid AS (
    SELECT k.label, k.measure, g.month::date AS month
    FROM (SELECT DISTINCT label, measure FROM by_month) AS k
    CROSS JOIN generate_series(%(first)s::date - interval '1 month', %(last)s::date, interval '1 month') AS g (month)
), running AS (
    -- 30.44 x the cost before the first day of the next month, from the events up to this month.
    SELECT g.label, g.measure, g.month, coalesce(b.lump, 0) AS lump,
           ((g.month + interval '1 month')::date - DATE '1970-01-01') * sum(coalesce(b.slope, 0)) OVER w
           - sum(coalesce(b.weight, 0)) OVER w AS before_next
    FROM grid AS g
    LEFT JOIN by_month AS b USING (label, measure, month)
    WINDOW w AS (PARTITION BY g.label, g.measure ORDER BY g.month)
), cells AS (
    SELECT label, measure, month,
           (before_next - lag(before_next) OVER (PARTITION BY label, measure ORDER BY month)) / 30.44 + lump AS cost
    FROM running
)
SELECT label, month,
       round(coalesce(sum(cost) FILTER (WHERE measure = 'plan'), 0), 2) AS plan_cost,
       round(coalesce(sum(cost) FILTER (WHERE measure = 'forecast'), 0), 2) AS forecast_cost,
       round(coalesce(sum(cost) FILTER (WHERE measure = 'actual'), 0), 2) AS actual_cost,
       round(coalesce(sum(cost) FILTER (WHERE measure = 'forecast'), 0)
             - coalesce(sum(cost) FILTER (WHERE measure = 'plan'), 0), 2) AS cost_variance
FROM cells
WHERE month >= %(first)s::date
GROUP BY GROUPING SETS ((label, month), (label), (month), ())
ORDER BY label NULLS LAST, month NULLS LAST;

-- name: working_draft_count
SELECT count(*) FROM vanguard.pfa_draft
WHERE organization_id = %(org)s AND user_id = %(user_id)s AND state = 'draft' AND NOT record_deleted;

-- name: matrix_delta_rows
SELECT count(*) FROM vanguard.matrix_draft_delta WHERE organization_id = %(org)s AND user_id = %(user_id)s;

-- name: compact_matrix_deltas
-- Many small moves become one row per dimension, group, measure and month. Rows other
-- transactions add meanwhile are not in this statement's snapshot: neither deleted nor counted twice.
WITH gone AS (
    DELETE FROM vanguard.matrix_draft_delta WHERE organization_id = %(org)s AND user_id = %(user_id)s
    RETURNING *
)
INSERT INTO vanguard.matrix_draft_delta
SELECT organization_id, user_id, dimension, label, measure, month, sum(slope), sum(weight), sum(lump)
FROM gone
GROUP BY 1, 2, 3, 4, 5, 6
HAVING sum(slope) <> 0 OR sum(weight) <> 0 OR sum(lump) <> 0;
