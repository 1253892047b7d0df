"""Bulk-edit requests in the question grammar: one change (set / shift / scale / add) and a target.

"switch all project-paid compressors to BEO", "delay cranes in Silo 4 by 2 weeks", "set the
forecast start of generators ending in March to 2027-04-01". The change words are read first;
what remains must read fully as conditions on records, or the request is declined.
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic.build import VIEW, conjunction
from nlq.ask.semantic.conditions import Reader
from nlq.ask.semantic.grammar import decline_leftovers
from nlq.ask.semantic.lexicon import Vocabulary, tag

VALUE_FIELDS = {"source": "source", "dor": "dor", "area": "area", "category": "category", "class": "class"}
DATE_FIELDS = {("forecast", "start"): "forecastStart", ("forecast", "end"): "forecastEnd"}
FORWARD = {"delay", "postpone", "push", "push back", "slide", "shift", "move", "extend", "lengthen", "prolong",
           "bump", "reschedule", "raise", "increase"}
BACK = {"bring forward", "pull in", "advance", "pull forward", "shorten", "cut", "reduce", "lower", "decrease"}
END_ONLY = {"extend", "lengthen", "prolong", "shorten"}
EXAMPLES = ("delay all cranes in Silo 4 by 2 weeks", "switch all project-paid compressors to BEO",
            "set the forecast end of rentals ending next month to 2027-03-31", "cut rental rates of generators by 5%")


class Unchanged(NotUnderstood):
    """The request names no change the planner can make."""


def plan_request(request: str, vocab: Vocabulary, today: date) -> tuple[str, list[dict], list[str]]:
    """(target SELECT id ..., changes, notes) for a bulk-edit request, or NotUnderstood."""
    items = tag(request, vocab, today)
    reader = Reader(items, today)
    changes = _change(reader)
    if not changes:
        raise Unchanged("The offline planner found no change it can make in that request. It reads e.g. "
                        + "; ".join(f"\"{e}\"" for e in EXAMPLES) + ".", words=[], understood=[])
    reader.read_dates()
    reader.read_amounts()
    reader.read_values()
    reader.read_flags()
    decline_leftovers(items, reader, request)
    target = exp.select("id").from_(VIEW)
    where = conjunction([c.expression for c in reader.conditions])
    if where is not None:
        target = target.where(where, copy=False)
    broad = where is None
    if broad and not any(i.surface.lower() in ("all", "every", "everything") for i in items):
        from nlq.bulk.plan import PlanRefused
        raise PlanRefused("Say which records: name a category, class, area or other filter, or say 'all'.",
                          reasons=["target_too_broad: no filter and no 'all'"])
    return target.sql(dialect="postgres"), changes, reader.notes


def _verb(reader: Reader) -> tuple[int, str] | None:
    for i, item in enumerate(reader.items):
        if item.kind in ("stop",):
            continue
        word = item.surface.lower()
        if item.kind == "edit" or (item.kind == "measure" and word in ("delay", "delayed")) or (
                item.kind == "flag" and word in ("cancel", "discontinue")):
            return i, " ".join(word.split())
        return None
    return None


def _change(reader: Reader) -> list[dict]:
    found = _verb(reader)
    if found is None:
        return []
    v, verb = found
    items = reader.items
    reader.use(v)
    if verb in ("cancel", "discontinue"):
        reader.notes.append(f"'{items[v].surface}' read as setting cancelled (isDiscontinued) to true")
        return [{"field": "isDiscontinued", "op": "set", "value": True}]
    field_at, qual, part, measure = _field(reader, v)
    # "... by N days / N% / N"
    for i, item in enumerate(items):
        if item.used or item.kind != "group" or item.surface.lower() != "by" or reader.kind(i + 1) != "num":
            continue
        number = items[i + 1].value
        k = reader.next_content(i + 1, 1, {"stop"})
        unit = items[k].value if reader.kind(k) == "unit" else None
        sign = -1 if verb in BACK else 1
        if unit in ("day", "week", "month") and number.value.is_integer():
            days = int(number.value) * {"day": 1, "week": 7, "month": 30}[unit]
            if part is not None:
                fields = [DATE_FIELDS.get((qual or "forecast", part))]
                if fields[0] is None:
                    raise NotUnderstood(f"Only the forecast dates can be changed; '{qual} {part}' is read-only.",
                                        words=[f"{qual} {part}"], understood=reader.notes)
            elif verb in END_ONLY:
                fields = ["forecastEnd"]
            elif verb in FORWARD | BACK:
                fields = ["forecastStart", "forecastEnd"]
            else:
                return []
            reader.use(i, i + 1, k, *field_at)
            unit_note = f" ({days} days)" if unit != "day" else ""
            reader.notes.append(f"'{items[v].surface} ... by {items[i + 1].surface} {items[k].surface}' read as "
                                f"moving {' and '.join(fields)} by {sign * days} days{unit_note}")
            return [{"field": f, "op": "shift_days", "value": sign * days} for f in fields]
        if measure in ("monthly_rate", "purchase_price") and unit is None:
            key = "monthlyRate" if measure == "monthly_rate" else "purchasePrice"
            reader.use(i, i + 1, *field_at)
            if number.percent:
                reader.notes.append(f"'{items[v].surface} ... by {items[i + 1].surface}' read as scaling {key} "
                                    f"by {sign * number.value:g}%")
                return [{"field": key, "op": "scale_pct", "value": sign * number.value}]
            reader.notes.append(f"'{items[v].surface} ... by {items[i + 1].surface}' read as adding "
                                f"{sign * number.value:g} to {key}")
            return [{"field": key, "op": "add", "value": sign * number.value}]
    # "... to <value | date | amount>" / "... as transferable"
    for i in range(len(items) - 1, v, -1):
        item = items[i]
        if item.used or not (item.kind in ("prep", "stop") and item.surface.lower() in ("to", "as", "into")):
            continue
        j = reader.next_content(i, 1, {"stop"})
        target = reader.live(j)
        if target is None or reader.next_content(j, 1, {"stop"}) < len(items):
            continue
        if target.kind == "value":
            column, value = target.value[0]
            reader.use(i, j, *field_at)
            reader.notes.append(f"'{items[v].surface} ... {item.surface} {target.surface}' read as setting "
                                f"{column} to {value}")
            return [{"field": VALUE_FIELDS[column], "op": "set", "value": value}]
        if target.kind == "date" and part is not None and target.span.day:
            key = DATE_FIELDS.get((qual or "forecast", part))
            if key is None:
                raise NotUnderstood(f"Only the forecast dates can be changed; the {qual} {part} is read-only.",
                                    words=[f"{qual} {part}"], understood=reader.notes)
            reader.use(i, j, *field_at)
            reader.notes.append(f"'{items[v].surface} ... {item.surface} {target.surface}' read as setting {key} "
                                f"to {target.span.start} (only that date)")
            return [{"field": key, "op": "set", "value": target.span.start.isoformat()}]
        if target.kind == "num" and measure in ("monthly_rate", "purchase_price"):
            key = "monthlyRate" if measure == "monthly_rate" else "purchasePrice"
            reader.use(i, j, *field_at)
            reader.notes.append(f"'{items[v].surface} ... to {target.surface}' read as setting {key} to "
                                f"{target.value.value:g}")
            return [{"field": key, "op": "set", "value": target.value.value}]
        if target.kind == "flag" and target.value in ("transferable", "cancelled", "active"):
            negated = reader.kind(reader.next_content(j, -1, {"stop"})) == "neg"
            key = "isFundsTransferable" if target.value == "transferable" else "isDiscontinued"
            value = (target.value != "active") != negated
            reader.use(i, j, *field_at)
            if negated:
                reader.use(reader.next_content(j, -1, {"stop"}))
            reader.notes.append(f"'{items[v].surface} ... {target.surface}' read as setting {key} to {value}")
            return [{"field": key, "op": "set", "value": value}]
    return []


def _field(reader: Reader, v: int) -> tuple[list[int], str | None, str | None, str | None]:
    """The field right after the verb: 'the forecast start of', 'the rates of', 'the end date of'."""
    used, qual, part, measure = [], None, None, None
    j = reader.next_content(v, 1, {"stop"})
    if reader.kind(j) == "value" and reader.kind(reader.next_content(j, 1, {"stop"})) == "measure":
        j = reader.next_content(j, 1, {"stop"})  # 'cut rental rates': 'rental' stays a filter
    while (item := reader.live(j)) is not None and item.kind in ("qual", "part", "measure"):
        if item.kind == "qual":
            qual = item.value
        elif item.kind == "part":
            part = item.value[0]
        else:
            measure = {"cost": None}.get(item.value, item.value)
        used.append(j)
        j = reader.next_content(j, 1, {"stop"})
    if used and 0 <= j < len(reader.items) and reader.items[j].surface.lower() == "of":
        used.append(j)
    return used, qual, part, measure

