"""The plan a model (or the offline planner) returns, read strictly, and its target checked."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any

import sqlglot
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from sqlglot import exp

from guardrails import Verdict
from nlq.ask.offline import Parsed, _dates, _filters_by_value, _flags, _money
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


def check_target(target: str, org_id: str, cap: int) -> Target:
    """The target through the guardrails, required to select ids only.

    A join may return a record more than once; the count and the ids are taken over the distinct
    ids, so the cap and the proposal both count records, not rows.
    """
    verdict = guard(target, org_id=org_id, max_rows=cap + 1)
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
                  .sql(dialect="postgres"), org_id=org_id, max_rows=1)
    ids = guard(over_target(exp.column("id")).distinct().order_by("id").sql(dialect="postgres"),
                org_id=org_id, max_rows=cap + 1)
    if not (count.allowed and ids.allowed):  # the target passed; wrapping it must not change that
        raise PlanRefused("The plan's target is not allowed.",
                          reasons=[f"{r.code}: {r.message}" for r in (*count.reasons, *ids.reasons)])
    return Target(verdict=verdict, count_sql=count.sql, ids_sql=ids.sql, ids_verdict=ids)


TARGET_NOT_IDS = "target_not_ids: the target must be SELECT id FROM pfa_merged ..."


SHIFT = re.compile(r"\b(extend|lengthen|prolong|shorten|pull in|bring forward|delay|postpone|push back|push)\b.*?\bby\s+(\d+)\s+(day|week|month)s?")
SCALE = re.compile(r"\b(cut|reduce|lower|decrease|raise|increase)\b.*?\b(rate|rates|price|prices)\b.*?\bby\s+(\d+(?:\.\d+)?)\s*%")
SWITCH = re.compile(r"\b(?:switch|change|convert|move)\b.*?\bto\s+(purchase|rental|buy|rent)\b")
AREA = re.compile(r"\bmove\b.*?\bto\s+(silo \d+|[a-z][a-z ]+?)\s*$")


def offline_plan(request: str, vocabulary: dict[str, list[str]]) -> BulkPlan:
    """Plans for the common requests: shift dates, scale rates or prices, switch source, discontinue, move area."""
    text = " ".join(request.lower().split())
    changes: list[dict] = []
    if m := SHIFT.search(text):
        verb, amount, unit = m.groups()
        days = int(amount) * {"day": 1, "week": 7, "month": 30}[unit]
        if verb in ("shorten", "pull in", "bring forward"):
            changes.append({"field": "forecastEnd", "op": "shift_days", "value": -days})
        elif verb in ("delay", "postpone", "push back", "push"):
            changes += [{"field": "forecastStart", "op": "shift_days", "value": days},
                        {"field": "forecastEnd", "op": "shift_days", "value": days}]
        else:
            changes.append({"field": "forecastEnd", "op": "shift_days", "value": days})
    elif m := SCALE.search(text):
        verb, what, pct = m.groups()
        sign = -1 if verb in ("cut", "reduce", "lower", "decrease") else 1
        changes.append({"field": "monthlyRate" if what.startswith("rate") else "purchasePrice", "op": "scale_pct",
                        "value": sign * float(pct)})
    elif m := SWITCH.search(text):
        changes.append({"field": "source", "op": "set", "value": "Purchase" if m.group(1) in ("purchase", "buy") else "Rental"})
    elif re.search(r"\b(discontinue|cancel)\b", text):
        changes.append({"field": "isDiscontinued", "op": "set", "value": True})
    elif (m := AREA.search(text)) and any(m.group(1) == a.lower() for a in vocabulary.get("area", [])):
        area = next(a for a in vocabulary["area"] if a.lower() == m.group(1))
        changes.append({"field": "area", "op": "set", "value": area})
        text = text[:m.start(1)]
    if not changes:
        raise PlanRefused("The offline planner cannot read that request. It understands: extend / shorten / delay "
                          "... by N days, weeks or months; cut / raise rates or prices by N%; switch ... to purchase "
                          "or rental; discontinue ...; move ... to <area>.", reasons=["offline_unsupported"])
    parsed = Parsed()
    # What is left once the change itself is taken out says which records to change.
    selection = re.sub(r"\bby\s+\d+(?:\.\d+)?\s*(?:%|days?|weeks?|months?)", " ", text)
    selection = re.sub(r"\bto\s+(purchase|rental|buy|rent)\b", " ", selection)
    selection = re.sub(r"\b(extend|lengthen|prolong|shorten|pull in|bring forward|delay|postpone|push back|push|"
                       r"cut|reduce|lower|decrease|raise|increase|switch|change|convert|discontinue|cancel)\b",
                       " ", selection)
    _filters_by_value(selection, vocabulary, parsed)
    _flags(selection, parsed)
    _money(selection, parsed)
    _dates(selection, parsed)
    if not parsed.conditions and not re.search(r"\b(all|every|everything)\b", text):
        raise PlanRefused("Say which records: name a category, class, area or other filter, or say 'all'.",
                          reasons=["target_too_broad: no filter and no 'all'"])
    target = exp.select("id").from_("pfa_merged")
    for condition in parsed.conditions:
        target = target.where(condition, copy=False)
    return BulkPlan(target=target.sql(dialect="postgres"), changes=changes,
                    explanation="Offline plan: " + ("; ".join(parsed.understood) or "all records") + ".")
