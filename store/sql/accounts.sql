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
SELECT id, username, display_name, password_hash, is_active
FROM vanguard.users
WHERE username = %(username)s;

-- name: upsert_membership
INSERT INTO vanguard.memberships (user_id, organization_id, role)
VALUES (%(user_id)s, %(organization_id)s, %(role)s)
ON CONFLICT (user_id, organization_id) DO UPDATE SET role = EXCLUDED.role;

-- name: list_organizations
SELECT id, name FROM vanguard.organizations ORDER BY id;
