"""The rules a draft must obey (DESIGN section 3), as pure functions over registry values.

A violation names the record, the field and the rule, so the API can answer 422 precisely and a
bulk proposal can list what it skipped and why.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date

from store.fields import BY_KEY, FieldType

MAX_TEXT = 200


@dataclass(frozen=True)
class RuleViolation:
    record_id: str
    field: str
    rule: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def _printable(text: str, limit: int = 40) -> str:
    """Text safe to store and echo: no NUL, no lone surrogates, at most `limit` characters."""
    return "".join(ch for ch in text if ch != "\x00" and not "\ud800" <= ch <= "\udfff")[:limit]


def _check_value(record_id: str, key: str, value) -> RuleViolation | None:
    spec = BY_KEY.get(key)
    if spec is None:
        return RuleViolation(record_id, _printable(key), "unknown_field", f"{_printable(key)} is not a PFA field")
    if not spec.editable:
        return RuleViolation(record_id, key, "read_only_field", f"{key} cannot be changed in a draft")
    if value is None:
        if spec.type is FieldType.NUMERIC:
            return None
        return RuleViolation(record_id, key, "required", f"{key} needs a value")
    if spec.type is FieldType.NUMERIC:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return RuleViolation(record_id, key, "type", f"{key} must be a number")
        if value < 0:
            return RuleViolation(record_id, key, "non_negative", f"{key} cannot be negative")
        if value > 1e12:
            return RuleViolation(record_id, key, "too_large", f"{key} is implausibly large")
    elif spec.type is FieldType.DATE:
        if not isinstance(value, str):
            return RuleViolation(record_id, key, "type", f"{key} must be a date (YYYY-MM-DD)")
        try:
            date.fromisoformat(value)
        except ValueError:
            return RuleViolation(record_id, key, "invalid_date", f"{key} {value[:20]!r} is not a valid YYYY-MM-DD date")
        if len(value) != 10:
            return RuleViolation(record_id, key, "invalid_date", f"{key} must be written YYYY-MM-DD")
    elif spec.type is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            return RuleViolation(record_id, key, "type", f"{key} must be true or false")
    else:
        if not isinstance(value, str) or not value.strip():
            return RuleViolation(record_id, key, "type", f"{key} must be non-empty text")
        if _printable(value, MAX_TEXT + 1) != value[:MAX_TEXT + 1]:
            return RuleViolation(record_id, key, "invalid_text", f"{key} contains characters that are not allowed")
        if len(value) > MAX_TEXT:
            return RuleViolation(record_id, key, "too_long", f"{key} is longer than {MAX_TEXT} characters")
    if spec.allowed and value not in spec.allowed:
        return RuleViolation(record_id, key, "allowed_values", f"{key} must be one of {', '.join(spec.allowed)}")
    return None


def check_draft(record_id: str, changes: dict, current: dict, pems: dict) -> list[RuleViolation]:
    """Every violation of applying `changes` to a record whose merged values are `current`.

    `pems` is the record as PEMS has it (the mirror), which decides what is locked. A value that
    breaks its own field's rule is left out of the rules across fields (they see the current value
    instead), so one save reports each field's problem and every other rule it breaks.

    >>> check_draft("P-1", {"forecastEnd": "2026-01-01"}, {"forecastStart": "2026-02-01"}, {})[0].rule
    'end_before_start'
    >>> [v.rule for v in check_draft("P-1", {"monthlyRate": -1, "source": "Purchase"}, {}, {})]
    ['non_negative', 'purchase_needs_price']
    """
    found = [v for v in (_check_value(record_id, k, val) for k, val in changes.items()) if v]
    bad = {v.field for v in found}
    changes = {k: v for k, v in changes.items() if k not in bad}
    after = {**current, **changes}
    start, end = after.get("forecastStart"), after.get("forecastEnd")
    if start and end and end < start:
        found.append(RuleViolation(record_id, "forecastEnd", "end_before_start",
                                   f"forecast end {end} is before forecast start {start}"))
    if after.get("source") == "Rental" and not after.get("monthlyRate"):
        found.append(RuleViolation(record_id, "monthlyRate", "rental_needs_rate", "a Rental needs a monthly rate"))
    if after.get("source") == "Purchase" and not after.get("purchasePrice"):
        found.append(RuleViolation(record_id, "purchasePrice", "purchase_needs_price", "a Purchase needs a purchase price"))
    if pems.get("isActualized"):
        for key in ("forecastStart", "source"):
            if key in changes and changes[key] != pems.get(key):
                found.append(RuleViolation(record_id, key, "locked_when_actualized",
                                           f"{key} is locked: the equipment is on site"))
    if after.get("isDiscontinued") and after.get("isFundsTransferable"):
        found.append(RuleViolation(record_id, "isFundsTransferable", "discontinued_and_transferable",
                                   "a discontinued record cannot be funds-transferable"))
    if pems.get("isDiscontinued") and changes.get("isDiscontinued") is False:
        found.append(RuleViolation(record_id, "isDiscontinued", "cannot_undiscontinue",
                                   "a discontinued record cannot be un-discontinued by a draft"))
    return found
