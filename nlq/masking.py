"""Financial masking at the API's edge: what a member who may not see costs gets instead.

The rule lives in the field registry (`Field.financial`, `COST_MASKED_COLUMNS`); NL statements are
masked by the guardrails' column policy (`nlq.guard`), and everything else the service returns
passes through these functions, so a rate, price, cost or variance reaches such a member by no
route: lists, one record with its draft, exports, KPIs, drafts, change sets.
"""

from __future__ import annotations

from nlq.errors import Forbidden
from store.fields import COST_MASKED_COLUMNS, FIELDS, FINANCIAL_KEYS

VISIBLE_COLUMNS = tuple(f.column for f in FIELDS if f.column not in COST_MASKED_COLUMNS)
MONEY_KPIS = ("plan_cost", "forecast_cost", "actual_cost", "cost_variance")


class CostsHidden(Forbidden):
    """Cost fields are hidden for this membership."""

    code = "costs_hidden"


def without_keys(values: dict | None) -> dict | None:
    """A record's JSON (camelCase keys) without its money keys."""
    if values is None:
        return None
    return {k: v for k, v in values.items() if k not in FINANCIAL_KEYS}


def deep(value):
    """Any JSON (a draft's delta, base or detail, a commit item) with money keys removed at every depth."""
    if isinstance(value, dict):
        return {k: deep(v) for k, v in value.items() if k not in FINANCIAL_KEYS and k not in COST_MASKED_COLUMNS}
    if isinstance(value, list):
        return [deep(v) for v in value]
    return value


def record(values: dict) -> dict:
    """One merged record (columns, `data` and the caller's `draft`) without money."""
    masked = {k: v for k, v in values.items() if k not in COST_MASKED_COLUMNS or k == "data"}
    if "data" in masked:
        masked["data"] = without_keys(masked["data"])
    draft = masked.get("draft")
    if draft:
        masked["draft"] = {**draft, **{part: without_keys(draft.get(part)) for part in ("delta", "base", "current")
                                      if part in draft}}
    return masked


def list_item(values: dict) -> dict:
    return {k: v for k, v in values.items() if k not in COST_MASKED_COLUMNS}


def kpis(payload: dict) -> dict:
    """KPI groups and totals keep their counts; every money figure is gone."""
    strip = lambda d: {k: v for k, v in d.items() if k not in MONEY_KPIS}  # noqa: E731
    masked = {**payload, "groups": [strip(g) for g in payload.get("groups", [])],
              "totals": strip(payload.get("totals", {}))}
    if "pems" in payload:
        masked["pems"] = kpis(payload["pems"])
    return masked


def refuse_money_changes(changes: dict, org_id: str) -> None:
    """A member who cannot see costs cannot change them either (the form and previews would show them)."""
    hidden = sorted(k for k in changes if k in FINANCIAL_KEYS)
    if hidden:
        raise CostsHidden(f"Cost fields are hidden for your membership in {org_id}: {', '.join(hidden)} cannot be "
                          "changed.", fields=hidden)


def refuse_money_sort(column: str, org_id: str) -> None:
    if column in COST_MASKED_COLUMNS:
        raise CostsHidden(f"Cost fields are hidden for your membership in {org_id}; sort by another column.",
                          field=column)
