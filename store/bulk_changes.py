"""Bulk-edit operations on registry values: which ops fit which field, and what they compute.

Pure functions: the plan's changes are checked once, then applied to each record's current
(merged) values; a record where an operation cannot apply is skipped with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from store.draft_rules import RuleViolation, _check_value
from store.fields import BY_KEY, FieldType

OPS = {FieldType.DATE: ("shift_days", "set"), FieldType.NUMERIC: ("set", "add", "scale_pct"),
       FieldType.TEXT: ("set",), FieldType.BOOLEAN: ("set",)}
MAX_SHIFT_DAYS = 3650


@dataclass(frozen=True)
class Change:
    field: str
    op: str
    value: object


def check_changes(changes: list[Change]) -> list[str]:
    """Reasons the changes cannot form a plan (empty when they can)."""
    reasons: list[str] = []
    seen: set[str] = set()
    for change in changes:
        spec = BY_KEY.get(change.field)
        if spec is None:
            reasons.append(f"unknown_field: {str(change.field)[:40]} is not a PFA field")
            continue
        if not spec.editable:
            reasons.append(f"read_only_field: {change.field} cannot be changed")
            continue
        if change.field in seen:
            reasons.append(f"duplicate_field: {change.field} is changed twice")
        seen.add(change.field)
        if change.op not in OPS[spec.type]:
            reasons.append(f"op_not_allowed: {change.op} does not apply to {change.field} "
                           f"({spec.type.value}: {', '.join(OPS[spec.type])})")
            continue
        value = change.value
        if change.op == "shift_days":
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_SHIFT_DAYS:
                reasons.append(f"type: shift_days for {change.field} needs a whole number of days "
                               f"(at most {MAX_SHIFT_DAYS})")
        elif change.op in ("add", "scale_pct"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                reasons.append(f"type: {change.op} for {change.field} needs a number")
            elif change.op == "scale_pct" and not -100 <= value <= 1000:
                reasons.append(f"type: scale_pct for {change.field} must be between -100 and 1000")
        else:
            problem = _check_value("plan", change.field, value)
            if problem:
                reasons.append(f"{problem.rule}: {problem.message}")
    return reasons


def apply_changes(record_id: str, current: dict, changes: list[Change]) -> tuple[dict, RuleViolation | None]:
    """New values for one record, or why an operation cannot apply to it."""
    new: dict = {}
    for change in changes:
        value = current.get(change.field)
        if change.op == "set":
            new[change.field] = change.value
        elif value is None:
            return {}, RuleViolation(record_id, change.field, "no_value",
                                     f"{change.field} has no value to {change.op.replace('_', ' ')}")
        elif change.op == "shift_days":
            new[change.field] = (date.fromisoformat(value) + timedelta(days=change.value)).isoformat()
        elif change.op == "add":
            new[change.field] = round(value + change.value, 2)
        else:  # scale_pct
            new[change.field] = round(value * (1 + change.value / 100), 2)
    return new, None
