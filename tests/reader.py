"""Run a statement the way the NL executor will: reader role, READ ONLY, scoped, extended protocol."""

from __future__ import annotations

import psycopg

from store.scope import scope_statements


def run_as_reader(url: str, sql: str, org: str = "ORG_A", user: int | None = None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        conn.execute("BEGIN READ ONLY")
        for statement in scope_statements(org, user):
            conn.execute(statement)
        rows = conn.execute(sql, prepare=True).fetchall()
        conn.rollback()
        return rows
