"""The benchmark dataset, built once per `vanguard bench` run and shared by the API, NL and load items."""

from __future__ import annotations

import contextlib
import json
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from nlq import progress
from nlq.auth.passwords import hash_password
from store.draft_rules import check_draft
from store import accounts, demo_data, mirror
from store.database import DatabaseUrls
from store.embedded import EmbeddedPostgres
from store.migrate import upgrade

PASSWORD = "bench-password"


@dataclass(frozen=True)
class Dataset:
    urls: DatabaseUrls
    codes: list[str]
    records_per_org: int
    user_id: int  # "bench": editor everywhere, with the working drafts in codes[0]

    @property
    def org(self) -> str:
        return self.codes[0]


def build(urls: DatabaseUrls, records: int, orgs: int, drafts: int) -> Dataset:
    """Organizations of demo records, one user with `drafts` working drafts in the first."""
    codes = demo_data.organization_codes(orgs)
    per_org = records // orgs
    first = list(demo_data.generate_records(codes[0], per_org))
    with psycopg.connect(urls.app, autocommit=True) as conn:
        loaded = progress.bar("  loading the mirror", total=per_org * len(codes))
        for code in codes:
            accounts.upsert_organization(conn, code, code)
            with conn.transaction():
                rows = first if code == codes[0] else demo_data.generate_records(code, per_org)
                mirror.copy_records(conn, _counted(rows, loaded))
        loaded.close()
        progress.note(f"  {len(codes) * per_org:,} records loaded; drafts, KPIs, statistics ...")
        password = hash_password(PASSWORD)
        user = accounts.insert_user(conn, "bench", password)
        for code in codes:
            accounts.upsert_membership(conn, user, code, "editor")
        # Commits take every working draft of their user: a second user commits batches of its own.
        accounts.upsert_membership(conn, accounts.insert_user(conn, "bench-commit", password), codes[0], "editor")
        with conn.transaction(), conn.cursor().copy(
                "COPY vanguard.pfa_draft (organization_id, user_id, record_id, state, delta) FROM STDIN") as copy:
            for record_id, delta in _valid_drafts(first, drafts):
                copy.write_row((codes[0], user, record_id, "draft", json.dumps(delta)))
        mirror.refresh_kpis(conn)
        mirror.analyze(conn)
        # Committing needs a PEMS record number; the demo rows have none until a sync writes them.
        conn.execute("UPDATE vanguard.pfa_mirror SET pems_record_id = 1 WHERE organization_id = %s", (codes[0],))
    # A settled database, as autovacuum leaves one: statistics, visibility map, no dead rows from loading.
    progress.note("  VACUUM (ANALYZE) ...")
    with psycopg.connect(urls.admin, autocommit=True) as conn:
        for table in ("pfa_mirror", "pfa_draft"):
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier("vanguard", table)))
    return Dataset(urls, codes, per_org, user)


def _counted(rows, shown) -> Iterator[dict]:
    for row in rows:
        yield row
        shown.update()


def _valid_drafts(records: list[dict], count: int) -> list[tuple[str, dict]]:
    """`count` drafts (new area, forecast end two months later) on random records they are valid for:
    the rules refuse, say, moving the forecast of equipment already on site, and a later save on a
    record re-checks its whole draft."""
    rng = random.Random(1)
    found = []
    for record in rng.sample(records, len(records)):
        if len(found) == count:
            break
        end = date.fromisoformat(record["forecastEnd"]) + timedelta(days=60)
        delta = {"area": "Silo 4", "forecastEnd": end.isoformat()}
        if not check_draft(record["pfaId"], delta, record, record):
            found.append((record["pfaId"], delta))
    return found


@contextlib.contextmanager
def fresh_database() -> Iterator[DatabaseUrls]:
    """A migrated database on a throwaway embedded server, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="vanguard-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata", temporary=True)
        admin = server.start()
        try:
            upgrade(admin)
            yield DatabaseUrls.from_admin(admin)
        finally:
            server.stop()


@contextlib.contextmanager
def bench_dataset(records: int, orgs: int, drafts: int) -> Iterator[Dataset]:
    with fresh_database() as urls:
        print(f"building the dataset: {records:,} records in {orgs} organizations, {drafts:,} drafts ...", flush=True)
        yield build(urls, records, orgs, drafts)
