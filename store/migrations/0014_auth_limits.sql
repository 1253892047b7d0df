-- Login attempt counts and revoked tokens, kept in PostgreSQL so that every API process behind a
-- load balancer shares them at once (DESIGN section 10: API processes are stateless).

-- One row per username (kind 'user', lower-cased) and per client address (kind 'address').
-- `failures` counts the attempts of the current window that were let through to password
-- verification (counted before argon2 runs, so parallel attempts cannot overtake the count);
-- a correct password resets the username's row. `last_at` is when the last counted attempt
-- started; the window ends `window` after it.
CREATE TABLE vanguard.login_attempts (
    kind      text NOT NULL CHECK (kind IN ('user', 'address')),
    key       text NOT NULL CHECK (length(key) <= 256),
    failures  integer NOT NULL CHECK (failures >= 0),
    last_at   timestamptz NOT NULL,
    granted   boolean NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX login_attempts_by_age ON vanguard.login_attempts (last_at);

-- When the next attempt on a key may start: after `free` counted failures, each further attempt
-- waits 2^k seconds (k = 1, 2, ...) after the previous one, at most `max_seconds`.
CREATE FUNCTION vanguard.login_wait_until(last_at timestamptz, failures integer, free integer,
                                          max_seconds integer) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN failures >= free
            THEN last_at + make_interval(secs => least(power(2, least(failures - free + 1, 30)), max_seconds))
       END;

-- Tokens ended by logging out, until they would have expired anyway (then pruned).
CREATE TABLE vanguard.revoked_tokens (
    jti         text PRIMARY KEY CHECK (length(jti) <= 64),
    user_id     bigint NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_by_expiry ON vanguard.revoked_tokens (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON vanguard.login_attempts, vanguard.revoked_tokens TO vanguard_app;
GRANT EXECUTE ON FUNCTION vanguard.login_wait_until(timestamptz, integer, integer, integer) TO vanguard_app;
