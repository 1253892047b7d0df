-- KPI baselines over the mirror, refreshed CONCURRENTLY after each sync that changed something.
-- The API adds the caller's draft deltas on top, so KPIs reflect drafts without a scan.

CREATE MATERIALIZED VIEW vanguard.kpi_category_source AS
SELECT organization_id,
       coalesce(category, '') AS category,
       coalesce(source, '') AS source,
       count(*) AS records,
       coalesce(sum(plan_cost), 0) AS plan_cost,
       coalesce(sum(forecast_cost), 0) AS forecast_cost,
       coalesce(sum(actual_cost), 0) AS actual_cost
FROM vanguard.pfa_mirror
WHERE deleted_at IS NULL
GROUP BY 1, 2, 3;
CREATE UNIQUE INDEX kpi_category_source_key ON vanguard.kpi_category_source (organization_id, category, source);

CREATE MATERIALIZED VIEW vanguard.kpi_timeline AS
SELECT organization_id,
       min(plan_start) AS plan_start, max(plan_end) AS plan_end,
       min(forecast_start) AS forecast_start, max(forecast_end) AS forecast_end,
       min(actual_start) AS actual_start, max(actual_end) AS actual_end
FROM vanguard.pfa_mirror
WHERE deleted_at IS NULL
GROUP BY organization_id;
CREATE UNIQUE INDEX kpi_timeline_key ON vanguard.kpi_timeline (organization_id);

-- Refreshing needs ownership; the app role gets this one function instead.
CREATE FUNCTION vanguard.refresh_kpis() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, vanguard AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY vanguard.kpi_category_source;
    REFRESH MATERIALIZED VIEW CONCURRENTLY vanguard.kpi_timeline;
END;
$$;
REVOKE ALL ON FUNCTION vanguard.refresh_kpis() FROM PUBLIC;
