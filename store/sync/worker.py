"""One sync run of one organization: PEMS grid -> staging COPY -> upsert, in one transaction.

A run either lands completely (mirror, watermark and run row together) or leaves the mirror
exactly as it was. Counts are exact because unchanged rows are never rewritten.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from store import mirror, queries
from store.errors import StoreError
from store.pems.client import PemsClient, Row
from store.pems.errors import PemsError

log = logging.getLogger(__name__)
_Q = queries.load("sync")

OVERLAP = timedelta(minutes=1)
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
    return result


def _run(conn: psycopg.Connection, client: PemsClient, org: str, result: SyncResult, *, full: bool,
         max_delete_share: float, progress: Callable[[int], None] | None) -> None:
    conn.execute(_Q["create_staging"])
    since = None if full else result.watermark_from - OVERLAP
    newest = result.watermark_from
    with conn.cursor() as cur:
        for page in client.iter_rows(org, modified_after=since):
            with cur.copy(_Q["copy_staging"]) as copy:
                for row in page:
                    result.fetched += 1
                    problem = _problem(row, org)
                    if problem:
                        result.malformed += 1
                        if len(result.malformed_rows) < MAX_NAMED_MALFORMED:
                            result.malformed_rows.append({"record_id": row.record_id, "error": problem})
                        if row.record_id:  # seen, so a full run does not mark it deleted
                            copy.write_row((row.record_id, None, None, True))
                        continue
                    stamp = row.record.get("lastModified")
                    if stamp:
                        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                        newest = moment if newest is None or moment > newest else newest
                    copy.write_row((row.record_id, json.dumps(row.record, separators=(",", ":")),
                                    row.pems_record_id, False))
            if progress:
                progress(result.fetched)
    conn.execute(_Q["analyze_staging"])
    if full:
        live = conn.execute(_Q["count_live_records"], {"org": org}).fetchone()[0]
        seen = result.fetched
        if live and seen < live * (1 - max_delete_share):
            raise DeletionGuard(
                f"PEMS returned {seen:,} rows for {org} but the mirror holds {live:,} live records; "
                f"not marking more than {max_delete_share:.0%} deleted", live=live, seen=seen)
    distinct, inserted, updated = conn.execute(_Q["upsert_from_staging"], {"org": org}).fetchone()
    result.inserted, result.updated = inserted, updated
    result.unchanged = distinct - inserted - updated
    if full:
        result.deleted = conn.execute(_Q["mark_missing_deleted"], {"org": org}).fetchone()[0]
        result.flagged_drafts = conn.execute(_Q["count_flagged_drafts"], {"org": org}).fetchone()[0]
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
        "detail": Jsonb({"malformed_rows": result.malformed_rows, "flagged_drafts": result.flagged_drafts}),
    })
