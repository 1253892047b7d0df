"""AI bulk change sets: saving a proposal, accepting (merging into working drafts) and rejecting."""

from __future__ import annotations

from dataclasses import dataclass, field

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from store import queries
from store.draft_rules import check_draft

_Q = queries.load("change_sets")
_D = queries.load("drafts")


@dataclass
class ProposalItem:
    record_id: str
    delta: dict
    before: dict


async def save_proposal(conn: AsyncConnection, org: str, user_id: int, request: str, plan: dict,
                        items: list[ProposalItem], base: dict[str, dict]) -> int:
    """One `ai_bulk` change set with a `proposed` draft per item (invisible in the merged view)."""
    change_set = (await (await conn.execute(_Q["insert_change_set"], {
        "org": org, "user_id": user_id, "name": request[:120], "request": request, "plan": Jsonb(plan)})).fetchone())[0]
    if items:
        await conn.execute(_Q["insert_proposed_drafts"], {
            "org": org, "user_id": user_id, "change_set_id": change_set,
            "record_ids": [item.record_id for item in items],
            "deltas": [Jsonb(item.delta) for item in items],
            "bases": [Jsonb({k: base[item.record_id].get(k) for k in item.delta}) for item in items],
            "details": [Jsonb({"before": item.before}) for item in items]})
    return change_set


@dataclass
class AcceptResult:
    accepted: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


async def accept(conn: AsyncConnection, org: str, user_id: int, change_set_id: int,
                 record_ids: list[str] | None) -> AcceptResult:
    """Proposed drafts become working drafts; onto an existing working draft they merge (the
    proposal's fields win, it was computed from that draft). Rules are checked again against
    PEMS's current values; a record that now breaks one stays proposed and is reported."""
    await conn.execute(_D["lock_user_drafts"], {"org": org, "user_id": user_id})
    proposed = await (await conn.execute(_Q["lock_proposed"], {
        "id": change_set_id, "user_id": user_id, "record_ids": record_ids})).fetchall()
    ids = [row[1] for row in proposed]
    working = {row[0]: row[1:] for row in await (await conn.execute(
        _D["lock_working_drafts_of_records"], {"org": org, "user_id": user_id, "ids": ids})).fetchall()}
    result = AcceptResult()
    plain: list[int] = []
    for draft_id, record_id, delta, base, pems in proposed:
        existing = working.get(record_id)
        combined = {**(existing[1] if existing else {}), **delta}
        problems = check_draft(record_id, delta, {**pems, **(existing[1] if existing else {})}, pems)
        if problems:
            result.skipped.append(problems[0].as_dict())
            continue
        if existing:
            await conn.execute(_Q["merge_into_working"], {"id": existing[0], "delta": Jsonb(delta), "base": Jsonb(base),
                                                          "change_set_id": change_set_id})
            await conn.execute(_Q["close_proposed"], {"id": draft_id, "state": "discarded",
                                                      "detail": Jsonb({"merged_into": existing[0], "delta": combined})})
            result.merged.append(record_id)
        else:
            plain.append(draft_id)
            result.accepted.append(record_id)
    if plain:
        await conn.execute(_Q["accept_proposed"], {"ids": plain})
    return result


async def reject(conn: AsyncConnection, user_id: int, change_set_id: int, record_ids: list[str] | None) -> list[str]:
    rows = await (await conn.execute(_Q["reject_proposed"], {
        "id": change_set_id, "user_id": user_id, "record_ids": record_ids})).fetchall()
    return sorted(r[0] for r in rows)
