-- The mirror of PEMS: the whole record as JSONB, typed columns generated from it (STORED, so
-- filters use plain btree indexes), and a soft delete for records PEMS no longer returns.

CREATE TABLE vanguard.pfa_mirror (
    organization_id  text NOT NULL REFERENCES vanguard.organizations (id),
    id               text NOT NULL,
    data             jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    last_synced_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,

    area                   text GENERATED ALWAYS AS (data ->> 'area') STORED,
    category               text GENERATED ALWAYS AS (data ->> 'category') STORED,
    category_description   text GENERATED ALWAYS AS (data ->> 'categoryDescription') STORED,
    class                  text GENERATED ALWAYS AS (data ->> 'class') STORED,
    source                 text GENERATED ALWAYS AS (data ->> 'source') STORED,
    dor                    text GENERATED ALWAYS AS (data ->> 'dor') STORED,
    manufacturer           text GENERATED ALWAYS AS (data ->> 'manufacturer') STORED,
    model                  text GENERATED ALWAYS AS (data ->> 'model') STORED,
    equipment_tag          text GENERATED ALWAYS AS (data ->> 'equipmentTag') STORED,
    monthly_rate           numeric GENERATED ALWAYS AS (vanguard.to_numeric_or_null(data ->> 'monthlyRate')) STORED,
    purchase_price         numeric GENERATED ALWAYS AS (vanguard.to_numeric_or_null(data ->> 'purchasePrice')) STORED,
    plan_start             date GENERATED ALWAYS AS (vanguard.to_date_or_null(data ->> 'originalStart')) STORED,
    plan_end               date GENERATED ALWAYS AS (vanguard.to_date_or_null(data ->> 'originalEnd')) STORED,
    forecast_start         date GENERATED ALWAYS AS (vanguard.to_date_or_null(data ->> 'forecastStart')) STORED,
    forecast_end           date GENERATED ALWAYS AS (vanguard.to_date_or_null(data ->> 'forecastEnd')) STORED,
    actual_start           date GENERATED ALWAYS AS (vanguard.to_date_or_null(data ->> 'actualStart')) STORED,
    actual_end             date GENERATED ALWAYS AS (vanguard.to_date_or_null(data ->> 'actualEnd')) STORED,
    is_actualized          boolean GENERATED ALWAYS AS (vanguard.to_bool_or_null(data ->> 'isActualized')) STORED,
    is_discontinued        boolean GENERATED ALWAYS AS (vanguard.to_bool_or_null(data ->> 'isDiscontinued')) STORED,
    is_funds_transferable  boolean GENERATED ALWAYS AS (vanguard.to_bool_or_null(data ->> 'isFundsTransferable')) STORED,
    pems_version           text GENERATED ALWAYS AS (data ->> 'lastModified') STORED,
    plan_cost              numeric GENERATED ALWAYS AS (vanguard.pfa_cost(
                               data ->> 'source',
                               vanguard.to_numeric_or_null(data ->> 'monthlyRate'),
                               vanguard.to_numeric_or_null(data ->> 'purchasePrice'),
                               vanguard.to_date_or_null(data ->> 'originalStart'),
                               vanguard.to_date_or_null(data ->> 'originalEnd'))) STORED,
    forecast_cost          numeric GENERATED ALWAYS AS (vanguard.pfa_cost(
                               data ->> 'source',
                               vanguard.to_numeric_or_null(data ->> 'monthlyRate'),
                               vanguard.to_numeric_or_null(data ->> 'purchasePrice'),
                               vanguard.to_date_or_null(data ->> 'forecastStart'),
                               vanguard.to_date_or_null(data ->> 'forecastEnd'))) STORED,
    actual_cost            numeric GENERATED ALWAYS AS (vanguard.pfa_cost(
                               data ->> 'source',
                               vanguard.to_numeric_or_null(data ->> 'monthlyRate'),
                               vanguard.to_numeric_or_null(data ->> 'purchasePrice'),
                               vanguard.to_date_or_null(data ->> 'actualStart'),
                               vanguard.to_date_or_null(data ->> 'actualEnd'))) STORED,

    PRIMARY KEY (organization_id, id)
);

-- The merged view always adds "deleted_at IS NULL", so partial indexes serve every filter.
CREATE INDEX pfa_mirror_category ON vanguard.pfa_mirror (organization_id, category, id) WHERE deleted_at IS NULL;
CREATE INDEX pfa_mirror_class ON vanguard.pfa_mirror (organization_id, class) WHERE deleted_at IS NULL;
CREATE INDEX pfa_mirror_area ON vanguard.pfa_mirror (organization_id, area) WHERE deleted_at IS NULL;
CREATE INDEX pfa_mirror_source ON vanguard.pfa_mirror (organization_id, source, category) WHERE deleted_at IS NULL;
CREATE INDEX pfa_mirror_forecast_start ON vanguard.pfa_mirror (organization_id, forecast_start) WHERE deleted_at IS NULL;
CREATE INDEX pfa_mirror_forecast_end ON vanguard.pfa_mirror (organization_id, forecast_end) WHERE deleted_at IS NULL;
CREATE INDEX pfa_mirror_live ON vanguard.pfa_mirror (organization_id, id) WHERE deleted_at IS NULL;
