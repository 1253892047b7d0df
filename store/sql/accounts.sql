-- name: upsert_organization
INSERT INTO vanguard.organizations (id, name)
VALUES (%(id)s, %(name)s)
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name
RETURNING id;

-- name: insert_user
INSERT INTO vanguard.users (username, display_name, password_hash)
VALUES (%(username)s, %(display_name)s, %(password_hash)s)
RETURNING id;

-- name: find_user_by_username
SELECT id, username, display_name, password_hash, is_active, session_generation
FROM vanguard.users
WHERE username = %(username)s;

-- name: set_password
-- A new password also ends the sessions opened with the old one.
UPDATE vanguard.users SET password_hash = %(password_hash)s, session_generation = session_generation + 1
WHERE username = %(username)s
RETURNING id;

-- name: upsert_membership
INSERT INTO vanguard.memberships (user_id, organization_id, role)
VALUES (%(user_id)s, %(organization_id)s, %(role)s)
ON CONFLICT (user_id, organization_id) DO UPDATE SET role = EXCLUDED.role;

-- name: remove_membership
DELETE FROM vanguard.memberships
WHERE user_id = %(user_id)s AND organization_id = %(organization_id)s;

-- name: end_sessions
-- Every token issued before this carries a smaller generation and is refused from now on.
UPDATE vanguard.users SET session_generation = session_generation + 1
WHERE username = %(username)s
RETURNING session_generation;

-- name: memberships_of
SELECT organization_id, role, sees_costs FROM vanguard.memberships WHERE user_id = %(user_id)s
ORDER BY organization_id;

-- name: set_cost_visibility
UPDATE vanguard.memberships SET sees_costs = %(sees_costs)s
WHERE user_id = %(user_id)s AND organization_id = %(organization_id)s;

-- name: list_organizations
SELECT id, name FROM vanguard.organizations ORDER BY id;

-- name: get_secret
SELECT value FROM vanguard.app_secrets WHERE name = %(name)s;

-- name: user_with_memberships
-- Also whether the token was revoked by logging out (one primary-key lookup, same round trip),
-- and the user's session generation (a token of an older one was ended by an administrator).
SELECT u.id, u.username, u.display_name, u.is_active,
       coalesce(jsonb_object_agg(m.organization_id, m.role) FILTER (WHERE m.organization_id IS NOT NULL), '{}'),
       EXISTS (SELECT 1 FROM vanguard.revoked_tokens AS r WHERE r.jti = %(jti)s) AS revoked,
       coalesce(array_agg(m.organization_id) FILTER (WHERE NOT m.sees_costs), '{}') AS costs_hidden_in,
       u.session_generation
FROM vanguard.users AS u
LEFT JOIN vanguard.memberships AS m ON m.user_id = u.id
WHERE u.id = %(user_id)s
GROUP BY u.id;

-- name: list_users
SELECT u.username, u.display_name, u.is_active,
       coalesce(string_agg(m.organization_id || ':' || m.role
                           || CASE WHEN m.sees_costs THEN '' ELSE ' (costs hidden)' END,
                           ', ' ORDER BY m.organization_id), '')
FROM vanguard.users AS u
LEFT JOIN vanguard.memberships AS m ON m.user_id = u.id
GROUP BY u.id
ORDER BY u.username;

-- name: revoke_token
INSERT INTO vanguard.revoked_tokens (jti, user_id, expires_at)
VALUES (%(jti)s, %(user_id)s, %(expires_at)s)
ON CONFLICT (jti) DO NOTHING;

-- name: prune_revoked_tokens
-- A token past its expiry is refused by its signature check alone; its row is no longer needed.
DELETE FROM vanguard.revoked_tokens WHERE expires_at < now();
