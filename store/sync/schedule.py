"""Which organizations are due for a sync, and one pass of the scheduler (read syncs, then write-back)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from store import queries
from store.pems.client import PemsClient
from store.sync.worker import DEFAULT_OVERLAP_SECONDS, SyncResult, sync_lock_key, sync_organization
from store.sync.writeback import LEASE_SECONDS, DeliveryResult, deliver_outbox

log = logging.getLogger(__name__)
_Q = queries.load("sync")


@dataclass(frozen=True)
class Schedule:
    interval_seconds: int = 15 * 60
    full_every_seconds: int = 24 * 3600
    max_delete_share: float = 0.5
    overlap_seconds: float = DEFAULT_OVERLAP_SECONDS
    # How long a claim may go without a sign of life before another process takes it over: an
    # outbox row in flight, and a read sync whose run never finished (its process was killed).
    writeback_lease_seconds: float = LEASE_SECONDS
    sync_lease_seconds: float = 120.0


@dataclass
class PassResult:
    syncs: list[SyncResult] = field(default_factory=list)
    delivery: DeliveryResult | None = None


def due_organizations(conn: psycopg.Connection, schedule: Schedule) -> list[str]:
    rows = conn.execute(_Q["organizations_due"], {"interval_seconds": schedule.interval_seconds}).fetchall()
    return [r[0] for r in rows]


def full_sync_due(conn: psycopg.Connection, org: str, schedule: Schedule) -> bool:
    row = conn.execute(_Q["full_sync_due"], {"org": org, "full_every_seconds": schedule.full_every_seconds}).fetchone()
    return bool(row and row[0])


def claim_due(conn: psycopg.Connection, org: str, schedule: Schedule) -> bool:
    """Take `org` for a sync if it is still due; of processes asking at once, exactly one gets it."""
    row = conn.execute(_Q["claim_due_sync"], {"org": org, "interval_seconds": schedule.interval_seconds}).fetchone()
    return row is not None


def abandoned_organizations(conn: psycopg.Connection, schedule: Schedule) -> list[str]:
    """Organizations whose last read sync never finished and whose process is gone.

    A run that started longer than the lease ago and is still unfinished is either slow or dead;
    the sync lock (a session advisory lock, released by PostgreSQL when the process's connection
    dies) tells them apart, so a live slow run is never doubled.
    """
    rows = conn.execute(_Q["organizations_abandoned"], {"lease_seconds": schedule.sync_lease_seconds}).fetchall()
    return [org for (org,) in rows if sync_lock_free(conn, org)]


def sync_lock_free(conn: psycopg.Connection, org: str) -> bool:
    key = sync_lock_key(org)
    if not conn.execute(_Q["try_sync_lock"], {"key": key}).fetchone()[0]:
        return False
    conn.execute(_Q["release_sync_lock"], {"key": key})
    return True


def claim_abandoned(conn: psycopg.Connection, org: str, schedule: Schedule) -> bool:
    """Take over `org`'s abandoned sync; of processes asking at once, exactly one gets it."""
    row = conn.execute(_Q["claim_abandoned_sync"], {"org": org, "lease_seconds": schedule.sync_lease_seconds}).fetchone()
    return row is not None


def sync_due_organizations(app_url: str, client: PemsClient, schedule: Schedule, *,
                           progress: Callable[[str], Callable[[int], None] | None] | None = None,
                           report: Callable[[SyncResult], None] | None = None) -> list[SyncResult]:
    """Sync every organization that the runs recorded in the database say is due (full when a
    reconcile is due), each claimed first, so any number of processes or restarts sync it once.

    `progress(org)` may return a callback for the rows read; `report` sees each result.
    """
    with psycopg.connect(app_url, autocommit=True) as conn:
        candidates = due_organizations(conn, schedule)
        abandoned = [org for org in abandoned_organizations(conn, schedule) if org not in candidates]
    results = []
    for org in candidates + abandoned:
        with psycopg.connect(app_url, autocommit=True) as conn:
            full = full_sync_due(conn, org, schedule)
            claim = claim_abandoned if org in abandoned else claim_due
            if not claim(conn, org, schedule):
                continue  # another process took it meanwhile
        outcome = sync_organization(app_url, client, org, full=full, max_delete_share=schedule.max_delete_share,
                                    overlap_seconds=schedule.overlap_seconds,
                                    progress=progress(org) if progress else None)
        log.info("sync %s (%s) from %s: %s, %d fetched, %d inserted, %d updated, %d deleted", org, outcome.kind,
                 outcome.pems, outcome.status, outcome.fetched, outcome.inserted, outcome.updated, outcome.deleted)
        if report:
            report(outcome)
        results.append(outcome)
    return results


def run_pass(app_url: str, client: PemsClient, schedule: Schedule, *, syncs: bool = True) -> PassResult:
    """Deliver the write-back outbox, then sync every organization that is due (full when due)."""
    result = PassResult(delivery=deliver_outbox(app_url, client, lease_seconds=schedule.writeback_lease_seconds))
    if syncs:
        result.syncs = sync_due_organizations(app_url, client, schedule)
    return result
