-- name: claim_login_attempt
-- Count one attempt on a key (a username or an address) unless the key is waiting out its delay.
-- One statement: parallel attempts queue on the row lock, and each sees the count the previous
-- one left, so no more attempts reach password verification than the limit allows. The clock is
-- read after the lock is taken (clock_timestamp, not the statement's start).
INSERT INTO vanguard.login_attempts AS a (kind, key, failures, last_at, granted)
VALUES (%(kind)s, %(key)s, 1, clock_timestamp(), true)
ON CONFLICT (kind, key) DO UPDATE SET (failures, last_at, granted) = (
    SELECT CASE WHEN s.waiting THEN a.failures WHEN s.expired THEN 1 ELSE a.failures + 1 END,
           CASE WHEN s.waiting THEN a.last_at ELSE s.now END,
           NOT s.waiting
    FROM (SELECT t.now,
                 a.last_at < t.now - make_interval(secs => %(window_seconds)s) AS expired,
                 coalesce(vanguard.login_wait_until(a.last_at, a.failures, %(free)s, %(max_delay_seconds)s) > t.now,
                          false) AS waiting
          FROM (SELECT clock_timestamp() AS now) AS t) AS s)
RETURNING granted,
          ceil(extract(epoch FROM vanguard.login_wait_until(last_at, failures, %(free)s, %(max_delay_seconds)s)
                                  - clock_timestamp()))::int AS wait_seconds;

-- name: refund_login_attempt
-- An attempt that was counted on this key but never reached a wrong password.
UPDATE vanguard.login_attempts SET failures = greatest(failures - 1, 0)
WHERE kind = %(kind)s AND key = %(key)s;

-- name: clear_login_attempts
DELETE FROM vanguard.login_attempts WHERE kind = %(kind)s AND key = %(key)s;

-- name: prune_login_attempts
DELETE FROM vanguard.login_attempts WHERE last_at < clock_timestamp() - make_interval(secs => %(window_seconds)s);
