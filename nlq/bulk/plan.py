"""The plan a model (or the offline planner) returns, read strictly, and its target checked."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import sqlglot
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from sqlglot import exp

from guardrails import Verdict
from nlq.ask.semantic.bulk import plan_request
from nlq.ask.semantic.lexicon import Vocabulary
from nlq.errors import NlqError
from nlq.guard import guard
from store.bulk_changes import Change, check_changes


class PlanRefused(NlqError):
    """The plan cannot be used; nothing was saved."""

    code = "rejected"
    status_code = 422


class PlanChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(min_length=1, max_length=40)
    op: str = Field(min_length=1, max_length=20)
    value: Any


def _storable(text: str) -> str:
    """Text PostgreSQL can keep (in the change set and the audit row): no NUL, no lone surrogates."""
    if "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text):
        raise ValueError("contains characters that cannot be stored")
    return text


def storable_copy(text: str) -> str:
    """`text` with what PostgreSQL cannot keep replaced by U+FFFD (for recording a raw model answer)."""
    return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in text)


StoredText = Annotated[str, AfterValidator(_storable)]


class BulkPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: StoredText = Field(min_length=1, max_length=5000)
    changes: list[PlanChange] = Field(min_length=1, max_length=20)
    explanation: StoredText = Field(default="", max_length=2000)

    def as_changes(self) -> list[Change]:
        return [Change(c.field, c.op, c.value) for c in self.changes]


def read_plan(raw: str | dict) -> BulkPlan:
    """A plan from JSON text (tolerantly unwrapped) or a dict; PlanRefused with reasons otherwise."""
    value = raw
    if isinstance(raw, str):
        text = raw.strip()
        candidates = [text] + re.findall(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
        if "{" in text and "}" in text:
            candidates.append(text[text.index("{"):text.rindex("}") + 1])
        value = None
        for candidate in candidates:
            try:
                value = json.loads(candidate)
                break
            except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
                continue
        if value is None:
            raise PlanRefused("The plan is not valid JSON.", reasons=["malformed_plan: not JSON"])
    try:
        plan = BulkPlan.model_validate(value)
    except ValidationError as exc:
        reasons = [f"malformed_plan: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()][:10]
        raise PlanRefused("The plan does not have the expected shape.", reasons=reasons) from None
    reasons = check_changes(plan.as_changes())
    if reasons:
        raise PlanRefused("The plan's changes cannot be applied.", reasons=reasons)
    return plan


@dataclass(frozen=True)
class Target:
    """A plan's target, checked: the statement as the guardrails rewrote it (shown to the user), and
    the two that run: how many distinct records it selects, and those records' ids."""

    verdict: Verdict
    count_sql: str
    ids_sql: str
    ids_verdict: Verdict


def check_target(target: str, org_id: str, cap: int, *, sees_costs: bool = True) -> Target:
    """The target through the guardrails, required to select ids only.

    A join may return a record more than once; the count and the ids are taken over the distinct
    ids, so the cap and the proposal both count records, not rows.
    """
    verdict = guard(target, org_id=org_id, max_rows=cap + 1, sees_costs=sees_costs)
    if not verdict.allowed:
        raise PlanRefused("The plan's target is not allowed.", reasons=[f"{r.code}: {r.message}" for r in verdict.reasons])
    tree = sqlglot.parse_one(target, read="postgres")
    projection = tree.expressions if isinstance(tree, exp.Select) else []
    only_id = (len(projection) == 1 and isinstance(projection[0], exp.Column) and projection[0].name.lower() == "id")
    if not only_id:
        raise PlanRefused("The plan's target must select record ids only.", reasons=[TARGET_NOT_IDS])

    def over_target(*columns: exp.Expression) -> exp.Select:
        source = exp.Subquery(this=tree.copy(), alias=exp.TableAlias(this=exp.to_identifier("target")))
        return exp.select(*columns).from_(source)

    count = guard(over_target(exp.Count(this=exp.Distinct(expressions=[exp.column("id")])))
                  .sql(dialect="postgres"), org_id=org_id, max_rows=1, sees_costs=sees_costs)
    ids = guard(over_target(exp.column("id")).distinct().order_by("id").sql(dialect="postgres"),
                org_id=org_id, max_rows=cap + 1, sees_costs=sees_costs)
    if not (count.allowed and ids.allowed):  # the target passed; wrapping it must not change that
        raise PlanRefused("The plan's target is not allowed.",
                          reasons=[f"{r.code}: {r.message}" for r in (*count.reasons, *ids.reasons)])
    return Target(verdict=verdict, count_sql=count.sql, ids_sql=ids.sql, ids_verdict=ids)


TARGET_NOT_IDS = "target_not_ids: the target must be SELECT id FROM pfa_merged ..."


def offline_plan(request: str, vocabulary: dict[str, list[str]] | Vocabulary, today: date | None = None) -> BulkPlan:
    """A plan read by the offline grammar (`nlq/ask/semantic/bulk.py`): set / shift / scale / add on
    an editable field, the target from the rest of the request; NotUnderstood when words are left."""
    vocab = vocabulary if isinstance(vocabulary, Vocabulary) else Vocabulary.build(vocabulary)
    target, changes, notes = plan_request(request, vocab, today or date.today())
    reasons = check_changes([Change(c["field"], c["op"], c["value"]) for c in changes])
    if reasons:
        raise PlanRefused("The plan's changes cannot be applied.", reasons=reasons)
    return BulkPlan(target=target, changes=changes,
                    explanation=("Offline plan: " + "; ".join(notes) + ".")[:2000])
