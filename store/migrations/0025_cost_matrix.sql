-- The cost matrix (groups x months): a materialized baseline of "cost events" over the mirror,
-- refreshed with the KPIs, to which the caller's working drafts are added live.
--
-- How a cost is spread over months, so that a row's months add up to the merged view's derived
-- cost (vanguard.pfa_cost): a Rental costs monthly_rate / 30.44 per day from its start (inclusive)
-- to its end (exclusive), so a month gets monthly_rate x (days of the period in that month) / 30.44;
-- a Purchase costs its purchase_price in the month it starts. A period without a start, an end
-- (Rental) or a rate has no cost, as in pfa_cost.
--
-- Instead of one row per record and month (about ten per period at the demo's durations), each
-- period is stored as two events: at its start the daily rate begins (slope +rate, weight
-- +rate x day number), at its end it stops (-rate, -rate x day number). The cost before a day t is
-- then (t x sum(slope) - sum(weight)) / 30.44 over the events before t, so the events summed by
-- month are enough to give any month's cost exactly. That keeps the baseline small and lets a
-- user's drafts (two periods each: the draft's and the mirror's, taken back) be added at the cost
-- of a few events per draft instead of a spread over months.

CREATE FUNCTION vanguard.cost_events(source text, monthly_rate numeric, purchase_price numeric,
                                     starts date, ends date)
RETURNS TABLE (month date, slope numeric, weight numeric, lump numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT e.month, e.slope, e.weight, e.lump
    FROM (VALUES
        (date_trunc('month', starts::timestamp)::date, monthly_rate, monthly_rate * (starts - DATE '1970-01-01'), 0::numeric),
        (date_trunc('month', ends::timestamp)::date, -monthly_rate, -monthly_rate * (ends - DATE '1970-01-01'), 0::numeric)
    ) AS e (month, slope, weight, lump)
    WHERE source = 'Rental' AND monthly_rate IS NOT NULL AND starts IS NOT NULL AND ends IS NOT NULL
    UNION ALL
    SELECT date_trunc('month', starts::timestamp)::date, 0, 0, purchase_price
    WHERE source = 'Purchase' AND purchase_price IS NOT NULL AND starts IS NOT NULL;
END;

COMMENT ON FUNCTION vanguard.cost_events(text, numeric, numeric, date, date) IS
    'A period''s cost as events by month: a Rental''s daily rate starting and stopping, a Purchase''s price at its start.';

CREATE MATERIALIZED VIEW vanguard.matrix_events AS
WITH periods AS (
    SELECT m.organization_id, coalesce(m.category, '') AS category, coalesce(m.area, '') AS area,
           coalesce(m.class, '') AS class, p.measure, e.month, e.slope, e.weight, e.lump
    FROM vanguard.pfa_mirror AS m
    CROSS JOIN LATERAL (VALUES ('plan', m.plan_start, m.plan_end),
                               ('forecast', m.forecast_start, m.forecast_end),
                               ('actual', m.actual_start, m.actual_end)) AS p (measure, starts, ends)
    CROSS JOIN LATERAL vanguard.cost_events(m.source, m.monthly_rate, m.purchase_price, p.starts, p.ends) AS e
    WHERE m.deleted_at IS NULL
)
SELECT organization_id,
       CASE WHEN GROUPING(category) = 0 THEN 'category' WHEN GROUPING(area) = 0 THEN 'area' ELSE 'class' END
           AS dimension,
       CASE WHEN GROUPING(category) = 0 THEN category WHEN GROUPING(area) = 0 THEN area ELSE class END AS label,
       measure, month, sum(slope) AS slope, sum(weight) AS weight, sum(lump) AS lump
FROM periods
GROUP BY GROUPING SETS ((organization_id, category, measure, month), (organization_id, area, measure, month),
                        (organization_id, class, measure, month));
CREATE UNIQUE INDEX matrix_events_key ON vanguard.matrix_events (organization_id, dimension, label, measure, month);

GRANT SELECT ON vanguard.matrix_events TO vanguard_app;

CREATE OR REPLACE FUNCTION vanguard.refresh_kpis() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, vanguard AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY vanguard.kpi_category_source;
    REFRESH MATERIALIZED VIEW CONCURRENTLY vanguard.kpi_timeline;
    REFRESH MATERIALIZED VIEW CONCURRENTLY vanguard.matrix_events;
END;
$$;
