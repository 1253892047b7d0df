-- KPIs with drafts without reading the drafts: each working draft moves its record's contribution
-- from the mirror's (category, source, costs) to the draft's. Those moves are kept as rows of
-- vanguard.kpi_draft_delta by statement triggers, so the API adds a handful of rows to the
-- materialized baseline however many drafts the user has (10,000 drafts: 41 ms -> about 1 ms).
--
-- A draft row therefore remembers the mirror's side of its record (mirror_*), set by the same
-- triggers that keep its merged record; when PEMS changes the record, both sides move together.
-- The delta table is append-only between compactions (no upserts), so concurrent writers never
-- wait on each other's rows.

ALTER TABLE vanguard.pfa_draft
    ADD COLUMN mirror_category      text,
    ADD COLUMN mirror_source        text,
    ADD COLUMN mirror_plan_cost     numeric,
    ADD COLUMN mirror_forecast_cost numeric,
    ADD COLUMN mirror_actual_cost   numeric;

UPDATE vanguard.pfa_draft AS d
   SET mirror_category = m.category, mirror_source = m.source, mirror_plan_cost = m.plan_cost,
       mirror_forecast_cost = m.forecast_cost, mirror_actual_cost = m.actual_cost
  FROM vanguard.pfa_mirror AS m
 WHERE m.organization_id = d.organization_id AND m.id = d.record_id;

CREATE OR REPLACE FUNCTION vanguard.merge_draft() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT m.data || NEW.delta, m.deleted_at IS NOT NULL, m.last_synced_at,
           m.category, m.source, m.plan_cost, m.forecast_cost, m.actual_cost
      INTO NEW.merged, NEW.record_deleted, NEW.mirror_synced_at,
           NEW.mirror_category, NEW.mirror_source, NEW.mirror_plan_cost, NEW.mirror_forecast_cost,
           NEW.mirror_actual_cost
      FROM vanguard.pfa_mirror AS m
     WHERE m.organization_id = NEW.organization_id AND m.id = NEW.record_id;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION vanguard.remerge_drafts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE vanguard.pfa_draft AS d
       SET merged = n.data || d.delta,
           record_deleted = n.deleted_at IS NOT NULL,
           mirror_synced_at = n.last_synced_at,
           mirror_category = n.category, mirror_source = n.source, mirror_plan_cost = n.plan_cost,
           mirror_forecast_cost = n.forecast_cost, mirror_actual_cost = n.actual_cost
      FROM changed_records AS n
     WHERE d.organization_id = n.organization_id
       AND d.record_id = n.id
       AND d.state IN ('proposed', 'draft');
    RETURN NULL;
END;
$$;

CREATE TABLE vanguard.kpi_draft_delta (
    organization_id text NOT NULL,
    user_id         bigint NOT NULL,
    category        text NOT NULL,
    source          text NOT NULL,
    records         bigint NOT NULL,
    plan_cost       numeric NOT NULL,
    forecast_cost   numeric NOT NULL,
    actual_cost     numeric NOT NULL
);
CREATE INDEX kpi_draft_delta_by_user ON vanguard.kpi_draft_delta (organization_id, user_id);

-- The moves of the rows a statement changed: new rows add (+1), old rows take back (-1); only
-- working drafts on records PEMS still has count, as in the merged view. One statement text for
-- the three events; `rows_sql` is one of three constants naming the transition tables.
CREATE FUNCTION vanguard.track_draft_kpis() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    rows_sql text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT n.*, 1 AS sign FROM new_rows AS n'
        WHEN 'DELETE' THEN 'SELECT o.*, -1 AS sign FROM old_rows AS o'
        ELSE 'SELECT n.*, 1 AS sign FROM new_rows AS n UNION ALL SELECT o.*, -1 FROM old_rows AS o' END;
BEGIN
    EXECUTE format($sql$
        INSERT INTO vanguard.kpi_draft_delta
        SELECT r.organization_id, r.user_id, c.category, c.source,
               sum(c.records * r.sign), sum(c.plan_cost * r.sign), sum(c.forecast_cost * r.sign),
               sum(c.actual_cost * r.sign)
        FROM (%s) AS r
        CROSS JOIN LATERAL (VALUES
            (coalesce(r.category, ''), coalesce(r.source, ''), 1,
             coalesce(r.plan_cost, 0), coalesce(r.forecast_cost, 0), coalesce(r.actual_cost, 0)),
            (coalesce(r.mirror_category, ''), coalesce(r.mirror_source, ''), -1,
             -coalesce(r.mirror_plan_cost, 0), -coalesce(r.mirror_forecast_cost, 0), -coalesce(r.mirror_actual_cost, 0))
        ) AS c (category, source, records, plan_cost, forecast_cost, actual_cost)
        WHERE r.state = 'draft' AND NOT r.record_deleted
        GROUP BY 1, 2, 3, 4
        HAVING sum(c.records * r.sign) <> 0 OR sum(c.plan_cost * r.sign) <> 0
            OR sum(c.forecast_cost * r.sign) <> 0 OR sum(c.actual_cost * r.sign) <> 0
    $sql$, rows_sql);
    RETURN NULL;
END;
$$;

CREATE TRIGGER pfa_draft_kpis_insert AFTER INSERT ON vanguard.pfa_draft
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vanguard.track_draft_kpis();
CREATE TRIGGER pfa_draft_kpis_update AFTER UPDATE ON vanguard.pfa_draft
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vanguard.track_draft_kpis();
CREATE TRIGGER pfa_draft_kpis_delete AFTER DELETE ON vanguard.pfa_draft
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION vanguard.track_draft_kpis();

-- The drafts that exist already.
INSERT INTO vanguard.kpi_draft_delta
SELECT d.organization_id, d.user_id, c.category, c.source, sum(c.records), sum(c.plan_cost),
       sum(c.forecast_cost), sum(c.actual_cost)
FROM vanguard.pfa_draft AS d
CROSS JOIN LATERAL (VALUES
    (coalesce(d.category, ''), coalesce(d.source, ''), 1,
     coalesce(d.plan_cost, 0), coalesce(d.forecast_cost, 0), coalesce(d.actual_cost, 0)),
    (coalesce(d.mirror_category, ''), coalesce(d.mirror_source, ''), -1,
     -coalesce(d.mirror_plan_cost, 0), -coalesce(d.mirror_forecast_cost, 0), -coalesce(d.mirror_actual_cost, 0))
) AS c (category, source, records, plan_cost, forecast_cost, actual_cost)
WHERE d.state = 'draft' AND NOT d.record_deleted
GROUP BY 1, 2, 3, 4;

GRANT SELECT, INSERT, DELETE ON vanguard.kpi_draft_delta TO vanguard_app;

-- "Most expensive first" is the grid's and the questions' usual order; an index serves its pages.
CREATE INDEX pfa_mirror_forecast_cost ON vanguard.pfa_mirror (organization_id, forecast_cost DESC NULLS LAST, id)
    WHERE deleted_at IS NULL;
