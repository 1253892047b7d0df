-- The cost matrix with drafts without reading the drafts: as for the KPIs (0013), each working
-- draft moves its record's cost events from the mirror's side to the draft's, and statement
-- triggers keep those moves as rows of vanguard.matrix_draft_delta, summed by dimension, group,
-- measure and month. The matrix adds a few hundred rows to its baseline however many drafts the
-- user has; computing the moves at read time took about 0.1 ms per draft (10,000 drafts: over
-- the 50 ms target on their own).
--
-- A draft row therefore remembers the mirror's side of every input of a cost (mirror_*), set by
-- the same triggers that keep its merged record; when PEMS changes the record, both sides move.

ALTER TABLE vanguard.pfa_draft
    ADD COLUMN mirror_area           text,
    ADD COLUMN mirror_class          text,
    ADD COLUMN mirror_monthly_rate   numeric,
    ADD COLUMN mirror_purchase_price numeric,
    ADD COLUMN mirror_plan_start     date,
    ADD COLUMN mirror_plan_end       date,
    ADD COLUMN mirror_forecast_start date,
    ADD COLUMN mirror_forecast_end   date,
    ADD COLUMN mirror_actual_start   date,
    ADD COLUMN mirror_actual_end     date;

UPDATE vanguard.pfa_draft AS d
   SET mirror_area = m.area, mirror_class = m.class, mirror_monthly_rate = m.monthly_rate,
       mirror_purchase_price = m.purchase_price, mirror_plan_start = m.plan_start, mirror_plan_end = m.plan_end,
       mirror_forecast_start = m.forecast_start, mirror_forecast_end = m.forecast_end,
       mirror_actual_start = m.actual_start, mirror_actual_end = m.actual_end
  FROM vanguard.pfa_mirror AS m
 WHERE m.organization_id = d.organization_id AND m.id = d.record_id;

CREATE OR REPLACE FUNCTION vanguard.merge_draft() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT m.data || NEW.delta, m.deleted_at IS NOT NULL, m.last_synced_at,
           m.category, m.source, m.plan_cost, m.forecast_cost, m.actual_cost,
           m.area, m.class, m.monthly_rate, m.purchase_price, m.plan_start, m.plan_end,
           m.forecast_start, m.forecast_end, m.actual_start, m.actual_end
      INTO NEW.merged, NEW.record_deleted, NEW.mirror_synced_at,
           NEW.mirror_category, NEW.mirror_source, NEW.mirror_plan_cost, NEW.mirror_forecast_cost,
           NEW.mirror_actual_cost,
           NEW.mirror_area, NEW.mirror_class, NEW.mirror_monthly_rate, NEW.mirror_purchase_price,
           NEW.mirror_plan_start, NEW.mirror_plan_end, NEW.mirror_forecast_start, NEW.mirror_forecast_end,
           NEW.mirror_actual_start, NEW.mirror_actual_end
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
           mirror_forecast_cost = n.forecast_cost, mirror_actual_cost = n.actual_cost,
           mirror_area = n.area, mirror_class = n.class, mirror_monthly_rate = n.monthly_rate,
           mirror_purchase_price = n.purchase_price, mirror_plan_start = n.plan_start, mirror_plan_end = n.plan_end,
           mirror_forecast_start = n.forecast_start, mirror_forecast_end = n.forecast_end,
           mirror_actual_start = n.actual_start, mirror_actual_end = n.actual_end
      FROM changed_records AS n
     WHERE d.organization_id = n.organization_id
       AND d.record_id = n.id
       AND d.state IN ('proposed', 'draft');
    RETURN NULL;
END;
$$;

-- One working draft's moves: for each dimension and measure whose inputs the draft changed, the
-- draft's events (+) and the mirror's (-). Unchanged periods are left out; they would cancel.
CREATE FUNCTION vanguard.draft_matrix_events(d vanguard.pfa_draft)
RETURNS TABLE (dimension text, label text, measure text, month date, slope numeric, weight numeric, lump numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT g.dimension, s.label, p.measure, e.month, s.sign * e.slope, s.sign * e.weight, s.sign * e.lump
    FROM (VALUES ('category', coalesce(d.category, ''), coalesce(d.mirror_category, '')),
                 ('area', coalesce(d.area, ''), coalesce(d.mirror_area, '')),
                 ('class', coalesce(d.class, ''), coalesce(d.mirror_class, ''))) AS g (dimension, draft_label, mirror_label)
    CROSS JOIN (VALUES ('plan', d.plan_start, d.plan_end, d.mirror_plan_start, d.mirror_plan_end),
                       ('forecast', d.forecast_start, d.forecast_end, d.mirror_forecast_start, d.mirror_forecast_end),
                       ('actual', d.actual_start, d.actual_end, d.mirror_actual_start, d.mirror_actual_end))
        AS p (measure, draft_start, draft_end, mirror_start, mirror_end)
    CROSS JOIN LATERAL (VALUES
        (1, g.draft_label, d.source, d.monthly_rate, d.purchase_price, p.draft_start, p.draft_end),
        (-1, g.mirror_label, d.mirror_source, d.mirror_monthly_rate, d.mirror_purchase_price, p.mirror_start, p.mirror_end)
    ) AS s (sign, label, source, rate, price, starts, ends)
    CROSS JOIN LATERAL vanguard.cost_events(s.source, s.rate, s.price, s.starts, s.ends) AS e
    WHERE d.state = 'draft' AND NOT d.record_deleted
      AND (g.draft_label, d.source, d.monthly_rate, d.purchase_price, p.draft_start, p.draft_end)
          IS DISTINCT FROM (g.mirror_label, d.mirror_source, d.mirror_monthly_rate, d.mirror_purchase_price,
                            p.mirror_start, p.mirror_end);
END;

CREATE TABLE vanguard.matrix_draft_delta (
    organization_id text NOT NULL,
    user_id         bigint NOT NULL,
    dimension       text NOT NULL,
    label           text NOT NULL,
    measure         text NOT NULL,
    month           date NOT NULL,
    slope           numeric NOT NULL,
    weight          numeric NOT NULL,
    lump            numeric NOT NULL
);
CREATE INDEX matrix_draft_delta_by_user ON vanguard.matrix_draft_delta (organization_id, user_id, dimension, month);

-- The moves of the rows a statement changed: new rows add, old rows take back. `rows_sql` is one
-- of three constants naming the transition tables, as in track_draft_kpis.
CREATE FUNCTION vanguard.track_draft_matrix() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    rows_sql text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT ROW(n.*)::vanguard.pfa_draft AS d, 1 AS sign FROM new_rows AS n'
        WHEN 'DELETE' THEN 'SELECT ROW(o.*)::vanguard.pfa_draft AS d, -1 AS sign FROM old_rows AS o'
        ELSE 'SELECT ROW(n.*)::vanguard.pfa_draft AS d, 1 AS sign FROM new_rows AS n'
             || ' UNION ALL SELECT ROW(o.*)::vanguard.pfa_draft, -1 FROM old_rows AS o' END;
BEGIN
    EXECUTE format($sql$
        INSERT INTO vanguard.matrix_draft_delta
        SELECT (r.d).organization_id, (r.d).user_id, e.dimension, e.label, e.measure, e.month,
               sum(r.sign * e.slope), sum(r.sign * e.weight), sum(r.sign * e.lump)
        FROM (%s) AS r
        CROSS JOIN LATERAL vanguard.draft_matrix_events(r.d) AS e
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(r.sign * e.slope) <> 0 OR sum(r.sign * e.weight) <> 0 OR sum(r.sign * e.lump) <> 0
    $sql$, rows_sql);
    RETURN NULL;
END;
$$;

CREATE TRIGGER pfa_draft_matrix_insert AFTER INSERT ON vanguard.pfa_draft
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vanguard.track_draft_matrix();
CREATE TRIGGER pfa_draft_matrix_update AFTER UPDATE ON vanguard.pfa_draft
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vanguard.track_draft_matrix();
CREATE TRIGGER pfa_draft_matrix_delete AFTER DELETE ON vanguard.pfa_draft
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION vanguard.track_draft_matrix();

-- The drafts that exist already.
INSERT INTO vanguard.matrix_draft_delta
SELECT d.organization_id, d.user_id, e.dimension, e.label, e.measure, e.month, sum(e.slope), sum(e.weight), sum(e.lump)
FROM vanguard.pfa_draft AS d
CROSS JOIN LATERAL vanguard.draft_matrix_events(d) AS e
GROUP BY 1, 2, 3, 4, 5, 6;

GRANT SELECT, INSERT, DELETE ON vanguard.matrix_draft_delta TO vanguard_app;
