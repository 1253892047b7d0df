-- Organizations, users and their memberships, plus the immutable parsing helpers that the
-- generated columns of the mirror and the merged view share.

CREATE SCHEMA IF NOT EXISTS nlq;

CREATE FUNCTION vanguard.to_date_or_null(value text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN value !~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' THEN NULL
    -- Days up to 28 exist in every month: the common case needs no calendar arithmetic.
    WHEN substr(value, 9, 2) <= '28'
         OR substr(value, 9, 2)::int <= extract(day FROM (
                make_date(substr(value, 1, 4)::int, substr(value, 6, 2)::int, 1)
                + interval '1 month' - interval '1 day'))::int
    THEN make_date(substr(value, 1, 4)::int, substr(value, 6, 2)::int, substr(value, 9, 2)::int)
END;

COMMENT ON FUNCTION vanguard.to_date_or_null(text) IS
    'ISO date text to date; NULL for anything malformed, so one bad PEMS value never breaks an insert.';

CREATE FUNCTION vanguard.to_numeric_or_null(value text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN length(value) <= 40 AND value ~ '^-?[0-9]+(\.[0-9]+)?$' THEN value::numeric
END;

CREATE FUNCTION vanguard.to_bool_or_null(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE lower(value)
    WHEN 'true' THEN true WHEN 'y' THEN true
    WHEN 'false' THEN false WHEN 'n' THEN false
END;

CREATE FUNCTION vanguard.pfa_cost(source text, monthly_rate numeric, purchase_price numeric,
                                  starts date, ends date) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE source
    WHEN 'Rental' THEN round(monthly_rate * (ends - starts) / 30.44, 2)
    WHEN 'Purchase' THEN CASE WHEN starts IS NOT NULL THEN purchase_price END
END;

COMMENT ON FUNCTION vanguard.pfa_cost(text, numeric, numeric, date, date) IS
    'Rental: monthly_rate x days / 30.44; Purchase: purchase_price once the period has a start (no actual cost before actuals exist).';

CREATE TABLE vanguard.organizations (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vanguard.users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    display_name   text NOT NULL DEFAULT '',
    password_hash  text NOT NULL,
    is_active      boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vanguard.memberships (
    user_id          bigint NOT NULL REFERENCES vanguard.users (id) ON DELETE CASCADE,
    organization_id  text NOT NULL REFERENCES vanguard.organizations (id) ON DELETE CASCADE,
    role             text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, organization_id)
);
CREATE INDEX memberships_by_organization ON vanguard.memberships (organization_id);
