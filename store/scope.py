"""Transaction-local organization and user for the merged view.

The reader role cannot execute set_config, so the scope is set with `SET LOCAL`, the values
quoted by psycopg (never formatted by hand). The settings vanish at COMMIT or ROLLBACK.
"""

from __future__ import annotations

from psycopg import sql

ORG_SETTING = "app.org_id"
USER_SETTING = "app.user_id"


def scope_statements(org_id: str, user_id: int | None) -> list[sql.Composed]:
    """The statements that scope the current transaction to one organization and user.

    >>> [s.as_string(None) for s in scope_statements("ORG_A", 7)]
    ['SET LOCAL "app"."org_id" = \\'ORG_A\\'', 'SET LOCAL "app"."user_id" = \\'7\\'']
    """
    statements = [sql.SQL("SET LOCAL {} = {}").format(sql.Identifier(*ORG_SETTING.split(".")), sql.Literal(org_id))]
    if user_id is not None:
        statements.append(
            sql.SQL("SET LOCAL {} = {}").format(sql.Identifier(*USER_SETTING.split(".")), sql.Literal(str(int(user_id))))
        )
    return statements


# The app role may call set_config, which sets both values in one round trip (is_local = true:
# the same transaction lifetime as SET LOCAL). Values are parameters.
SET_SCOPE = sql.SQL("SELECT set_config({}, %(org_id)s, true), set_config({}, %(user_id)s, true)").format(
    sql.Literal(ORG_SETTING), sql.Literal(USER_SETTING))


def scope_params(org_id: str, user_id: int) -> dict:
    return {"org_id": org_id, "user_id": str(int(user_id))}
