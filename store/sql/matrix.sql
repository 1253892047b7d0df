-- name: matrix_cells
-- Plan / forecast / actual cost per group (category, area or class in %(by)s) and month, for the
-- months from %(first)s to %(last)s (first days of months), with totals per group, per month and
-- overall (GROUPING SETS; a NULL label or month marks a total). The caller's working drafts are
-- applied: each moves its record's events from the mirror's side to the draft's, and a period
-- whose inputs a draft left alone is skipped (its two sides would cancel). Costs are exact sums,
-- rounded to cents per cell. Spreading rule: migration 0023.
WITH drafted AS (
    SELECT p.measure,
           s.sign, s.label, s.source, s.rate, s.price, s.starts, s.ends
    FROM vanguard.pfa_draft AS d
    JOIN vanguard.pfa_mirror AS m
      ON m.organization_id = d.organization_id AND m.id = d.record_id AND m.deleted_at IS NULL
    CROSS JOIN LATERAL (VALUES (coalesce(CASE %(by)s WHEN 'area' THEN d.area WHEN 'class' THEN d.class
                                                     ELSE d.category END, ''),
                                coalesce(CASE %(by)s WHEN 'area' THEN m.area WHEN 'class' THEN m.class
                                                     ELSE m.category END, ''))) AS l (draft_label, mirror_label)
    CROSS JOIN LATERAL (VALUES ('plan', d.plan_start, d.plan_end, m.plan_start, m.plan_end),
                               ('forecast', d.forecast_start, d.forecast_end, m.forecast_start, m.forecast_end),
                               ('actual', d.actual_start, d.actual_end, m.actual_start, m.actual_end))
        AS p (measure, draft_start, draft_end, mirror_start, mirror_end)
    CROSS JOIN LATERAL (VALUES
        (1, l.draft_label, d.source, d.monthly_rate, d.purchase_price, p.draft_start, p.draft_end),
        (-1, l.mirror_label, m.source, m.monthly_rate, m.purchase_price, p.mirror_start, p.mirror_end)
    ) AS s (sign, label, source, rate, price, starts, ends)
    WHERE d.organization_id = %(org)s AND d.user_id = %(user_id)s AND d.state = 'draft' AND NOT d.record_deleted
      AND (l.draft_label, d.source, d.monthly_rate, d.purchase_price, p.draft_start, p.draft_end)
          IS DISTINCT FROM (l.mirror_label, m.source, m.monthly_rate, m.purchase_price, p.mirror_start, p.mirror_end)
), events AS (
    SELECT label, measure, month, slope, weight, lump
    FROM vanguard.matrix_events
    WHERE organization_id = %(org)s AND dimension = %(by)s AND month <= %(last)s::date
    UNION ALL
    SELECT x.label, x.measure, e.month, x.sign * e.slope, x.sign * e.weight, x.sign * e.lump
    FROM drafted AS x
    CROSS JOIN LATERAL vanguard.cost_events(x.source, x.rate, x.price, x.starts, x.ends) AS e
    WHERE e.month <= %(last)s::date
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
