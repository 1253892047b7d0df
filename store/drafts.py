"""Saving, listing and discarding a user's drafts (async: called from the API)."""

from __future__ import annotations

from dataclasses import dataclass, field

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from store import queries
from store.draft_rules import RuleViolation, check_draft
from store.errors import StoreError

_Q = queries.load("drafts")
MAX_BATCH = 5000


class DraftRejected(StoreError):
    """The draft breaks a rule; nothing was saved."""

    code = "draft_rejected"

    def __init__(self, violations: list[RuleViolation]) -> None:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        super().__init__(f"{first.record_id}: {first.message}{more}",
                         errors=[v.as_dict() for v in violations])
        self.violations = violations


@dataclass(frozen=True)
class DraftChange:
    record_id: str
    changes: dict


@dataclass
class SaveResult:
    saved: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)  # changes equal to PEMS: no draft left


async def save_drafts(conn: AsyncConnection, org: str, user_id: int, items: list[DraftChange],
                      change_set_id: int | None = None) -> SaveResult:
    """Apply every item to the user's working drafts, all or nothing.

    The caller owns the transaction. Every item is checked against the record as the user sees it
    (PEMS values with their existing draft applied); any violation rejects the whole batch with
    every violation listed. A change back to PEMS's value drops that field from the draft.
    """
    # One user's saves take turns, so two at once cannot both create the same working draft.
    await conn.execute(_Q["lock_user_drafts"], {"org": org, "user_id": user_id})
    ids = [item.record_id for item in items]
    problems: list[RuleViolation] = []
    seen: set[str] = set()
    for record_id in ids:
        if record_id in seen:
            problems.append(RuleViolation(record_id, "record_id", "duplicate_record",
                                          "the same record appears twice in the batch"))
        seen.add(record_id)
    if change_set_id is not None:
        owned = await (await conn.execute(_Q["change_set_of_user"], {
            "change_set_id": change_set_id, "org": org, "user_id": user_id})).fetchone()
        if owned is None:
            problems.append(RuleViolation("", "change_set_id", "unknown_change_set",
                                          f"change set {change_set_id} is not an open change set of yours"))
    mirror = {rid: data for rid, data in await (await conn.execute(
        _Q["lock_mirror_records"], {"org": org, "ids": ids})).fetchall()}
    drafts = {row[0]: row[1:] for row in await (await conn.execute(
        _Q["lock_working_drafts_of_records"], {"org": org, "user_id": user_id, "ids": ids})).fetchall()}
    inserts: list[tuple[str, dict, dict]] = []
    updates: list[tuple[int, dict, dict]] = []
    discards: list[int] = []
    result = SaveResult()
    for item in items:
        pems = mirror.get(item.record_id)
        if pems is None:
            problems.append(RuleViolation(item.record_id, "record_id", "unknown_record",
                                          f"record {item.record_id[:100]} does not exist in {org}"))
            continue
        draft_id, delta, base = drafts.get(item.record_id, (None, {}, {}))
        found = check_draft(item.record_id, item.changes, {**pems, **delta}, pems)
        if found:
            problems.extend(found)
            continue
        new_delta = {**delta, **item.changes}
        new_base = {**{k: pems.get(k) for k in new_delta}, **{k: v for k, v in base.items() if k in new_delta}}
        for key in [k for k, v in new_delta.items() if v == pems.get(k)]:
            del new_delta[key], new_base[key]
        if new_delta:
            if draft_id:
                updates.append((draft_id, new_delta, new_base))
            else:
                inserts.append((item.record_id, new_delta, new_base))
            result.saved.append(item.record_id)
        else:
            if draft_id:
                discards.append(draft_id)
            result.cleared.append(item.record_id)
    if problems:
        raise DraftRejected(problems)
    await _write(conn, org, user_id, change_set_id, inserts, updates, discards)
    return result


async def find_violations(conn: AsyncConnection, org: str, user_id: int, item: DraftChange) -> list[RuleViolation]:
    """The rules one record's changes would break, saving nothing: a form that already refused some
    fields still shows what the rules say about the others, all in one answer."""
    pems = await (await conn.execute(_Q["lock_mirror_records"], {"org": org, "ids": [item.record_id]})).fetchone()
    if pems is None:
        return [RuleViolation(item.record_id, "record_id", "unknown_record",
                              f"record {item.record_id[:100]} does not exist in {org}")]
    draft = await (await conn.execute(_Q["lock_working_drafts_of_records"], {
        "org": org, "user_id": user_id, "ids": [item.record_id]})).fetchone()
    delta = draft[2] if draft else {}
    return check_draft(item.record_id, item.changes, {**pems[1], **delta}, pems[1])


async def _write(conn: AsyncConnection, org: str, user_id: int, change_set_id: int | None,
                 inserts: list[tuple[str, dict, dict]], updates: list[tuple[int, dict, dict]],
                 discards: list[int]) -> None:
    """At most three statements whatever the batch size (arrays in step, never one row per statement)."""
    common = {"org": org, "user_id": user_id, "change_set_id": change_set_id}
    if inserts:
        await conn.execute(_Q["insert_working_drafts"], {
            **common, "record_ids": [r for r, _, _ in inserts],
            "deltas": [Jsonb(d) for _, d, _ in inserts], "bases": [Jsonb(b) for _, _, b in inserts]})
    if updates:
        await conn.execute(_Q["update_working_drafts"], {
            **common, "ids": [i for i, _, _ in updates],
            "deltas": [Jsonb(d) for _, d, _ in updates], "bases": [Jsonb(b) for _, _, b in updates]})
    if discards:
        await conn.execute(_Q["discard_drafts_by_ids"], {"ids": discards})
