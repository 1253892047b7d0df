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


async def wait_until_no_active_reader(admin_url: str, attempts: int = 100) -> int:
    """How many reader queries are still active once they stop (or after ~10 s)."""
    import asyncio
    with psycopg.connect(admin_url) as admin:
        for _ in range(attempts):
            active = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = 'vanguard_reader'"
                                   " AND state = 'active'").fetchone()[0]
            if active == 0:
                return 0
            await asyncio.sleep(0.1)
    return active


async def wait_until_a_reader_is_active(admin_url: str, attempts: int = 100) -> bool:
    """Whether a reader query became active within ~10 s (so a test knows its query really runs)."""
    import asyncio
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for _ in range(attempts):
            active = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = 'vanguard_reader'"
                                   " AND state = 'active' AND query ~* '^(DECLARE|FETCH)'").fetchone()[0]
            if active:
                return True
            await asyncio.sleep(0.1)
    return False
