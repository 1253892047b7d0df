-- A signing secret generated once per database, so tokens survive restarts and every API
-- process behind a load balancer accepts the same tokens without extra configuration.

CREATE TABLE vanguard.app_secrets (
    name        text PRIMARY KEY,
    value       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO vanguard.app_secrets (name, value)
VALUES ('jwt_signing_key', encode(sha256(gen_random_uuid()::text::bytea || clock_timestamp()::text::bytea
                                         || gen_random_uuid()::text::bytea), 'hex'));

GRANT SELECT ON vanguard.app_secrets TO vanguard_app;
