"""Which organizations are due for a sync, and one pass of the scheduler (read syncs, then write-back)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg

from store import queries
from store.pems.client import PemsClient
from store.sync.worker import SyncResult, sync_organization
from store.sync.writeback import DeliveryResult, deliver_outbox

log = logging.getLogger(__name__)
_Q = queries.load("sync")


@dataclass(frozen=True)
class Schedule:
    interval_seconds: int = 15 * 60
    full_every_seconds: int = 24 * 3600
    max_delete_share: float = 0.5


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


def run_pass(app_url: str, client: PemsClient, schedule: Schedule, *, syncs: bool = True) -> PassResult:
    """Deliver the write-back outbox, then sync every organization that is due (full when due)."""
    result = PassResult(delivery=deliver_outbox(app_url, client))
    if not syncs:
        return result
    with psycopg.connect(app_url, autocommit=True) as conn:
        plan = [(org, full_sync_due(conn, org, schedule)) for org in due_organizations(conn, schedule)]
    for org, full in plan:
        outcome = sync_organization(app_url, client, org, full=full, max_delete_share=schedule.max_delete_share)
        log.info("sync %s (%s): %s, %d fetched, %d inserted, %d updated, %d deleted", org, outcome.kind,
                 outcome.status, outcome.fetched, outcome.inserted, outcome.updated, outcome.deleted)
        result.syncs.append(outcome)
    return result
