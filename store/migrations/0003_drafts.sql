-- Drafts are field-level deltas beside the mirror; change sets group them (manual edits or an
-- AI bulk suggestion) so they can be reviewed and committed together.
--
-- Each draft also keeps `merged` (its record's mirror data || delta) with the same STORED
-- generated columns as the mirror, maintained by triggers when the draft or its record changes.
-- The merged view then reads a user's drafts from this one table, with no join and no JSONB
-- work at query time (see 0006_merged_view.sql for the figures).

CREATE TABLE vanguard.change_sets (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  text NOT NULL REFERENCES vanguard.organizations (id),
    user_id          bigint NOT NULL REFERENCES vanguard.users (id),
    origin           text NOT NULL CHECK (origin IN ('manual', 'ai_bulk')),
    name             text NOT NULL DEFAULT '',
    request          text,
    plan             jsonb,
    audit_id         bigint,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'committed', 'discarded')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX change_sets_by_owner ON vanguard.change_sets (organization_id, user_id, status);

CREATE TABLE vanguard.pfa_draft (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  text NOT NULL,
    user_id          bigint NOT NULL REFERENCES vanguard.users (id),
    record_id        text NOT NULL,
    change_set_id    bigint REFERENCES vanguard.change_sets (id),
    state            text NOT NULL CHECK (state IN ('proposed', 'draft', 'committed', 'synced',
                                                    'conflict', 'sync_error', 'rejected', 'discarded')),
    -- Only editable keys (store/fields.py); read-only keys would make data and columns disagree.
    delta            jsonb NOT NULL CHECK (jsonb_typeof(delta) = 'object' AND delta - ARRAY[
                         'area', 'category', 'class', 'source', 'dor', 'monthlyRate', 'purchasePrice',
                         'forecastStart', 'forecastEnd', 'isDiscontinued', 'isFundsTransferable'] = '{}'),
    base             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(base) = 'object'),
    base_version     text,
    commit_id        bigint,
    detail           jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    merged           jsonb NOT NULL DEFAULT '{}',
    record_deleted   boolean NOT NULL DEFAULT false,
    mirror_synced_at timestamptz,

    area                   text GENERATED ALWAYS AS (merged ->> 'area') STORED,
    category               text GENERATED ALWAYS AS (merged ->> 'category') STORED,
    category_description   text GENERATED ALWAYS AS (merged ->> 'categoryDescription') STORED,
    class                  text GENERATED ALWAYS AS (merged ->> 'class') STORED,
    source                 text GENERATED ALWAYS AS (merged ->> 'source') STORED,
    dor                    text GENERATED ALWAYS AS (merged ->> 'dor') STORED,
    manufacturer           text GENERATED ALWAYS AS (merged ->> 'manufacturer') STORED,
    model                  text GENERATED ALWAYS AS (merged ->> 'model') STORED,
    equipment_tag          text GENERATED ALWAYS AS (merged ->> 'equipmentTag') STORED,
    monthly_rate           numeric GENERATED ALWAYS AS (vanguard.to_numeric_or_null(merged ->> 'monthlyRate')) STORED,
    purchase_price         numeric GENERATED ALWAYS AS (vanguard.to_numeric_or_null(merged ->> 'purchasePrice')) STORED,
    plan_start             date GENERATED ALWAYS AS (vanguard.to_date_or_null(merged ->> 'originalStart')) STORED,
    plan_end               date GENERATED ALWAYS AS (vanguard.to_date_or_null(merged ->> 'originalEnd')) STORED,
    forecast_start         date GENERATED ALWAYS AS (vanguard.to_date_or_null(merged ->> 'forecastStart')) STORED,
    forecast_end           date GENERATED ALWAYS AS (vanguard.to_date_or_null(merged ->> 'forecastEnd')) STORED,
    actual_start           date GENERATED ALWAYS AS (vanguard.to_date_or_null(merged ->> 'actualStart')) STORED,
    actual_end             date GENERATED ALWAYS AS (vanguard.to_date_or_null(merged ->> 'actualEnd')) STORED,
    is_actualized          boolean GENERATED ALWAYS AS (vanguard.to_bool_or_null(merged ->> 'isActualized')) STORED,
    is_discontinued        boolean GENERATED ALWAYS AS (vanguard.to_bool_or_null(merged ->> 'isDiscontinued')) STORED,
    is_funds_transferable  boolean GENERATED ALWAYS AS (vanguard.to_bool_or_null(merged ->> 'isFundsTransferable')) STORED,
    pems_version           text GENERATED ALWAYS AS (merged ->> 'lastModified') STORED,
    plan_cost              numeric GENERATED ALWAYS AS (vanguard.pfa_cost(
                               merged ->> 'source',
                               vanguard.to_numeric_or_null(merged ->> 'monthlyRate'),
                               vanguard.to_numeric_or_null(merged ->> 'purchasePrice'),
                               vanguard.to_date_or_null(merged ->> 'originalStart'),
                               vanguard.to_date_or_null(merged ->> 'originalEnd'))) STORED,
    forecast_cost          numeric GENERATED ALWAYS AS (vanguard.pfa_cost(
                               merged ->> 'source',
                               vanguard.to_numeric_or_null(merged ->> 'monthlyRate'),
                               vanguard.to_numeric_or_null(merged ->> 'purchasePrice'),
                               vanguard.to_date_or_null(merged ->> 'forecastStart'),
                               vanguard.to_date_or_null(merged ->> 'forecastEnd'))) STORED,
    actual_cost            numeric GENERATED ALWAYS AS (vanguard.pfa_cost(
                               merged ->> 'source',
                               vanguard.to_numeric_or_null(merged ->> 'monthlyRate'),
                               vanguard.to_numeric_or_null(merged ->> 'purchasePrice'),
                               vanguard.to_date_or_null(merged ->> 'actualStart'),
                               vanguard.to_date_or_null(merged ->> 'actualEnd'))) STORED,
    FOREIGN KEY (organization_id, record_id) REFERENCES vanguard.pfa_mirror (organization_id, id)
);

-- At most one working draft per organization, user and record; it also serves the merged view.
CREATE UNIQUE INDEX pfa_draft_one_working
    ON vanguard.pfa_draft (organization_id, user_id, record_id) WHERE state = 'draft';
CREATE INDEX pfa_draft_by_state ON vanguard.pfa_draft (organization_id, user_id, state);
CREATE INDEX pfa_draft_by_change_set ON vanguard.pfa_draft (change_set_id) WHERE change_set_id IS NOT NULL;
CREATE INDEX pfa_draft_by_record ON vanguard.pfa_draft (organization_id, record_id);

-- A draft's merged record is recomputed whenever its delta changes ...
CREATE FUNCTION vanguard.merge_draft() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT m.data || NEW.delta, m.deleted_at IS NOT NULL, m.last_synced_at
      INTO NEW.merged, NEW.record_deleted, NEW.mirror_synced_at
      FROM vanguard.pfa_mirror AS m
     WHERE m.organization_id = NEW.organization_id AND m.id = NEW.record_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER pfa_draft_merge
    BEFORE INSERT OR UPDATE OF delta, organization_id, record_id ON vanguard.pfa_draft
    FOR EACH ROW EXECUTE FUNCTION vanguard.merge_draft();

-- ... and whenever PEMS changes (or stops returning) its record. One statement per sync batch.
CREATE FUNCTION vanguard.remerge_drafts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE vanguard.pfa_draft AS d
       SET merged = n.data || d.delta,
           record_deleted = n.deleted_at IS NOT NULL,
           mirror_synced_at = n.last_synced_at
      FROM changed_records AS n
     WHERE d.organization_id = n.organization_id
       AND d.record_id = n.id
       AND d.state IN ('proposed', 'draft');
    RETURN NULL;
END;
$$;

CREATE TRIGGER pfa_mirror_remerge_drafts
    AFTER UPDATE ON vanguard.pfa_mirror
    REFERENCING NEW TABLE AS changed_records
    FOR EACH STATEMENT EXECUTE FUNCTION vanguard.remerge_drafts();
