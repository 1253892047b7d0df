"""One sync run of one organization: PEMS grid -> staging COPY -> upsert, in one transaction.

A run either lands completely (mirror, watermark and run row together) or leaves the mirror
exactly as it was. Counts are exact because unchanged rows are never rewritten.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import orjson
import psycopg
from psycopg.types.json import Jsonb

from store import mirror, queries
from store.errors import StoreError
from store.pems.client import PemsClient, Row
from store.pems.errors import PemsError

log = logging.getLogger(__name__)
_Q = queries.load("sync")

OVERLAP = timedelta(minutes=1)
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
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    malformed: int = 0
    flagged_drafts: int = 0
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


def sync_organization(
    app_url: str,
    client: PemsClient,
    org: str,
    *,
    full: bool = False,
    max_delete_share: float = 0.5,
    progress: Callable[[int], None] | None = None,
) -> SyncResult:
    """Run one sync of `org`; return what happened (also recorded in `sync_runs`).

    Incremental runs read records modified after the watermark minus a minute (the overlap
    catches changes stamped in the same second as the last run; duplicates are deduplicated).
    Without a watermark, or with `full=True`, every record is read and the ones PEMS no longer
    returns are marked deleted (drafts on them are flagged, never dropped) — unless that would
    delete more than `max_delete_share` of the organization, which fails the run instead.
    A concurrent run of the same organization makes this one return `skipped`.
    """
    lock_key = f"vanguard.sync:{org}"
    with psycopg.connect(app_url, autocommit=True) as conn:
        state = conn.execute(_Q["get_sync_state"], {"org": org}).fetchone()
        watermark = state[0] if state else None
        kind = "full" if full or watermark is None else "incremental"
        run_id = conn.execute(_Q["insert_sync_run"], {"org": org, "direction": "read", "kind": kind}).fetchone()[0]
        result = SyncResult(run_id=run_id, organization_id=org, kind=kind, watermark_from=watermark)
        conn.execute(_Q["note_sync_attempt"], {"org": org})
        if not conn.execute(_Q["try_sync_lock"], {"key": lock_key}).fetchone()[0]:
            result.status = "skipped"
            result.error = "another sync of this organization is running"
            log.info("sync of %s skipped: already running", org)
            _finish(conn, result)
            return result
        try:
            with conn.transaction():
                _run(conn, client, org, result, full=(kind == "full"), max_delete_share=max_delete_share,
                     progress=progress)
                result.status = "succeeded"
                _finish(conn, result)
        except (PemsError, DeletionGuard, psycopg.Error) as exc:
            result.status = "failed"
            result.inserted = result.updated = result.unchanged = result.deleted = 0  # rolled back
            result.error = exc.message if isinstance(exc, StoreError) else f"database error ({type(exc).__name__})"
            log.warning("sync of %s failed: %s", org, result.error)
            _finish(conn, result)
        finally:
            conn.execute(_Q["release_sync_lock"], {"key": lock_key})
        if result.status == "succeeded" and result.changed:
            mirror.refresh_kpis(conn)
            if result.inserted + result.updated + result.deleted >= ANALYZE_AFTER_CHANGES:
                mirror.analyze(conn)
    return result


def _run(conn: psycopg.Connection, client: PemsClient, org: str, result: SyncResult, *, full: bool,
         max_delete_share: float, progress: Callable[[int], None] | None) -> None:
    """Stream pages into the mirror: each page is staged with COPY and upserted while PEMS prepares
    the next one; every id seen (malformed ones too) is kept for the full run's deletion pass."""
    conn.execute(_Q["create_seen"])
    conn.execute(_Q["create_staging"])
    since = None if full else result.watermark_from - OVERLAP
    newest = result.watermark_from
    seen: dict[str, str | None] = {}
    clock = time.perf_counter()
    waiting = 0.0
    pages = client.iter_rows(org, modified_after=since)
    with conn.cursor() as cur:
        while True:
            asked = time.perf_counter()
            page = next(pages, None)
            waiting += time.perf_counter() - asked
            if page is None:
                break
            valid: list[Row] = []
            for row in page:
                result.fetched += 1
                problem = _problem(row, org)
                if problem:
                    result.malformed += 1
                    if len(result.malformed_rows) < MAX_NAMED_MALFORMED:
                        result.malformed_rows.append({"record_id": row.record_id, "error": problem})
                    if row.record_id:
                        seen.setdefault(row.record_id, None)  # seen: a full run must not mark it deleted
                    continue
                stamp = row.record.get("lastModified")
                if row.record_id in seen and seen[row.record_id] == stamp:
                    continue  # the same version again (paging overlap): nothing to write
                seen[row.record_id] = stamp
                if stamp:
                    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                    newest = moment if newest is None or moment > newest else newest
                valid.append(row)
            if valid:
                with cur.copy(_Q["copy_staging"]) as copy:
                    for row in valid:
                        copy.write_row((row.record_id, orjson.dumps(row.record).decode(), row.pems_record_id))
                _, inserted, updated = cur.execute(_Q["upsert_from_staging"], {"org": org}).fetchone()
                result.inserted += inserted
                result.updated += updated
                cur.execute(_Q["clear_staging"])
            if progress:
                progress(result.fetched)
    result.timings["pems_wait_seconds"] = round(waiting, 3)
    result.timings["database_seconds"] = round(time.perf_counter() - clock - waiting, 3)
    valid_ids = sum(1 for stamp in seen.values() if stamp is not None)
    result.unchanged = valid_ids - result.inserted - result.updated
    if full:
        clock = time.perf_counter()
        with conn.cursor() as cur, cur.copy(_Q["copy_seen"]) as copy:
            for record_id in seen:
                copy.write_row((record_id,))
        conn.execute(_Q["analyze_seen"])
        missing, live = conn.execute(_Q["count_missing"], {"org": org}).fetchone()
        if live and missing > live * max_delete_share:
            raise DeletionGuard(
                f"PEMS returned {len(seen):,} records for {org} but the mirror holds {live:,} live records; "
                f"not marking more than {max_delete_share:.0%} deleted", live=live, seen=len(seen))
        result.deleted = conn.execute(_Q["mark_missing_deleted"], {"org": org}).fetchone()[0]
        result.flagged_drafts = conn.execute(_Q["count_flagged_drafts"], {"org": org}).fetchone()[0]
        result.timings["reconcile_seconds"] = round(time.perf_counter() - clock, 3)
    result.watermark_to = newest
    conn.execute(_Q["save_sync_state"], {"org": org, "watermark": newest, "full": full})


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
        "detail": Jsonb({"malformed_rows": result.malformed_rows, "flagged_drafts": result.flagged_drafts,
                         "timings": result.timings}),
    })
