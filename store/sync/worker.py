"""One sync run of one organization: PEMS grid -> staging COPY -> upsert, in one transaction.

A run either lands completely (mirror, watermark and run row together) or leaves the mirror
exactly as it was. Counts are exact because unchanged rows are never rewritten and each record
is counted once, however often PEMS sent it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

import orjson
import psycopg
from psycopg.types.json import Jsonb

from store import mirror, queries
from store.errors import StoreError
from store.pems.client import PemsClient, Row
from store.pems.errors import PemsError

log = logging.getLogger(__name__)
_Q = queries.load("sync")

DEFAULT_OVERLAP_SECONDS = 60.0
ANALYZE_AFTER_CHANGES = 1000  # smaller changes are left to autovacuum
MAX_NAMED_MALFORMED = 100


class DeletionGuard(StoreError):
    """PEMS returned far fewer records than the mirror holds; refusing to mark the rest deleted."""

    code = "deletion_guard"


@dataclass
class SyncResult:
    run_id: int
    organization_id: str
    kind: str
    status: str = "running"
    pems: str | None = None  # which PEMS the run read (the built-in simulator of a data dir, or a URL)
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    malformed: int = 0
    flagged_drafts: int = 0
    confirmed_present: int = 0  # missing from the paged read, found by the targeted one: not deleted
    watermark_held_back: bool = False  # the watermark is an unreadable row's stamp, not PEMS's clock
    watermark_from: datetime | None = None
    watermark_to: datetime | None = None
    error: str | None = None
    malformed_rows: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)

    def as_dict(self) -> dict:
        return asdict(self)


def sync_lock_key(org: str) -> str:
    """The session advisory lock a read sync of `org` holds while it runs."""
    return f"vanguard.sync:{org}"


def sync_organization(
    app_url: str,
    client: PemsClient,
    org: str,
    *,
    full: bool = False,
    max_delete_share: float = 0.5,
    overlap_seconds: float = DEFAULT_OVERLAP_SECONDS,
    progress: Callable[[int], None] | None = None,
) -> SyncResult:
    """Run one sync of `org`; return what happened (also recorded in `sync_runs`).

    Incremental runs read the records changed since the watermark minus `overlap_seconds`. The
    watermark a run leaves is PEMS's clock when the run began (the `Date` of its first answer), or
    the stamp of the oldest row it could not read if that is older: every change made after the
    run began is stamped after it, wherever in the read it happened; the overlap covers a change
    stamped before it but committed later. Without a watermark, or with `full=True`, every record
    is read; the ones the read did not return are read again by id, and only those PEMS still
    does not have are marked deleted (drafts on them are flagged, never dropped), unless that
    would delete more than `max_delete_share` of the organization, which fails the run instead.
    A concurrent run of the same organization makes this one return `skipped`.
    """
    lock_key = sync_lock_key(org)
    with psycopg.connect(app_url, autocommit=True) as conn:
        state = conn.execute(_Q["get_sync_state"], {"org": org}).fetchone()
        watermark = state[0] if state else None
        kind = "full" if full or watermark is None else "incremental"
        run_id = conn.execute(_Q["insert_sync_run"], {"org": org, "direction": "read", "kind": kind}).fetchone()[0]
        result = SyncResult(run_id=run_id, organization_id=org, kind=kind, watermark_from=watermark,
                            pems=client.settings.display_name)
        conn.execute(_Q["note_sync_attempt"], {"org": org})
        if not conn.execute(_Q["try_sync_lock"], {"key": lock_key}).fetchone()[0]:
            result.status = "skipped"
            result.error = "another sync of this organization is running"
            log.info("sync of %s from %s skipped: already running", org, result.pems)
            _finish(conn, result)
            return result
        # Holding the lock, any other unfinished read run of this organization is one whose process died.
        conn.execute(_Q["close_abandoned_runs"], {"org": org, "run_id": run_id})
        try:
            with conn.transaction():
                _run(conn, client, org, result, full=(kind == "full"), max_delete_share=max_delete_share,
                     overlap=timedelta(seconds=overlap_seconds), progress=progress)
                result.status = "succeeded"
                _finish(conn, result)
        except (PemsError, DeletionGuard, psycopg.Error) as exc:
            result.status = "failed"
            result.inserted = result.updated = result.unchanged = result.deleted = 0  # rolled back
            result.error = exc.message if isinstance(exc, StoreError) else f"database error ({type(exc).__name__})"
            log.warning("sync of %s from %s failed: %s", org, result.pems, result.error)
            _finish(conn, result)
        finally:
            conn.execute(_Q["release_sync_lock"], {"key": lock_key})
        if result.status == "succeeded" and result.changed:
            mirror.refresh_kpis(conn)
            if result.inserted + result.updated + result.deleted >= ANALYZE_AFTER_CHANGES:
                mirror.analyze(conn)
    return result


@dataclass
class _Tally:
    """What a run has read: each record once, however many pages (or targeted reads) carried it."""

    written: dict[str, str] = field(default_factory=dict)  # id -> stamp of the version upserted
    inserted: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    malformed: dict[str, datetime | None] = field(default_factory=dict)  # id -> its change stamp
    unnamed_malformed: int = 0

    def seen(self) -> set[str]:
        return set(self.written) | set(self.malformed)

    def unread_since(self, previous: datetime | None, previous_held: bool) -> datetime | None:
        """The oldest stamp of a version the run could not read and that is new since `previous`
        (the watermark the run started from): the next run starts there and reads it once more.
        A version the previous run already held the watermark back for is left to the next full
        run, so one row PEMS cannot render does not hold every incremental run back."""
        def new(stamp: datetime) -> bool:
            return previous is None or stamp > previous or (stamp == previous and not previous_held)

        stamps = [s for rid, s in self.malformed.items() if s is not None and rid not in self.written and new(s)]
        return min(stamps) if stamps else None


def _run(conn: psycopg.Connection, client: PemsClient, org: str, result: SyncResult, *, full: bool,
         max_delete_share: float, overlap: timedelta, progress: Callable[[int], None] | None) -> None:
    """Stream pages into the mirror: each page is staged with COPY and upserted while PEMS prepares
    the next one; every id seen (malformed ones too) is kept for the full run's deletion pass."""
    conn.execute(_Q["create_seen"])
    conn.execute(_Q["create_staging"])
    # Stamps are whole seconds, so "after since - 1 s" reads the second `since` itself too.
    since = None if full else result.watermark_from - overlap - timedelta(seconds=1)
    began = datetime.now(timezone.utc).replace(microsecond=0)  # used only if PEMS sends no Date
    pems_clock = None
    tally = _Tally()
    clock = time.perf_counter()
    waiting = 0.0
    pages = client.iter_pages(org, modified_after=since)
    with conn.cursor() as cur:
        while True:
            asked = time.perf_counter()
            page = next(pages, None)
            waiting += time.perf_counter() - asked
            if page is None:
                break
            pems_clock = pems_clock or page.server_time
            _write_rows(cur, org, page.rows, result, tally)
            if progress:
                progress(result.fetched)
        result.timings["pems_wait_seconds"] = round(waiting, 3)
        result.timings["database_seconds"] = round(time.perf_counter() - clock - waiting, 3)
        if full:
            _reconcile(conn, cur, client, org, result, tally, max_delete_share)
    result.inserted = len(tally.inserted)
    result.updated = len(tally.updated - tally.inserted)
    result.unchanged = len(tally.written) - result.inserted - result.updated
    result.malformed = len(set(tally.malformed) - set(tally.written)) + tally.unnamed_malformed
    started = pems_clock or began
    held = conn.execute(_Q["last_read_held_back"], {"org": org}).fetchone()
    unread = tally.unread_since(result.watermark_from, bool(held and held[0]))
    result.watermark_to = min(started, unread) if unread else started
    result.watermark_held_back = result.watermark_to != started
    conn.execute(_Q["save_sync_state"], {"org": org, "watermark": result.watermark_to, "full": full})


def _write_rows(cur: psycopg.Cursor, org: str, rows: list[Row], result: SyncResult, tally: _Tally) -> None:
    """Stage and upsert one page's readable rows; note the malformed ones (named, not written)."""
    valid: list[Row] = []
    for row in rows:
        result.fetched += 1
        problem = _problem(row, org)
        if problem:
            first = not row.record_id or row.record_id not in tally.malformed
            if not row.record_id:
                tally.unnamed_malformed += 1
            elif first:  # a row of another organization is no stamp to re-read from
                tally.malformed[row.record_id] = row.modified if row.error else None
            if first and len(result.malformed_rows) < MAX_NAMED_MALFORMED:
                result.malformed_rows.append({"record_id": row.record_id, "error": problem})
            continue
        stamp = row.record.get("lastModified")
        if tally.written.get(row.record_id, object()) == stamp:
            continue  # the same version again: nothing to write
        tally.written[row.record_id] = stamp
        valid.append(row)
    if not valid:
        return
    with cur.copy(_Q["copy_staging"]) as copy:
        for row in valid:
            copy.write_row((row.record_id, orjson.dumps(row.record).decode(), row.pems_record_id))
    for record_id, inserted in cur.execute(_Q["upsert_from_staging"], {"org": org}).fetchall():
        (tally.inserted if inserted else tally.updated).add(record_id)
    cur.execute(_Q["clear_staging"])


def _reconcile(conn: psycopg.Connection, cur: psycopg.Cursor, client: PemsClient, org: str, result: SyncResult,
               tally: _Tally, max_delete_share: float) -> None:
    """Mark deleted what PEMS no longer has: the live mirror records the full read did not return,
    read again by id, less the ones PEMS still returns (those are written, not deleted)."""
    clock = time.perf_counter()
    _copy_seen(cur, tally.seen())
    conn.execute(_Q["analyze_seen"])
    missing, live = conn.execute(_Q["count_missing"], {"org": org}).fetchone()
    if live and missing > live * max_delete_share:
        raise DeletionGuard(
            f"PEMS returned {len(tally.seen()):,} records for {org} but the mirror holds {live:,} live records; "
            f"not marking more than {max_delete_share:.0%} deleted", live=live, seen=len(tally.seen()))
    if missing:
        candidates = [r[0] for r in conn.execute(_Q["list_missing"], {"org": org})]
        found = client.read_records(org, candidates)
        _write_rows(cur, org, found, result, tally)
        present = {row.record_id for row in found if row.record_id} & set(candidates)
        _copy_seen(cur, present)
        result.confirmed_present = len(present)
    result.deleted = conn.execute(_Q["mark_missing_deleted"], {"org": org}).fetchone()[0]
    result.flagged_drafts = conn.execute(_Q["count_flagged_drafts"], {"org": org}).fetchone()[0]
    result.timings["reconcile_seconds"] = round(time.perf_counter() - clock, 3)


def _copy_seen(cur: psycopg.Cursor, ids) -> None:
    with cur.copy(_Q["copy_seen"]) as copy:
        for record_id in ids:
            copy.write_row((record_id,))


def _problem(row: Row, org: str) -> str | None:
    if row.error:
        return row.error
    if row.record.get("organization") != org:
        return f"row belongs to organization {str(row.record.get('organization'))[:40]!r}"
    return None


def _finish(conn: psycopg.Connection, result: SyncResult) -> None:
    conn.execute(_Q["finish_sync_run"], {
        "id": result.run_id, "status": result.status, "fetched": result.fetched, "inserted": result.inserted,
        "updated": result.updated, "unchanged": result.unchanged, "deleted": result.deleted,
        "malformed": result.malformed, "failed": 0, "watermark_from": result.watermark_from,
        "watermark_to": result.watermark_to, "error": result.error,
        "detail": Jsonb({"pems": result.pems, "malformed_rows": result.malformed_rows, "flagged_drafts": result.flagged_drafts,
                         "confirmed_present": result.confirmed_present,
                         "watermark_held_back": result.watermark_held_back, "timings": result.timings}),
    })
