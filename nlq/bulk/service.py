"""`stream_bulk`: request -> plan -> checked target -> proposal (a change set of proposed drafts) -> audit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import psycopg

from nlq.ask.catalog import editable_fields
from nlq.ask.conventions import conventions_for
from nlq.ask.providers import LlmUnavailable, NotUnderstood
from nlq.ask.service import AskDeps, AuditEntry, _write_audit, event
from nlq.bulk.plan import (TARGET_NOT_IDS, BulkPlan, PlanRefused, check_target, offline_plan, read_plan,
                           storable_copy)
from nlq.db import scoped
from nlq.errors import NlqError
from prompts.render import render
from store import change_sets, queries
from store.bulk_changes import apply_changes
from store.draft_rules import RuleViolation, check_draft
from store.fields import COST_MASKED_COLUMNS, FINANCIAL_KEYS
from store.reader import Outcome, QueryError, run_query

_Q = queries.load("change_sets")
PREVIEW = 20
log = logging.getLogger(__name__)


class OverCap(NlqError):
    """The plan matches more records than one proposal may hold; narrow it down."""

    code = "over_cap"
    status_code = 422


class BulkFailed(NlqError):
    """The bulk edit could not be completed because of an error on our side."""

    code = "internal_error"
    status_code = 500


class BulkDatabaseError(BulkFailed):
    """The database could not complete the bulk edit; try again shortly."""

    code = "db_error"


async def _plan(deps: AskDeps, entry: AuditEntry, org_id: str, request: str, sees_costs: bool) -> BulkPlan:
    provider = deps.provider
    if getattr(provider, "name", "") == "offline":
        plan = offline_plan(request, await provider.index(org_id))
        entry.llm_outputs.append({"raw": plan.model_dump_json()})
        return plan
    catalog = deps.catalog if sees_costs else deps.catalog.without(COST_MASKED_COLUMNS)
    editable = {f.column: f for f in editable_fields() if sees_costs or f.key not in FINANCIAL_KEYS}
    prompt = render("bulk", catalog=catalog, conventions=conventions_for(
        deps.limits.max_rows, hidden=frozenset() if sees_costs else COST_MASKED_COLUMNS),
                    editable=editable, request=request)
    entry.prompt_template, entry.prompt_hash, entry.prompt_tokens = prompt.template, prompt.sha256, prompt.estimated_tokens
    raw = await provider.complete_text(prompt)
    entry.llm_outputs.append({"raw": storable_copy(raw[:20_000])})
    return read_plan(raw)


async def _rows(deps: AskDeps, statement: str, org_id: str, user_id: int, max_rows: int) -> list[list]:
    limits = type(deps.limits)(**{**deps.limits.__dict__, "max_rows": max_rows})
    outcome = Outcome()
    rows = [row async for batch in run_query(deps.reader_pool, statement, org_id=org_id, user_id=user_id,
                                             limits=limits, outcome=outcome) for row in batch.rows]
    if outcome.truncated:  # by the row or byte cap: never propose part of what the plan selects
        raise OverCap("The plan's target selects more records than one proposal can hold; narrow it down.")
    return rows


def _propose(record_id: str, plan: BulkPlan, current: dict | None, pems: dict | None):
    """(item, None) for a record the plan can change, or (None, the first rule it breaks)."""
    if current is None or pems is None:
        return None, RuleViolation(record_id, "id", "not_found", "the record is no longer in the organization")
    try:
        new, problem = apply_changes(record_id, current, plan.as_changes())
    except (ValueError, TypeError, OverflowError):  # a stored value the operation cannot read
        field = next((c.field for c in plan.changes if c.op != "set"), plan.changes[0].field)
        return None, RuleViolation(record_id, field, "unreadable_value",
                                   f"the stored value of {field} cannot be read for this change")
    problems = [problem] if problem else check_draft(record_id, new, current, pems)
    if problems:
        return None, problems[0]
    return change_sets.ProposalItem(record_id, new, {k: current.get(k) for k in new}), None


def _refuse_hidden_changes(plan: BulkPlan, org_id: str) -> None:
    """A member who may not see costs may not change them either: the preview would show them."""
    hidden = sorted({c.field for c in plan.changes if c.field in FINANCIAL_KEYS})
    if hidden:
        raise PlanRefused(f"Cost fields are hidden for your membership in {org_id}; this plan changes "
                          f"{', '.join(hidden)}.", reasons=[f"costs_hidden: {f}" for f in hidden])


async def stream_bulk(deps: AskDeps, org_id: str, user_id: int, request: str, *,
                      sees_costs: bool = True) -> AsyncIterator[dict]:
    """Events: status, plan, summary (change set id, counts, skipped with reasons, preview), done; or error.

    Whatever fails — the model, the plan, the guardrails, the database, or a bug — ends the stream
    with one `error` event; every request leaves exactly one audit row (the client going away included).
    """
    cap = deps.bulk_max_records
    entry = AuditEntry(organization_id=org_id, user_id=user_id, question=request, kind="bulk",
                       provider=getattr(deps.provider, "name", "unknown"), model=getattr(deps.provider, "model", None))
    started = time.perf_counter()
    written = False
    try:
        yield event("status", {"stage": "planning"})
        plan = await _plan(deps, entry, org_id, request, sees_costs)
        entry.detail["plan"] = plan.model_dump()
        if not sees_costs:
            _refuse_hidden_changes(plan, org_id)
        target = check_target(plan.target, org_id, cap, sees_costs=sees_costs)
        entry.attempts.append({"sql": plan.target, "allowed": True, "reasons": [],
                               "scope": target.verdict.to_dict()["scope"]})
        entry.executed_sql, entry.scope = target.ids_sql, target.ids_verdict.to_dict()["scope"]
        yield event("plan", {"target": target.verdict.sql, "changes": [c.model_dump() for c in plan.changes],
                             "explanation": plan.explanation})
        yield event("status", {"stage": "matching"})
        (matched,), = await _rows(deps, target.count_sql, org_id, user_id, 1)
        if matched > cap:
            raise OverCap(f"The plan matches {matched:,} records; at most {cap:,} can be proposed at once. "
                          "Narrow it down (by category, area, dates, ...).", matched=matched, cap=cap)
        ids = [row[0] for row in await _rows(deps, target.ids_sql, org_id, user_id, cap)]
        yield event("status", {"stage": "proposing"})
        proposed, skipped = [], []
        async with scoped(deps.app_pool, org_id, user_id) as conn:
            merged = dict(await (await conn.execute(_Q["merged_records"], {"ids": ids})).fetchall())
            if any(record_id not in merged for record_id in ids):
                raise PlanRefused("The plan's target selects values that are not record ids.",
                                  reasons=[TARGET_NOT_IDS])
            pems = dict(await (await conn.execute(_Q["mirror_records"], {"org": org_id, "ids": ids})).fetchall())
            for record_id in ids:
                item, problem = _propose(record_id, plan, merged.get(record_id), pems.get(record_id))
                if problem:
                    skipped.append(problem.as_dict())
                else:
                    proposed.append(item)
            change_set_id = None
            if proposed:
                change_set_id = await change_sets.save_proposal(conn, org_id, user_id, request, plan.model_dump(),
                                                                proposed, pems)
        entry.verdict, entry.row_count = "allowed", len(proposed)
        entry.detail.update({"matched": matched, "proposed": len(proposed), "skipped": len(skipped),
                             "change_set_id": change_set_id})
        entry.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
        audit_id = await _write_audit(deps, entry)
        written = True
        if change_set_id:
            async with deps.app_pool.connection() as conn:
                await conn.execute(_Q["set_change_set_audit"], {"id": change_set_id, "audit_id": audit_id})
        preview = [{"record_id": p.record_id, "before": p.before, "after": p.delta} for p in proposed[:PREVIEW]]
        yield event("summary", {"change_set_id": change_set_id, "matched": matched, "proposed": len(proposed),
                                "skipped": skipped, "preview": preview, "audit_id": audit_id})
        yield event("done", {})
    except Exception as exc:  # noqa: BLE001 - after the first event, every failure is an error event
        failure = exc if isinstance(exc, (NlqError, QueryError, LlmUnavailable)) else _unexpected(exc)
        audit_id = None
        if not written:
            entry.verdict = "rejected" if isinstance(failure, (PlanRefused, OverCap)) else "declined" if isinstance(
                failure, NotUnderstood) else "error"
            if isinstance(failure, NotUnderstood):
                entry.detail["not_understood"] = failure.details.get("words", [])
            entry.error_code = failure.code
            entry.detail["error"] = failure.message
            entry.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
            written = True
            audit_id = await _write_audit(deps, entry)
        yield event("error", {"code": failure.code, "message": failure.message,
                              "reasons": failure.details.get("reasons", []), "audit_id": audit_id,
                              **({"matched": failure.details["matched"]} if "matched" in failure.details else {})})
    finally:
        if not written:  # the client went away mid-stream: still one audit row
            entry.error_code = entry.error_code or "cancelled"
            entry.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
            await asyncio.shield(_write_audit(deps, entry))


def _unexpected(exc: Exception) -> NlqError:
    """A failure no rule anticipated, reported without its text (which may carry database values)."""
    log.exception("bulk edit failed unexpectedly")
    return BulkDatabaseError() if isinstance(exc, psycopg.Error) else BulkFailed()
