"""`stream_answer`: question -> prompt -> LLM -> guardrails (with repairs) -> executor -> explanation
-> events -> audit.

Never holds a pooled connection across an LLM call; after the first event every failure is an
`error` event; every request leaves exactly one audit row, written in a `finally`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from guardrails import Verdict
from nlq.ask.catalog import Catalog
from nlq.ask.conventions import columns_in, conventions_for
from nlq.ask.examples import examples_for_question
from nlq.ask.explain import describe
from nlq.ask.fairshare import Busy, FairShare
from nlq.ask.fallback import ProviderChoice
from nlq.ask.grounding import Binding, Grounding, clarify_message, ground_answer
from nlq.ask.providers import LlmBadOutput, LlmDeclined, LlmReply, LlmUnavailable, NotUnderstood
from nlq.ask.replica import Answered, ReplicaReads, routed_query
from nlq.ask.turns import Turn, prompt_context
from nlq.ask.vocabulary import VocabularyCache
from nlq.errors import NlqError
from nlq.guard import guard
from prompts.examples import with_examples
from store.fields import COST_MASKED_COLUMNS
from prompts.render import Prompt, render
from store import queries
from store.reader import ExecutionLimits, OverBudget, Outcome, QueryError, QueryTimeout

_AUDIT = queries.load("audit")
MAX_REPAIRS = 2
AUDIT_WAIT_SECONDS = 30.0
log = logging.getLogger(__name__)


class Rejected(NlqError):
    """No acceptable statement could be written for this question."""

    code = "rejected"
    status_code = 422


class CostsHidden(Rejected):
    """The question needs money figures, which this member's organization hides from them."""

    code = "costs_hidden"
    status_code = 403


@dataclass
class AskDeps:
    app_pool: AsyncConnectionPool
    reader_pool: AsyncConnectionPool
    provider: object
    catalog: Catalog
    limits: ExecutionLimits
    bulk_max_records: int = 5000
    fair_share: FairShare = field(default_factory=FairShare)
    replica: ReplicaReads | None = None  # NL answers on a hot standby (nlq/ask/replica.py)
    vocabulary: VocabularyCache | None = None  # value grounding (None: off)
    fallback: object | None = None  # the offline provider, when VANGUARD_LLM_FALLBACK=offline


@dataclass
class AuditEntry:
    organization_id: str
    user_id: int
    question: str
    provider: str
    model: str | None
    kind: str = "query"
    prompt_template: str | None = None
    prompt_hash: str | None = None
    prompt_tokens: int | None = None
    llm_outputs: list = field(default_factory=list)
    attempts: list = field(default_factory=list)
    executed_sql: str | None = None
    scope: dict | None = None
    explain_estimate: dict | None = None
    verdict: str = "error"
    error_code: str | None = None
    row_count: int | None = None
    truncated: bool | None = None
    timings: dict = field(default_factory=dict)
    detail: dict = field(default_factory=dict)
    conversation_id: str | None = None

    def params(self) -> dict:
        values = dict(self.__dict__)
        for name in ("llm_outputs", "attempts", "scope", "explain_estimate", "timings", "detail"):
            values[name] = Jsonb(values[name]) if values[name] is not None else None
        return values


def event(name: str, data) -> dict:
    return {"event": name, "data": data}


def _note_prompt(entry: AuditEntry, prompt: Prompt) -> None:
    entry.prompt_template, entry.prompt_hash = prompt.template, prompt.sha256
    entry.prompt_tokens = (entry.prompt_tokens or 0) + prompt.estimated_tokens


async def _timed(timings: dict, stage: str, awaitable):
    started = time.perf_counter()
    try:
        return await awaitable
    finally:
        timings[stage] = round(timings.get(stage, 0) + (time.perf_counter() - started) * 1000, 2)


async def stream_answer(deps: AskDeps, org_id: str, user_id: int, question: str,
                        conversation: Turn | None = None, *, bindings: list[Binding] = (),
                        sees_costs: bool = True) -> AsyncIterator[dict]:
    """The events of one answer, in order: status, [fallback], sql, [grounding], status, rows,
    [notice], status, explanation, summary, done; or clarify, done (a literal matched no stored
    value or several: nothing ran); or declined, done (the model says the records cannot answer);
    or error. `bindings` are the user's clarification choices.

    The explanation is asked for after the statement ran, so it is about the statement that ran.
    In a conversation (`nlq/ask/conversations.py`), prompts carry its earlier questions and their
    SQL, and the audit entry names the conversation. A member who may not see costs gets a catalog
    without the money columns, and the guardrails hide those columns from their statements.
    """
    catalog = deps.catalog if sees_costs else deps.catalog.without(COST_MASKED_COLUMNS)
    llm = ProviderChoice(deps.provider, deps.fallback)
    entry = AuditEntry(organization_id=org_id, user_id=user_id, question=question, provider=llm.name, model=llm.model,
                       conversation_id=conversation.conversation_id if conversation else None)
    started = time.perf_counter()
    written = False
    try:
        yield event("status", {"stage": "writing_sql"})
        budget = {"repairs": MAX_REPAIRS}
        conventions = conventions_for(deps.limits.max_rows, hidden=frozenset() if sees_costs else COST_MASKED_COLUMNS)
        examples = await _timed(entry.timings, "examples_ms", examples_for_question(
            deps.app_pool, org_id, question, sees_costs=sees_costs))
        entry.detail["examples"] = [e.id for e in examples]  # which verified examples the prompt carried
        prompt = with_examples(render("sql", catalog=catalog, conventions=conventions, question=question,
                                      **prompt_context(conversation)), examples)
        while True:
            verdict, reply = await _write_statement(deps, llm, entry, org_id, question, prompt, budget, catalog,
                                                    sees_costs, conversation)
            if fallback := _note_fallback(llm, entry):
                yield fallback
            grounding = await _timed(entry.timings, "grounding_ms", ground_answer(
                deps.vocabulary, llm, reply.sql, verdict, org_id=org_id, user_id=user_id,
                max_rows=deps.limits.max_rows + 1, bindings=bindings, sees_costs=sees_costs))
            entry.detail["grounding"] = grounding.audit(bindings)
            if grounding.clarify:  # never a silent empty answer: ask, and run nothing
                entry.verdict, entry.error_code, entry.executed_sql = "declined", "clarify", None
                entry.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
                audit_id = await _write_audit(deps, entry)
                written = True
                yield event("clarify", {"message": clarify_message(grounding.clarify), "items": grounding.clarify,
                                        "audit_id": audit_id})
                yield event("done", {})
                return
            verdict = grounding.verdict
            entry.executed_sql, entry.scope = verdict.sql, verdict.to_dict()["scope"]
            yield event("sql", {"sql": verdict.sql, "scope": entry.scope})
            if grounding.rewrites:
                yield event("grounding", [{k: r[k] for k in ("column", "from", "to")} for r in grounding.rewrites])
            yield event("status", {"stage": "running"})
            outcome = Outcome()
            answered = Answered()
            sent_columns = False
            run_started = time.perf_counter()
            try:
                async with deps.fair_share.slot(org_id, user_id):
                    async for batch in routed_query(deps.replica, deps.reader_pool, verdict.sql, org_id=org_id,
                                                    user_id=user_id, limits=deps.limits, outcome=outcome,
                                                    answered=answered, budget_statement=verdict.budget_sql):
                        if not sent_columns:
                            entry.timings["first_rows_ms"] = round((time.perf_counter() - started) * 1000, 2)
                            yield event("rows", {"columns": batch.columns})
                            sent_columns = True
                        yield event("rows", {"rows": batch.rows})
            except PoolTimeout:
                raise Busy("The service is answering many questions right now; ask again in a few seconds.") from None
            except (OverBudget, QueryTimeout):
                raise
            except QueryError as exc:
                if sent_columns or budget["repairs"] == 0:
                    raise
                # A database error (its SQLSTATE, class and a fixed message: nothing of the
                # server's text) is a reason like any other: the model gets one more try, never rows.
                budget["repairs"] -= 1
                reason = (f"database error {exc.details.get('sqlstate')} ({exc.details.get('class_name')}): "
                          f"{exc.details.get('reason')}")
                entry.attempts[-1]["database_error"] = reason
                yield event("status", {"stage": "repairing", "reason": reason})
                prompt = render("repair", catalog=catalog, conventions=conventions, question=question,
                                failed_sql=reply.sql, reasons=[reason], **prompt_context(conversation))
                continue
            break
        if not sent_columns:
            yield event("rows", {"columns": outcome.columns})
        entry.detail["answered_by"] = answered.by
        if answered.note:
            entry.detail["answered_by_note"] = answered.note
            yield event("notice", {"message": answered.note})
        entry.timings["execute_ms"] = round((time.perf_counter() - run_started) * 1000, 2)
        entry.explain_estimate = outcome.estimate.as_dict() if outcome.estimate else None
        entry.verdict, entry.row_count, entry.truncated = "allowed", outcome.row_count, outcome.truncated
        yield event("status", {"stage": "explaining"})
        async for piece in _explain(deps, llm, entry, reply, verdict, catalog, grounding):
            yield event("explanation", {"delta": piece})
        entry.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
        audit_id = await _write_audit(deps, entry)
        written = True
        yield event("summary", {"row_count": outcome.row_count, "truncated": outcome.truncated,
                                "timings": entry.timings, "audit_id": audit_id, "answered_by": answered.by})
        yield event("done", {})
    except LlmDeclined as exc:  # the model's own "these records cannot answer that": an answer, not a failure
        if fallback := _note_fallback(llm, entry):
            yield fallback
        entry.verdict, entry.error_code = "declined", exc.code
        entry.detail["decline"] = exc.details.get("reason", "")
        entry.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
        audit_id = await _write_audit(deps, entry)
        written = True
        yield event("declined", {"code": exc.code, "message": exc.message, "reason": exc.details.get("reason", ""),
                                 "audit_id": audit_id})
        yield event("done", {})
    except (NlqError, QueryError) as exc:
        if fallback := _note_fallback(llm, entry):
            yield fallback
        entry.error_code = exc.code
        entry.verdict = "rejected" if isinstance(exc, Rejected) else "declined" if isinstance(
            exc, NotUnderstood) else "error"
        if isinstance(exc, NotUnderstood):  # the parser's own refusal: never a repair round
            entry.detail["not_understood"] = exc.details.get("words", [])
        if isinstance(exc, (OverBudget, QueryTimeout, QueryError)):
            entry.explain_estimate = exc.details.get("estimate") or entry.explain_estimate
        entry.detail["error"] = exc.message
        entry.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
        audit_id = await _write_audit(deps, entry)
        written = True
        yield event("error", {"code": exc.code, "message": exc.message,
                              "reasons": exc.details.get("reasons", []), "audit_id": audit_id})
    finally:
        if not written:  # the client went away (or something unexpected): still one audit row
            entry.error_code = entry.error_code or "cancelled"
            entry.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
            await asyncio.shield(_write_audit(deps, entry))


def _note_fallback(llm: ProviderChoice, entry: AuditEntry) -> dict | None:
    """The `fallback` event, once, when this answer moved to the offline parser; the audit row
    then names the provider that answered and keeps what failed."""
    announcement = llm.announcement()
    if announcement is None:
        return None
    entry.provider, entry.model = llm.name, llm.model
    entry.detail["fallback"] = llm.fell_back
    return event("fallback", announcement)


async def _write_statement(deps: AskDeps, llm: ProviderChoice, entry: AuditEntry, org_id: str, question: str,
                           prompt: Prompt, budget: dict, catalog: Catalog, sees_costs: bool,
                           conversation: Turn | None = None) -> tuple[Verdict, LlmReply]:
    """Ask for SQL and check it, repairing with the guardrails' reasons (never rows) while the
    shared repair budget lasts. A decline (LlmDeclined) ends the answer, never a repair; so does a
    statement that reads a hidden money column: no rewording makes a cost visible."""
    while True:
        _note_prompt(entry, prompt)
        try:
            reply = await _timed(entry.timings, "llm_ms", llm.generate(prompt, org_id=org_id, question=question,
                                                                       conversation=conversation))
        except LlmBadOutput as exc:
            entry.llm_outputs.append({"error": exc.message})
            reasons = [f"llm_bad_output: {exc.message}"]
            failed_sql = "(no statement)"
        except LlmDeclined as exc:
            entry.llm_outputs.append({"decline": exc.details.get("reason", "")})
            raise
        else:
            entry.llm_outputs.append({"raw": reply.raw[:20_000]})
            started = time.perf_counter()
            # One row past the cap, so the executor can tell a cut answer (truncated) from a whole one.
            verdict = guard(reply.sql, org_id=org_id, max_rows=deps.limits.max_rows + 1, sees_costs=sees_costs)
            entry.timings["guard_ms"] = round(entry.timings.get("guard_ms", 0) + (time.perf_counter() - started) * 1000, 3)
            entry.attempts.append({"sql": reply.sql, "allowed": verdict.allowed,
                                   "reasons": [r.__dict__ for r in verdict.reasons],
                                   "scope": verdict.to_dict()["scope"]})
            if verdict.allowed:
                entry.executed_sql, entry.scope = verdict.sql, verdict.to_dict()["scope"]
                return verdict, reply
            reasons = [f"{r.code}: {r.message}" for r in verdict.reasons]
            failed_sql = reply.sql
            if any(r.code == "hidden_column" for r in verdict.reasons):
                raise CostsHidden(f"This question needs cost figures, which are hidden for your membership in "
                                  f"{org_id}; ask about counts, dates, categories or areas instead.",
                                  reasons=reasons)
        if budget["repairs"] == 0:
            raise Rejected("No statement the guardrails accept could be written for this question.",
                           reasons=reasons)
        budget["repairs"] -= 1
        prompt = render("repair", catalog=catalog, conventions=conventions_for(
            deps.limits.max_rows, hidden=frozenset() if sees_costs else COST_MASKED_COLUMNS),
                        question=question, failed_sql=failed_sql, reasons=reasons, **prompt_context(conversation))


async def _explain(deps: AskDeps, llm: ProviderChoice, entry: AuditEntry, reply: LlmReply, verdict: Verdict,
                   catalog: Catalog, grounding: Grounding) -> AsyncIterator[str]:
    """What ran, in plain words: a fallback note, the values grounding matched, the model's account
    of the statement that ran (asked once, from that statement and the columns it names), then the
    deterministic part.

    The model is shown its own statement, not the rewritten one: what the service changed (scope,
    row cap, grounded values) is described locally, and nothing the service added ever travels to
    the model.
    """
    if llm.fell_back:
        yield llm.note() + "\n\n"
    if grounding.rewrites:
        yield grounding.lines() + "\n\n"
    stream = llm.stream_explanation
    if stream is None:
        if reply.explanation:
            yield reply.explanation + "\n\n"
    else:
        prompt = render("explain", catalog=catalog, sql=reply.sql, used=columns_in(reply.sql, catalog))
        _note_prompt(entry, prompt)
        started = time.perf_counter()
        said = False
        try:
            async for piece in stream(prompt):
                said = True
                yield piece
        except LlmUnavailable:
            pass  # the deterministic part below always explains what ran
        if said:
            yield "\n\n"
        entry.timings["explain_ms"] = round((time.perf_counter() - started) * 1000, 2)
    yield describe(grounding.sql or reply.sql, verdict, deps.limits.max_rows)


async def _write_audit(deps: AskDeps, entry: AuditEntry) -> int | None:
    """Insert the request's audit row. It waits longer for a connection than a request does (an
    answer may be refused as busy, its audit row may not be dropped), and a failure is logged as an
    error rather than breaking the stream the user is reading."""
    try:
        async with deps.app_pool.connection(timeout=AUDIT_WAIT_SECONDS) as conn:
            row = await (await conn.execute(_AUDIT["insert_audit"], entry.params())).fetchone()
    except Exception:  # noqa: BLE001 - the database gone, a value it refuses: the stream must still end
        log.exception("audit row for %s/%s (%s) could not be written", entry.organization_id, entry.user_id,
                      entry.kind)
        return None
    return row[0]
