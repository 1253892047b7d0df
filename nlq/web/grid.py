"""The records grid: which columns a member may show, their labels, header sort links, the export
link, and values written for people ($1,607,200.00, 12 Mar 2026, yes).

Sorting, filtering and paging stay on the server (the API's keyset pages over the merged view), so
the grid is plain HTML that a small script (`static/grid.js`) enhances with the column chooser and
the value pickers. Money columns are absent for a member who may not see costs: not hidden, never
rendered, and not offered by the chooser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode

from store.fields import BY_COLUMN, COST_MASKED_COLUMNS, FieldType

# Every column the chooser offers, in grid order; the first ones are shown until the member chooses.
COLUMNS = ("id", "category", "class", "area", "source", "dor", "monthly_rate", "purchase_price",
           "forecast_start", "forecast_end", "forecast_cost", "is_actualized",
           "manufacturer", "model", "equipment_tag", "plan_start", "plan_end", "actual_start", "actual_end",
           "plan_cost", "actual_cost", "cost_variance", "is_discontinued", "is_funds_transferable")
SHOWN_FIRST = frozenset(COLUMNS[:12])
# Filters chosen from the organization's values (`/api/pfa/{org}/values/{field}`), with their labels.
PICKERS = tuple((c, BY_COLUMN[c].label) for c in ("category", "class", "area", "manufacturer"))
CURRENCY = "$"
_SORT_STATES = {None: None, False: "ascending", True: "descending"}


@dataclass(frozen=True)
class GridColumn:
    column: str
    label: str
    kind: str  # text | number | money | date | boolean
    shown: bool  # shown until the member chooses otherwise
    aria_sort: str | None  # "ascending" / "descending" on the column the grid is sorted by
    sort_url: str  # the same grid sorted by this column (descending when it already is ascending)
    sort_hint: str


def _kind(column: str) -> str:
    field = BY_COLUMN[column]
    if field.financial:
        return "money"
    return {FieldType.NUMERIC: "number", FieldType.DATE: "date", FieldType.BOOLEAN: "boolean"}.get(field.type, "text")


def visible_columns(sees_costs: bool) -> list[str]:
    """The columns a member may show: without money for one whose membership hides costs."""
    return [c for c in COLUMNS if sees_costs or c not in COST_MASKED_COLUMNS]


def grid_columns(sees_costs: bool, params: list[tuple[str, str]], sort: str) -> list[GridColumn]:
    """The grid's header: label, kind and a sort link per column, keeping every filter (not the page)."""
    kept = [(k, v) for k, v in params if k not in ("sort", "cursor", "notice")]
    current, descending = sort.lstrip("-"), sort.startswith("-")
    result = []
    for column in visible_columns(sees_costs):
        sorted_here = column == current
        next_desc = sorted_here and not descending
        label = BY_COLUMN[column].label
        result.append(GridColumn(
            column=column, label=label, kind=_kind(column), shown=column in SHOWN_FIRST,
            aria_sort=_SORT_STATES[descending if sorted_here else None],
            sort_url="?" + urlencode([*kept, ("sort", ("-" if next_desc else "") + column)]),
            sort_hint=f"Sort by {label}, {'descending' if next_desc else 'ascending'}"))
    return result


def export_url(org_id: str, params: list[tuple[str, str]], sort: str) -> str:
    """The API's CSV export with the grid's filters and sort (the chooser's columns are added by the page)."""
    kept = [(k, v) for k, v in params if k not in ("sort", "cursor", "notice") and v != ""]
    return f"/api/pfa/{quote(org_id)}/export?" + urlencode([*kept, ("sort", sort), ("format", "csv")])


def format_cell(value, kind: str) -> str:
    """A value as people read it.

    >>> [format_cell(v, "money") for v in (1607200, "1250.5", -42, None)]
    ['$1,607,200.00', '$1,250.50', '-$42.00', '']
    >>> format_cell("2026-03-12", "date"), format_cell(True, "boolean"), format_cell(12000, "number")
    ('12 Mar 2026', 'yes', '12,000')
    """
    if value is None or value == "":
        return ""
    if kind == "money":
        amount = _decimal(value)
        if amount is None:
            return str(value)
        return f"{'-' if amount < 0 else ''}{CURRENCY}{abs(amount):,.2f}"
    if kind == "number":
        amount = _decimal(value)
        if amount is None:
            return str(value)
        return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    if kind == "date":
        day = value if isinstance(value, date) else _date(value)
        return f"{day.day} {day:%b %Y}" if day else str(value)
    if kind == "boolean":
        return "yes" if value is True or value == "true" else "no" if value is False or value == "false" else str(value)
    return str(value)


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
