-- The merged view reads the caller's organization and user through two SECURITY DEFINER
-- functions owned by vanguard_owner, so the reader role needs no EXECUTE on current_setting
-- (store/sql/harden.sql revokes it: with it, any query could read every setting, version
-- included). A view checks table privileges as its owner but function privileges as the caller,
-- so a plain current_setting() call in the view would fail for the reader once revoked.
--
-- Both are STABLE: evaluated once per scan where they feed an index condition, as before. The
-- pinned search_path keeps a caller's schemas out of the definer's name lookups. They return the
-- same values as the expressions they replace: NULL when unset or empty (the view then returns
-- nothing), and a user id that is not a number is an error, not a silent NULL.

CREATE FUNCTION vanguard.current_org() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER COST 1 SET search_path = pg_catalog, pg_temp AS $$
    SELECT nullif(current_setting('app.org_id', true), '')
$$;

CREATE FUNCTION vanguard.current_app_user() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER COST 1 SET search_path = pg_catalog, pg_temp AS $$
    SELECT nullif(current_setting('app.user_id', true), '')::bigint
$$;

REVOKE ALL ON FUNCTION vanguard.current_org(), vanguard.current_app_user() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vanguard.current_org(), vanguard.current_app_user() TO vanguard_app, vanguard_reader;

CREATE OR REPLACE VIEW nlq.pfa_merged WITH (security_barrier) AS
SELECT m.id, m.organization_id, m.area, m.category, m.category_description, m.class, m.source,
       m.dor, m.manufacturer, m.model, m.equipment_tag, m.monthly_rate, m.purchase_price,
       m.plan_start, m.plan_end, m.forecast_start, m.forecast_end, m.actual_start, m.actual_end,
       m.is_actualized, m.is_discontinued, m.is_funds_transferable, m.pems_version,
       m.plan_cost, m.forecast_cost, m.actual_cost, m.forecast_cost - m.plan_cost AS cost_variance,
       false AS has_draft, m.data, m.last_synced_at
FROM vanguard.pfa_mirror AS m
WHERE m.organization_id = vanguard.current_org()
  AND m.deleted_at IS NULL
  AND NOT EXISTS (
        SELECT 1 FROM vanguard.pfa_draft AS d
        WHERE d.organization_id = m.organization_id
          AND d.user_id = vanguard.current_app_user()
          AND d.record_id = m.id
          AND d.state = 'draft')
UNION ALL
SELECT d.record_id, d.organization_id, d.area, d.category, d.category_description, d.class, d.source,
       d.dor, d.manufacturer, d.model, d.equipment_tag, d.monthly_rate, d.purchase_price,
       d.plan_start, d.plan_end, d.forecast_start, d.forecast_end, d.actual_start, d.actual_end,
       d.is_actualized, d.is_discontinued, d.is_funds_transferable, d.pems_version,
       d.plan_cost, d.forecast_cost, d.actual_cost, d.forecast_cost - d.plan_cost,
       true, d.merged, d.mirror_synced_at
FROM vanguard.pfa_draft AS d
WHERE d.organization_id = vanguard.current_org()
  AND d.user_id = vanguard.current_app_user()
  AND d.state = 'draft'
  AND NOT d.record_deleted;
