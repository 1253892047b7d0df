"""Write-back: committing drafts into the outbox, and delivering the outbox to PEMS.

Every committed draft ends in exactly one of `synced`, `conflict` or `sync_error`, and is written
to PEMS at most once: each outbox row carries an idempotency key, a crash after PEMS accepted a
write is recovered by re-sending with the same key (PEMS answers with its first answer), and a
row in flight for longer than the lease is taken over by the next worker, whose lease token
fences the old worker out. An attempt whose outcome is unknown (a lost answer, a timeout, a
refused retry) is settled by reading the record back, never by guessing "failed"; the mirror
takes PEMS's answer only when it is newer than what it holds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field

import psycopg
from psycopg.types.json import Jsonb

from store import queries
from store.pems.client import PemsClient, Row
from store.pems.errors import PemsConflict, PemsRejected, PemsUnavailable

log = logging.getLogger(__name__)
_Q = queries.load("writeback")
_SYNC = queries.load("sync")

MAX_ATTEMPTS = 5
LEASE_SECONDS = 120
BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 600.0


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


def commit_drafts(conn: psycopg.Connection, org: str, user_id: int, change_set_id: int | None = None,
                  record_ids: list[str] | None = None) -> CommitResult:
    """Commit the user's working drafts (all, one change set, or the given records) in one transaction.

    Each draft is checked field by field against the current mirror: clean ones (including those
    where PEMS changed only other fields: they rebase) become `committed` with an outbox row;
    the others become `conflict`, holding both values per field.
    """
    with conn.transaction():
        params = {"org": org, "user_id": user_id, "change_set_id": change_set_id, "record_ids": record_ids}
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
    lost: int = 0  # claims another worker took over: nothing was sent or recorded for them

    def add(self, other: DeliveryResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def default_worker_name() -> str:
    """Who claims outbox rows: host, process and thread (the lease token tells claims apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def deliver_outbox(app_url: str, client: PemsClient, *, org: str | None = None, limit: int = 100,
                   lease_seconds: float = LEASE_SECONDS, max_attempts: int = MAX_ATTEMPTS,
                   rounds: int = 3, worker: str | None = None,
                   backoff_seconds: float = BACKOFF_SECONDS) -> DeliveryResult:
    """Send due outbox rows to PEMS and record each outcome; safe to run in several workers.

    Each claim carries a lease token; a worker whose lease ran out (another worker took the row
    over) records nothing and sends nothing more for it. Rows rebased onto a newer PEMS version
    are due at once, so up to `rounds` passes are made. Each pass writes one `sync_runs` row
    (direction write) per organization it touched.
    """
    total = DeliveryResult()
    worker = worker or default_worker_name()
    with psycopg.connect(app_url, autocommit=True) as conn:
        for _ in range(rounds):
            claimed = conn.execute(_Q["claim_outbox"], {"org": org, "limit": limit, "worker": worker,
                                                        "lease_seconds": lease_seconds}).fetchall()
            if not claimed:
                break
            by_org: dict[str, DeliveryResult] = {}
            for row in claimed:
                claim = _Claim(*row, worker=worker)
                result = by_org.setdefault(claim.org, DeliveryResult())
                result.claimed += 1
                _Courier(conn, client, result, max_attempts, backoff_seconds).deliver(claim)
            for run_org, result in sorted(by_org.items()):
                _log_write_run(conn, run_org, result, client.settings.display_name)
                total.add(result)
            if not any(r.rebased for r in by_org.values()):
                break
    return total


@dataclass(frozen=True)
class _Claim:
    outbox_id: int
    org: str
    draft_id: int
    record_id: str
    key: str
    payload: dict
    attempts: int
    token: str
    key_sent_before: bool  # this idempotency key may have reached PEMS in an earlier attempt
    worker: str

    def fence(self, **params) -> dict:
        return {"id": self.outbox_id, "worker": self.worker, "token": self.token, **params}


class _LeaseLost(Exception):
    """Another worker holds the claim now."""


@dataclass
class _Courier:
    """Delivers one claimed row and records a true outcome; every change is fenced by the claim."""

    conn: psycopg.Connection
    client: PemsClient
    result: DeliveryResult
    max_attempts: int
    backoff_seconds: float

    def deliver(self, claim: _Claim) -> None:
        try:
            self._send(claim)
        except _LeaseLost:
            self.result.lost += 1

    def _send(self, claim: _Claim) -> None:
        self._still_ours(claim)
        payload = claim.payload
        try:
            row = self.client.update_record(claim.org, claim.record_id, payload["recordid"], payload["changes"],
                                            claim.key)
        except PemsConflict:
            self._on_conflict(claim)
        except PemsUnavailable as exc:  # a lost answer, a timeout, a refused retry: PEMS may hold it
            self._on_unknown_outcome(claim, exc.message)
        except PemsRejected as exc:
            if claim.key_sent_before:  # e.g. "busy" while PEMS still processes an earlier attempt
                self._on_unknown_outcome(claim, exc.message)
            else:
                self._finish(claim, "sync_error", exc.message)
        else:
            self._finish(claim, "synced", record=row)

    def _on_unknown_outcome(self, claim: _Claim, problem: str) -> None:
        """Read the record back: synced if PEMS holds the change, else retried with the same key.

        A retry with the same key is itself a test: PEMS replays its first answer if it applied
        the write, and answers a stale recordid (409) if it did not.
        """
        try:
            current = self.client.get_record(claim.org, claim.record_id)
        except (PemsUnavailable, PemsRejected) as exc:
            self._retry_or_fail(claim, f"{problem}; reading the record back failed: {exc.message}", checked=False)
            return
        if current is None:
            self._finish(claim, "sync_error", "the record no longer exists in PEMS")
        elif not current.error and _applied(claim.payload, current):
            self._finish(claim, "synced", record=current)
        else:
            self._retry_or_fail(claim, problem, checked=not current.error)

    def _on_conflict(self, claim: _Claim) -> None:
        """PEMS has a newer version: already ours, a rebase (other fields), or a conflict (same field)."""
        self._still_ours(claim)  # a worker that lost its lease must not rebase and send again
        try:
            current = self.client.get_record(claim.org, claim.record_id)
        except (PemsUnavailable, PemsRejected) as exc:
            self._retry(claim, f"conflict check failed: {exc.message}", self.backoff_seconds)
            return
        if current is None or current.error:
            self._finish(claim, "sync_error", "the record no longer exists in PEMS" if current is None
                         else f"PEMS returned an unreadable record: {current.error}")
            return
        if _holds_changes(claim.payload, current):
            self._finish(claim, "synced", record=current)  # PEMS already has these values: nothing to send
            return
        payload = claim.payload
        fields = conflicting_fields(payload["changes"], payload.get("base") or {}, current.record)
        if fields:
            self._finish(claim, "conflict", record=current, detail={"conflicts": fields})
            return
        rebased = {**payload, "recordid": current.pems_record_id,
                   "base": {k: current.record.get(k) for k in payload["changes"]}}
        with self.conn.transaction():
            if self.conn.execute(_Q["rebase_outbox"], claim.fence(
                    payload=Jsonb(rebased), error="rebased on a newer PEMS version")).fetchone() is None:
                raise _LeaseLost
            self._apply(claim, current)
        self.result.rebased += 1

    def _retry_or_fail(self, claim: _Claim, problem: str, *, checked: bool = True) -> None:
        """Retry with backoff; give up after `max_attempts` once PEMS was seen not to hold the change.

        While that could not be checked (the read-back failed too), the row gets as many attempts
        again before it ends `sync_error` saying so: a sync_error should mean PEMS has no change.
        """
        if claim.attempts >= self.max_attempts and (checked or claim.attempts >= 2 * self.max_attempts):
            reason = problem if checked else f"{problem} (whether PEMS applied it could not be checked)"
            self._finish(claim, "sync_error", f"PEMS unavailable after {claim.attempts} attempts: {reason}")
        else:
            self._retry(claim, problem, min(self.backoff_seconds * 2 ** (claim.attempts - 1), MAX_BACKOFF_SECONDS))

    def _retry(self, claim: _Claim, problem: str, delay: float) -> None:
        if self.conn.execute(_Q["retry_outbox_later"], claim.fence(error=problem, delay=delay)).fetchone() is None:
            raise _LeaseLost
        self.result.retrying += 1

    def _finish(self, claim: _Claim, state: str, reason: str | None = None, *, record: Row | None = None,
                detail: dict | None = None) -> None:
        """End the outbox row and its draft in one fenced statement, with PEMS's record if newer."""
        if state == "sync_error":
            detail = {"error": reason}
        with self.conn.transaction():
            ended = self.conn.execute(_Q["finish_delivery"], claim.fence(
                status="done" if state == "synced" else "failed",
                error=reason if state == "sync_error" else ("conflict" if state == "conflict" else None),
                state=state, detail=Jsonb(detail) if detail else None)).fetchone()
            if ended is None:
                raise _LeaseLost
            if record is not None:
                self._apply(claim, record)
        if state == "synced":
            self.result.synced += 1
        elif state == "conflict":
            self.result.conflicts += 1
        else:
            self.result.errors += 1

    def _apply(self, claim: _Claim, record: Row) -> None:
        self.conn.execute(_Q["apply_pems_record"], {"org": claim.org, "record_id": claim.record_id,
                                                    "data": Jsonb(record.record),
                                                    "pems_record_id": record.pems_record_id})

    def _still_ours(self, claim: _Claim) -> None:
        """Renew the lease, or stop: checked before every send and before a rebase."""
        if self.conn.execute(_Q["renew_claim"], claim.fence()).fetchone() is None:
            raise _LeaseLost


def _holds_changes(payload: dict, current: Row) -> bool:
    return all(current.record.get(k) == v for k, v in payload["changes"].items())


def _applied(payload: dict, current: Row) -> bool:
    """PEMS moved past the version we wrote against and holds every value we sent."""
    sent = payload.get("recordid")
    return (sent is not None and current.pems_record_id is not None and current.pems_record_id > int(sent)
            and _holds_changes(payload, current))


def _log_write_run(conn: psycopg.Connection, org: str, result: DeliveryResult, pems: str) -> None:
    run_id = conn.execute(_SYNC["insert_sync_run"], {"org": org, "direction": "write", "kind": "writeback"}).fetchone()[0]
    conn.execute(_SYNC["finish_sync_run"], {
        "id": run_id, "status": "failed" if result.errors and not result.synced else "succeeded",
        "fetched": result.claimed, "inserted": 0, "updated": result.synced, "unchanged": 0, "deleted": 0,
        "malformed": 0, "failed": result.errors + result.conflicts, "watermark_from": None, "watermark_to": None,
        "error": None, "detail": Jsonb({"pems": pems, "conflicts": result.conflicts, "rebased": result.rebased,
                                        "retrying": result.retrying, "lease_lost": result.lost}),
    })
