"""The built-in PEMS's durable state: its own PostgreSQL database beside the app's.

Every process that runs the built-in simulator for one data directory (the server, a CLI sync,
`vanguard pems-sim --durable`) opens the same database, so they all talk to one PEMS, and what
was written to it survives restarts. The simulator keeps a copy in memory for its grid reads and
catches up with the stored version before each one; every change is one transaction that first
takes the `state` row, so writers of all processes queue there, versions grow in commit order and
a check-and-set (the UPDATE's `recordid`) is atomic across processes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TypeVar
from uuid import UUID

import orjson
import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from store import demo_data, queries
from store.database import with_database
from store.errors import StoreError

log = logging.getLogger(__name__)
_Q = queries.load("pems_sim")

EMBEDDED_DATABASE = "postgres"  # the app's database on the embedded server
SIM_DATABASE = "pems_sim"
MAX_IDENTIFIER = 63
T = TypeVar("T")


class SimStoreUnavailable(StoreError):
    """The built-in PEMS's database could not be opened."""

    code = "pems_sim_unavailable"


@dataclass(frozen=True)
class StoredState:
    version: int
    generation: UUID
    seed: int
    clock_offset: timedelta


@dataclass(frozen=True)
class StoredRecord:
    organization: str
    id: str
    data: dict
    recordid: int
    modified: datetime
    deleted: bool = False


@dataclass
class Loaded:
    """What one consistent read of the store returned: its state, every organization's next
    record number, and records (all live ones, or the ones changed since a version)."""

    state: StoredState
    next_index: dict[str, int]
    records: list[StoredRecord]


def sim_database_name(app_database: str) -> str:
    """The simulator's database beside the app's: `pems_sim` on the embedded server (whose app
    database is `postgres`), `<app database>_pems_sim` elsewhere, so two deployments sharing one
    server never share a PEMS.

    >>> sim_database_name("postgres"), sim_database_name("vanguard")
    ('pems_sim', 'vanguard_pems_sim')
    """
    if app_database == EMBEDDED_DATABASE:
        return SIM_DATABASE
    return f"{app_database[:MAX_IDENTIFIER - len(SIM_DATABASE) - 1]}_{SIM_DATABASE}"


class SimStore:
    """One connection to the simulator's database. Not thread-safe: the simulator holding it
    serializes its use under its own lock."""

    def __init__(self, url: str, label: str) -> None:
        self.url, self.label = url, label
        self._conn: psycopg.Connection | None = None

    @classmethod
    def open(cls, admin_url: str, label: str) -> SimStore:
        """Create the simulator's database (reachable by superusers only) and its tables if
        missing, and return a store on it. `admin_url` is a superuser's URL of the app's database."""
        app_database = conninfo_to_dict(admin_url).get("dbname") or EMBEDDED_DATABASE
        name = sim_database_name(app_database)
        try:
            _ensure_database(admin_url, name)
            store = cls(with_database(admin_url, name), label)
            with store._connection().transaction():
                store._connection().execute(_Q["create_schema"])
        except psycopg.Error as exc:
            raise SimStoreUnavailable(f"could not open the built-in PEMS's database {name}: "
                                      f"{type(exc).__name__}: {str(exc).strip()[:200]}") from exc
        return store

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> psycopg.Connection:
        """The store's connection, made again when the server dropped it (a restart)."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self.url, autocommit=True)
            self._conn.execute("SET TIME ZONE 'UTC'")
        return self._conn

    def _retrying(self, operation: Callable[[], T]) -> T:
        """Run `operation`, once more on a new connection if the server had dropped this one."""
        try:
            return operation()
        except psycopg.OperationalError:
            if self._conn is None or not self._conn.broken:
                raise
            log.info("the built-in PEMS's database connection was lost; connecting again")
            return operation()

    # -- seeding -----------------------------------------------------------------------------
    def seed(self, organizations: Iterable[str], records: int, *, seed: int) -> None:
        """Seed the organizations this PEMS does not hold yet with `records` demo records each
        (the same deterministic records the in-memory simulator holds); once per organization,
        whatever later processes ask for."""
        conn = self._connection()
        with conn.transaction():
            conn.execute(_Q["insert_state"], {"seed": seed})
            state = _state(conn.execute(_Q["begin_change"]).fetchone())
            known = dict(conn.execute(_Q["list_organizations"]).fetchall())
            missing = [org for org in organizations if org not in known]
            if missing:
                self._seed_organizations(conn, state, missing, records)

    def reset(self, organizations: Iterable[str], records: int, *, seed: int) -> None:
        """Forget every record, change and idempotency key, and seed afresh (one transaction:
        other processes see the old PEMS or the new one, and load the new one when they next look)."""
        conn = self._connection()
        with conn.transaction():
            conn.execute(_Q["insert_state"], {"seed": seed})
            conn.execute(_Q["begin_change"])
            conn.execute(_Q["forget_records"])
            state = _state(conn.execute(_Q["new_generation"], {"seed": seed}).fetchone())
            self._seed_organizations(conn, state, list(organizations), records)

    def _seed_organizations(self, conn: psycopg.Connection, state: StoredState, organizations: list[str],
                            records: int) -> None:
        newest = None
        for org in organizations:
            conn.execute(_Q["insert_organization"], {"code": org, "next_index": records + 1, "records": records})
        with conn.cursor().copy(_Q["copy_records"]) as copy:
            for org in organizations:
                for record in demo_data.generate_records(org, records, seed=state.seed):
                    modified = datetime.fromisoformat(record["lastModified"].replace("Z", "+00:00"))
                    newest = modified if newest is None or modified > newest else newest
                    copy.write_row((org, record["pfaId"], orjson.dumps(record).decode(), 1, modified, state.version))
        now = datetime.now(timezone.utc)
        if newest is not None and newest > now + state.clock_offset:  # PEMS never stamps a change in its future
            conn.execute(_Q["set_clock_offset"], {"offset": newest - now + timedelta(seconds=1)})

    # -- reading -----------------------------------------------------------------------------
    def state(self) -> StoredState:
        return self._retrying(lambda: _state(self._connection().execute(_Q["read_state"]).fetchone()))

    def load(self) -> Loaded:
        """Every live record, in one snapshot with the state it belongs to."""
        return self._retrying(lambda: self._snapshot(_Q["live_records"], {}))

    def changes_since(self, version: int) -> Loaded:
        """The records changed (or deleted) after `version`, in one snapshot with the state."""
        return self._retrying(lambda: self._snapshot(_Q["records_changed_since"], {"since": version}))

    def _snapshot(self, query: str, params: dict) -> Loaded:
        conn = self._connection()
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(_Q["repeatable_read"])
            return self._read(cur, query, params)

    @staticmethod
    def _read(cur: psycopg.Cursor, query: str, params: dict) -> Loaded:
        state = _state(cur.execute(_Q["read_state"]).fetchone())
        next_index = dict(cur.execute(_Q["list_organizations"]).fetchall())
        rows = [StoredRecord(*row) for row in cur.execute(query, params)]
        return Loaded(state, next_index, rows)

    def answer(self, key: str) -> tuple[int, dict] | None:
        """PEMS's first answer to an idempotency key, if it has seen the key."""
        row = self._retrying(lambda: self._connection().execute(_Q["find_answer"], {"key": key}).fetchone())
        return (row[0], row[1]) if row else None

    # -- changing ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def change(self) -> Iterator[Change]:
        """One change of this PEMS: a transaction that holds the state row from its first
        statement (so no other process changes anything meanwhile) and stores what the change
        recorded when the block ends; nothing is stored when it raises."""
        self.state()  # a connection the server dropped is made again here, not in the middle of a change
        conn = self._connection()
        with conn.transaction():
            change = Change(self, _state(conn.execute(_Q["begin_change"]).fetchone()))
            yield change
            change.flush(conn)

    def advance_clock(self, seconds: float) -> timedelta:
        row = self._connection().execute(_Q["advance_clock"], {"step": timedelta(seconds=seconds)}).fetchone()
        return row[0]


@dataclass
class Change:
    """What one change of the store writes when it ends (see `SimStore.change`)."""

    store: SimStore
    state: StoredState
    _records: dict[tuple[str, str], StoredRecord] = field(default_factory=dict)
    _next_index: dict[str, int] = field(default_factory=dict)
    _answers: dict[str, tuple[int, dict]] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return self.state.version

    def since(self, version: int) -> Loaded:
        """What other processes changed after `version` (this change holds the store: nothing moves meanwhile)."""
        with self.store._connection().cursor() as cur:
            return SimStore._read(cur, _Q["records_changed_since"], {"since": version})

    def load(self) -> Loaded:
        with self.store._connection().cursor() as cur:
            return SimStore._read(cur, _Q["live_records"], {})

    def put(self, org: str, rid: str, data: dict, recordid: int, modified: datetime) -> None:
        self._records[(org, rid)] = StoredRecord(org, rid, data, recordid, modified)

    def delete(self, org: str, rid: str) -> None:
        self._records[(org, rid)] = StoredRecord(org, rid, {}, 0, datetime.min, deleted=True)

    def set_next_index(self, org: str, next_index: int) -> None:
        self._next_index[org] = next_index

    def remember(self, key: str, status: int, body: dict) -> None:
        self._answers[key] = (status, body)

    def answer(self, key: str) -> tuple[int, dict] | None:
        return self._answers.get(key) or self.store.answer(key)

    def flush(self, conn: psycopg.Connection) -> None:
        with conn.cursor() as cur:
            puts = [r for r in self._records.values() if not r.deleted]
            deletes = [r for r in self._records.values() if r.deleted]
            if puts:
                cur.executemany(_Q["put_record"], [
                    {"organization": r.organization, "id": r.id, "data": Jsonb(r.data), "recordid": r.recordid,
                     "modified": r.modified, "version": self.version} for r in puts])
            if deletes:
                cur.executemany(_Q["delete_record"], [
                    {"organization": r.organization, "id": r.id, "version": self.version} for r in deletes])
            if self._next_index:
                cur.executemany(_Q["set_next_index"], [{"code": org, "next_index": n}
                                                       for org, n in self._next_index.items()])
            if self._answers:
                cur.executemany(_Q["remember_answer"], [
                    {"key": key, "status": status, "body": Jsonb(body), "version": self.version}
                    for key, (status, body) in self._answers.items()])


def _state(row) -> StoredState:
    return StoredState(version=row[0], generation=row[1], seed=row[2], clock_offset=row[3])


def _ensure_database(admin_url: str, name: str) -> None:
    """Create the database if missing; only superusers may connect to it (no app, no reader role)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(_Q["database_exists"], {"name": name}).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                log.info("created the built-in PEMS's database %s", name)
            except (errors.DuplicateDatabase, errors.UniqueViolation):
                pass  # another process made it meanwhile
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
