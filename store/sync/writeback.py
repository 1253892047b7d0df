"""Write-back: committing drafts into the outbox, and delivering the outbox to PEMS.

Every committed draft ends in exactly one of `synced`, `conflict` or `sync_error`, and is written
to PEMS at most once: each outbox row carries an idempotency key, a crash after PEMS accepted a
write is recovered by re-sending with the same key (PEMS answers with its first answer), and a
row in flight for longer than the lease is taken over by the next worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg
from psycopg.types.json import Jsonb

from store import queries
from store.pems.client import PemsClient
from store.pems.errors import PemsConflict, PemsRejected, PemsUnavailable

log = logging.getLogger(__name__)
_Q = queries.load("writeback")
_SYNC = queries.load("sync")

MAX_ATTEMPTS = 5
LEASE_SECONDS = 120
BACKOFF_SECONDS = 5.0


@dataclass
class CommitResult:
    commit_id: int | None
    committed: list[str] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)


def conflicting_fields(delta: dict, base: dict, current: dict) -> dict:
    """Fields PEMS changed since the draft was made that the user also changed (to something else).

    >>> conflicting_fields({"area": "B"}, {"area": "A"}, {"area": "C"})
    {'area': {'mine': 'B', 'theirs': 'C', 'base': 'A'}}
    >>> conflicting_fields({"area": "B"}, {"area": "A"}, {"area": "A", "class": "X"})
    {}
    """
    found = {}
    for key, mine in delta.items():
        theirs, was = current.get(key), base.get(key)
        if theirs != was and theirs != mine:
            found[key] = {"mine": mine, "theirs": theirs, "base": was}
    return found


def commit_drafts(conn: psycopg.Connection, org: str, user_id: int, change_set_id: int | None = None) -> CommitResult:
    """Commit the user's working drafts (all, or one change set) in one transaction.

    Each draft is checked field by field against the current mirror: clean ones (including those
    where PEMS changed only other fields: they rebase) become `committed` with an outbox row;
    the others become `conflict`, holding both values per field.
    """
    with conn.transaction():
        params = {"org": org, "user_id": user_id, "change_set_id": change_set_id}
        drafts = conn.execute(_Q["lock_working_drafts"], params).fetchall()
        if not drafts:
            return CommitResult(commit_id=None)
        commit_id = conn.execute(_Q["insert_commit"], params).fetchone()[0]
        result = CommitResult(commit_id=commit_id)
        clean: list[int] = []
        for draft_id, record_id, delta, base, current, _version, deleted in drafts:
            fields = {"_record": "deleted in PEMS"} if deleted else conflicting_fields(delta, base, current)
            if fields:
                conn.execute(_Q["mark_draft_conflict"], {"id": draft_id, "commit_id": commit_id,
                                                         "detail": Jsonb({"conflicts": fields})})
                result.conflicts.append({"record_id": record_id, "fields": fields})
            else:
                clean.append(draft_id)
                result.committed.append(record_id)
        if clean:
            conn.execute(_Q["mark_committed"], {"ids": clean, "commit_id": commit_id})
            conn.execute(_Q["enqueue_writes"], {"ids": clean})
    return result


@dataclass
class DeliveryResult:
    claimed: int = 0
    synced: int = 0
    conflicts: int = 0
    rebased: int = 0
    retrying: int = 0
    errors: int = 0


    def add(self, other: DeliveryResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def deliver_outbox(app_url: str, client: PemsClient, *, org: str | None = None, limit: int = 100,
                   lease_seconds: int = LEASE_SECONDS, max_attempts: int = MAX_ATTEMPTS,
                   rounds: int = 3) -> DeliveryResult:
    """Send due outbox rows to PEMS and record each outcome; safe to run in several workers.

    Rows rebased onto a newer PEMS version are due at once, so up to `rounds` passes are made.
    Each pass writes one `sync_runs` row (direction write) per organization it touched.
    """
    total = DeliveryResult()
    with psycopg.connect(app_url, autocommit=True) as conn:
        for _ in range(rounds):
            claimed = conn.execute(_Q["claim_outbox"], {"org": org, "limit": limit,
                                                        "lease_seconds": lease_seconds}).fetchall()
            if not claimed:
                break
            by_org: dict[str, DeliveryResult] = {}
            for item in claimed:
                result = by_org.setdefault(item[1], DeliveryResult())
                result.claimed += 1
                _deliver_one(conn, client, item, result, max_attempts)
            for run_org, result in sorted(by_org.items()):
                _log_write_run(conn, run_org, result)
                total.add(result)
            if not any(r.rebased for r in by_org.values()):
                break
    return total


def _deliver_one(conn: psycopg.Connection, client: PemsClient, item: tuple, result: DeliveryResult,
                 max_attempts: int) -> None:
    outbox_id, org, draft_id, record_id, key, payload, attempts = item
    try:
        row = client.update_record(org, record_id, payload["recordid"], payload["changes"], key)
    except PemsConflict:
        _handle_conflict(conn, client, item, result)
    except PemsUnavailable as exc:
        if attempts >= max_attempts:
            _fail(conn, outbox_id, draft_id, f"PEMS unavailable after {attempts} attempts: {exc.message}")
            result.errors += 1
        else:
            delay = BACKOFF_SECONDS * 2 ** (attempts - 1)
            conn.execute(_Q["retry_outbox_later"], {"id": outbox_id, "error": exc.message, "delay": delay})
            result.retrying += 1
    except PemsRejected as exc:
        _fail(conn, outbox_id, draft_id, exc.message)
        result.errors += 1
    else:
        with conn.transaction():
            conn.execute(_Q["apply_pems_record"], {"org": org, "record_id": record_id, "data": Jsonb(row.record),
                                                   "pems_record_id": row.pems_record_id})
            conn.execute(_Q["set_draft_state"], {"id": draft_id, "state": "synced", "detail": None})
            conn.execute(_Q["finish_outbox"], {"id": outbox_id, "status": "done", "error": None})
        result.synced += 1


def _handle_conflict(conn: psycopg.Connection, client: PemsClient, item: tuple, result: DeliveryResult) -> None:
    """PEMS has a newer version: rebase when it changed other fields, else record the conflict."""
    outbox_id, org, draft_id, record_id, _key, payload, _attempts = item
    try:
        current = client.get_record(org, record_id)
    except (PemsUnavailable, PemsRejected) as exc:
        conn.execute(_Q["retry_outbox_later"], {"id": outbox_id, "error": f"conflict check failed: {exc.message}",
                                                "delay": BACKOFF_SECONDS})
        result.retrying += 1
        return
    if current is None or current.error:
        _fail(conn, outbox_id, draft_id, "the record no longer exists in PEMS" if current is None
              else f"PEMS returned an unreadable record: {current.error}")
        result.errors += 1
        return
    fields = conflicting_fields(payload["changes"], payload.get("base") or {}, current.record)
    with conn.transaction():
        conn.execute(_Q["apply_pems_record"], {"org": org, "record_id": record_id, "data": Jsonb(current.record),
                                               "pems_record_id": current.pems_record_id})
        if fields:
            conn.execute(_Q["set_draft_state"], {"id": draft_id, "state": "conflict",
                                                 "detail": Jsonb({"conflicts": fields})})
            conn.execute(_Q["finish_outbox"], {"id": outbox_id, "status": "failed", "error": "conflict"})
            result.conflicts += 1
        else:
            rebased = {**payload, "recordid": current.pems_record_id,
                       "base": {k: current.record.get(k) for k in payload["changes"]}}
            conn.execute(_Q["rebase_outbox"], {"id": outbox_id, "payload": Jsonb(rebased),
                                               "error": "rebased on a newer PEMS version"})
            result.rebased += 1


def _fail(conn: psycopg.Connection, outbox_id: int, draft_id: int, reason: str) -> None:
    with conn.transaction():
        conn.execute(_Q["set_draft_state"], {"id": draft_id, "state": "sync_error", "detail": Jsonb({"error": reason})})
        conn.execute(_Q["finish_outbox"], {"id": outbox_id, "status": "failed", "error": reason})


def _log_write_run(conn: psycopg.Connection, org: str, result: DeliveryResult) -> None:
    run_id = conn.execute(_SYNC["insert_sync_run"], {"org": org, "direction": "write", "kind": "writeback"}).fetchone()[0]
    conn.execute(_SYNC["finish_sync_run"], {
        "id": run_id, "status": "failed" if result.errors and not result.synced else "succeeded",
        "fetched": result.claimed, "inserted": 0, "updated": result.synced, "unchanged": 0, "deleted": 0,
        "malformed": 0, "failed": result.errors + result.conflicts, "watermark_from": None, "watermark_to": None,
        "error": None, "detail": Jsonb({"conflicts": result.conflicts, "rebased": result.rebased,
                                        "retrying": result.retrying}),
    })
