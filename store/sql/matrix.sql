-- name: matrix_cells
-- Plan / forecast / actual cost per group (category, area or class in %(by)s) and month, for the
-- months from %(first)s to %(last)s (first days of months), with totals per group, per month and
-- overall (GROUPING SETS; a NULL label or month marks a total). The caller's working drafts are
-- applied as the moves triggers recorded when they were saved (migration 0026): each moves its
-- record's events from the mirror's side to the draft's. Costs are exact sums, rounded to cents
-- per cell. Spreading rule: migration 0025. Cells with no cost are left out (the caller's zero).
--
-- With S the running sum of slopes through month m, and s, w, l month m's own sums of slope,
-- weight and lump, 30.44 x the cost of month m is
--     days_in(m) x (S - s) + day_number(first day of m + 1 month) x s - w     (+ 30.44 x l),
-- and a month with no events of its own costs days_in(m) x S / 30.44, S being that of the last
-- month with events. So the window runs over the months that have events only, each expanded
-- to the months up to the next one. Events before the window count only through S: one bucket,
-- the month before it.
WITH events AS (
    SELECT label, measure, greatest(month, (%(first)s::date - interval '1 month')::date) AS month, slope, weight, lump
    FROM vanguard.matrix_events
    WHERE organization_id = %(org)s AND dimension = %(by)s AND month <= %(last)s::date
    UNION ALL
    SELECT label, measure, greatest(month, (%(first)s::date - interval '1 month')::date), slope, weight, lump
    FROM vanguard.matrix_draft_delta
    WHERE organization_id = %(org)s AND user_id = %(user_id)s AND dimension = %(by)s AND month <= %(last)s::date
), sparse AS (
    -- Each (group, measure)'s months that have events.
    SELECT label, measure, month, sum(slope) AS slope, sum(weight) AS weight, sum(lump) AS lump
    FROM events
    GROUP BY 1, 2, 3
), running AS (
    SELECT label, measure, month, slope, weight, lump, sum(slope) OVER w AS through,
           lead(month) OVER w AS next_month
    FROM sparse
    WINDOW w AS (PARTITION BY label, measure ORDER BY month)
), cells AS (
    SELECT r.label, r.measure, g.month::date AS month,
           CASE WHEN g.month = r.month
                THEN (((r.month + interval '1 month')::date - r.month) * (r.through - r.slope)
                      + ((r.month + interval '1 month')::date - DATE '1970-01-01') * r.slope - r.weight) / 30.44 + r.lump
                ELSE (((g.month + interval '1 month')::date - g.month::date) * r.through) / 30.44
           END AS cost
    FROM running AS r
    CROSS JOIN LATERAL generate_series(greatest(r.month, %(first)s::date),
                                       coalesce(r.next_month - interval '1 month', %(last)s::date),
                                       interval '1 month') AS g (month)
)
SELECT label, month,
       round(coalesce(sum(cost) FILTER (WHERE measure = 'plan'), 0), 2) AS plan_cost,
       round(coalesce(sum(cost) FILTER (WHERE measure = 'forecast'), 0), 2) AS forecast_cost,
       round(coalesce(sum(cost) FILTER (WHERE measure = 'actual'), 0), 2) AS actual_cost,
       round(coalesce(sum(cost) FILTER (WHERE measure = 'forecast'), 0)
             - coalesce(sum(cost) FILTER (WHERE measure = 'plan'), 0), 2) AS cost_variance
FROM cells
GROUP BY GROUPING SETS ((label, month), (label), (month), ())
ORDER BY label NULLS LAST, month NULLS LAST;

-- name: working_draft_count
SELECT count(*) FROM vanguard.pfa_draft
WHERE organization_id = %(org)s AND user_id = %(user_id)s AND state = 'draft' AND NOT record_deleted;

-- name: matrix_delta_rows_added
-- Rows of the caller's moves added since their last compaction (migration 0028).
SELECT count(*) - coalesce((SELECT row_count FROM vanguard.draft_moves_compacted
                            WHERE organization_id = %(org)s AND user_id = %(user_id)s AND moves = 'matrix'), 0)
FROM vanguard.matrix_draft_delta WHERE organization_id = %(org)s AND user_id = %(user_id)s;

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

-- name: record_matrix_compaction
-- The caller's rows of moves right after a compaction (migration 0028), for the next read's threshold.
INSERT INTO vanguard.draft_moves_compacted (organization_id, user_id, moves, row_count)
SELECT %(org)s, %(user_id)s, 'matrix', count(*)
FROM vanguard.matrix_draft_delta WHERE organization_id = %(org)s AND user_id = %(user_id)s
ON CONFLICT (organization_id, user_id, moves) DO UPDATE SET row_count = EXCLUDED.row_count;
