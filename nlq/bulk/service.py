"""`stream_bulk`: request -> plan -> checked target -> proposal (a change set of proposed drafts) -> audit."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator


from nlq.ask.catalog import editable_fields
from nlq.ask.providers import LlmUnavailable, NotUnderstood
from nlq.ask.service import AskDeps, AuditEntry, _write_audit, event
from nlq.bulk.plan import BulkPlan, PlanRefused, check_target, offline_plan, read_plan
from nlq.db import scoped
from nlq.errors import NlqError
from prompts.render import render
from store import change_sets, queries
from store.bulk_changes import apply_changes
from store.draft_rules import check_draft
from store.reader import Outcome, QueryError, run_query

_Q = queries.load("change_sets")
PREVIEW = 20


class OverCap(NlqError):
    """The plan matches more records than one proposal may hold; narrow it down."""

    code = "over_cap"
    status_code = 422


async def _plan(deps: AskDeps, entry: AuditEntry, org_id: str, request: str) -> BulkPlan:
    provider = deps.provider
    if getattr(provider, "name", "") == "offline":
        plan = offline_plan(request, await provider.index(org_id))
        entry.llm_outputs.append({"raw": plan.model_dump_json()})
        return plan
    prompt = render("bulk", catalog=deps.catalog, editable=editable_fields(), request=request)
    entry.prompt_template, entry.prompt_hash, entry.prompt_tokens = prompt.template, prompt.sha256, prompt.estimated_tokens
    raw = await provider.complete_text(prompt)
    entry.llm_outputs.append({"raw": raw[:20_000]})
    return read_plan(raw)


async def _rows(deps: AskDeps, statement: str, org_id: str, user_id: int, max_rows: int) -> list[list]:
    limits = type(deps.limits)(**{**deps.limits.__dict__, "max_rows": max_rows})
    return [row async for batch in run_query(deps.reader_pool, statement, org_id=org_id, user_id=user_id,
                                             limits=limits, outcome=Outcome()) for row in batch.rows]


async def stream_bulk(deps: AskDeps, org_id: str, user_id: int, request: str) -> AsyncIterator[dict]:
    """Events: status, plan, summary (change set id, counts, skipped with reasons, preview), done; or error."""
    cap = deps.bulk_max_records
    entry = AuditEntry(organization_id=org_id, user_id=user_id, question=request, kind="bulk",
                       provider=getattr(deps.provider, "name", "unknown"), model=getattr(deps.provider, "model", None))
    started = time.perf_counter()
    try:
        yield event("status", {"stage": "planning"})
        plan = await _plan(deps, entry, org_id, request)
        entry.detail["plan"] = plan.model_dump()
        verdict, count_sql = check_target(plan.target, org_id, cap)
        entry.attempts.append({"sql": plan.target, "allowed": True, "reasons": [], "scope": verdict.to_dict()["scope"]})
        entry.executed_sql, entry.scope = verdict.sql, verdict.to_dict()["scope"]
        yield event("plan", {"target": verdict.sql, "changes": [c.model_dump() for c in plan.changes],
                             "explanation": plan.explanation})
        yield event("status", {"stage": "matching"})
        (matched,), = await _rows(deps, count_sql, org_id, user_id, 1)
        if matched > cap:
            raise OverCap(f"The plan matches {matched:,} records; at most {cap:,} can be proposed at once. "
                          "Narrow it down (by category, area, dates, ...).", matched=matched, cap=cap)
        ids = [row[0] for row in await _rows(deps, verdict.sql, org_id, user_id, cap)]
        yield event("status", {"stage": "proposing"})
        proposed, skipped = [], []
        async with scoped(deps.app_pool, org_id, user_id) as conn:
            merged = dict(await (await conn.execute(_Q["merged_records"], {"ids": ids})).fetchall())
            pems = dict(await (await conn.execute(_Q["mirror_records"], {"org": org_id, "ids": ids})).fetchall())
            for record_id in ids:
                current = merged[record_id]
                new, problem = apply_changes(record_id, current, plan.as_changes())
                problems = [problem] if problem else check_draft(record_id, new, current, pems[record_id])
                if problems:
                    skipped.append(problems[0].as_dict())
                    continue
                proposed.append(change_sets.ProposalItem(record_id, new, {k: current.get(k) for k in new}))
            change_set_id = None
            if proposed:
                change_set_id = await change_sets.save_proposal(conn, org_id, user_id, request, plan.model_dump(),
                                                                proposed, pems)
        entry.verdict, entry.row_count = "allowed", len(proposed)
        entry.detail.update({"matched": matched, "proposed": len(proposed), "skipped": len(skipped),
                             "change_set_id": change_set_id})
        entry.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
        audit_id = await _write_audit(deps, entry)
        if change_set_id:
            async with deps.app_pool.connection() as conn:
                await conn.execute(_Q["set_change_set_audit"], {"id": change_set_id, "audit_id": audit_id})
        preview = [{"record_id": p.record_id, "before": p.before, "after": p.delta} for p in proposed[:PREVIEW]]
        yield event("summary", {"change_set_id": change_set_id, "matched": matched, "proposed": len(proposed),
                                "skipped": skipped, "preview": preview, "audit_id": audit_id})
        yield event("done", {})
    except (NlqError, QueryError, LlmUnavailable) as exc:
        entry.verdict = "rejected" if isinstance(exc, (PlanRefused, OverCap)) else "declined" if isinstance(
            exc, NotUnderstood) else "error"
        if isinstance(exc, NotUnderstood):
            entry.detail["not_understood"] = exc.details.get("words", [])
        entry.error_code = exc.code
        entry.detail["error"] = exc.message
        entry.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
        audit_id = await _write_audit(deps, entry)
        yield event("error", {"code": exc.code, "message": exc.message, "reasons": exc.details.get("reasons", []),
                              "audit_id": audit_id, **({"matched": exc.details["matched"]} if "matched" in exc.details else {})})
