-- The merged view: mirror plus the caller's working drafts, for the organization and user set
-- transaction-locally in app.org_id / app.user_id. Unset settings give no rows (fail closed).
--
-- Shape: UNION ALL of (mirror rows without a working draft of this user, read from the stored
-- generated columns so filters push into the partial indexes) and (the user's draft rows, typed
-- from data || delta). Measured several times faster than LEFT JOIN + coalesce on 1M rows.
-- security_barrier keeps user predicates (and their errors) from running before the scope filter.

CREATE VIEW nlq.pfa_merged WITH (security_barrier) AS
SELECT m.id, m.organization_id, m.area, m.category, m.category_description, m.class, m.source,
       m.dor, m.manufacturer, m.model, m.equipment_tag, m.monthly_rate, m.purchase_price,
       m.plan_start, m.plan_end, m.forecast_start, m.forecast_end, m.actual_start, m.actual_end,
       m.is_actualized, m.is_discontinued, m.is_funds_transferable, m.pems_version,
       m.plan_cost, m.forecast_cost, m.actual_cost, m.forecast_cost - m.plan_cost AS cost_variance,
       false AS has_draft, m.data, m.last_synced_at
FROM vanguard.pfa_mirror AS m
WHERE m.organization_id = nullif(current_setting('app.org_id', true), '')
  AND m.deleted_at IS NULL
  AND NOT EXISTS (
        SELECT 1 FROM vanguard.pfa_draft AS d
        WHERE d.organization_id = m.organization_id
          AND d.record_id = m.id
          AND d.user_id = nullif(current_setting('app.user_id', true), '')::bigint
          AND d.state = 'draft')
UNION ALL
SELECT x.id, x.organization_id, x.data ->> 'area', x.data ->> 'category',
       x.data ->> 'categoryDescription', x.data ->> 'class', x.data ->> 'source', x.data ->> 'dor',
       x.data ->> 'manufacturer', x.data ->> 'model', x.data ->> 'equipmentTag',
       x.monthly_rate, x.purchase_price, x.plan_start, x.plan_end, x.forecast_start, x.forecast_end,
       x.actual_start, x.actual_end,
       vanguard.to_bool_or_null(x.data ->> 'isActualized'),
       vanguard.to_bool_or_null(x.data ->> 'isDiscontinued'),
       vanguard.to_bool_or_null(x.data ->> 'isFundsTransferable'),
       x.data ->> 'lastModified',
       x.plan_cost, x.forecast_cost, x.actual_cost, x.forecast_cost - x.plan_cost,
       true, x.data, x.last_synced_at
FROM (
    SELECT y.*,
           vanguard.pfa_cost(y.data ->> 'source', y.monthly_rate, y.purchase_price, y.plan_start, y.plan_end) AS plan_cost,
           vanguard.pfa_cost(y.data ->> 'source', y.monthly_rate, y.purchase_price, y.forecast_start, y.forecast_end) AS forecast_cost,
           vanguard.pfa_cost(y.data ->> 'source', y.monthly_rate, y.purchase_price, y.actual_start, y.actual_end) AS actual_cost
    FROM (
        SELECT z.*,
               vanguard.to_numeric_or_null(z.data ->> 'monthlyRate') AS monthly_rate,
               vanguard.to_numeric_or_null(z.data ->> 'purchasePrice') AS purchase_price,
               vanguard.to_date_or_null(z.data ->> 'originalStart') AS plan_start,
               vanguard.to_date_or_null(z.data ->> 'originalEnd') AS plan_end,
               vanguard.to_date_or_null(z.data ->> 'forecastStart') AS forecast_start,
               vanguard.to_date_or_null(z.data ->> 'forecastEnd') AS forecast_end,
               vanguard.to_date_or_null(z.data ->> 'actualStart') AS actual_start,
               vanguard.to_date_or_null(z.data ->> 'actualEnd') AS actual_end
        FROM (
            SELECT m.id, m.organization_id, m.data || d.delta AS data, m.last_synced_at
            FROM vanguard.pfa_draft AS d
            JOIN vanguard.pfa_mirror AS m
              ON m.organization_id = d.organization_id AND m.id = d.record_id
            WHERE d.organization_id = nullif(current_setting('app.org_id', true), '')
              AND d.user_id = nullif(current_setting('app.user_id', true), '')::bigint
              AND d.state = 'draft'
              AND m.deleted_at IS NULL
        ) AS z
    ) AS y
) AS x;

COMMENT ON VIEW nlq.pfa_merged IS
    'PFA records of the organization in app.org_id, with the working drafts of the user in app.user_id applied.';
