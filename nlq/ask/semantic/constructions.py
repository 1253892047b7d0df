"""Constructions the grammar does not hold, declined by rule rather than read in part.

Every word of such a question may be known, so the leftover check alone would let it through with
a reading that misses part of its meaning: a figure for the group chosen by a superlative ("in the
area with the highest spend, ..."), a word that refers back to an earlier step ("of those"), a
ranking inside a per-group frame the grammar did not take as one ("in all categories, which class
has the most"), a superlative with nothing to rank by ("overrunning the most"). Each rule is a
shape of language, checked on the tagged items (`before`) or on the reading the grammar built
(`after`); a match raises `NotUnderstood` naming the words and offering phrasings that work.
"""

from __future__ import annotations

import re

from sqlglot import exp

from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic.build import Query
from nlq.ask.semantic.lexicon import Item

# Words that point back to something the question named before: a second step the reader cannot take.
BACK_WORDS = {"that", "those", "them", "these", "it", "which", "whom"}
BACK_LEADS = {"of", "among", "amongst", "from", "out"}
# A group frame whose quantifier the grammar keeps as a plain stop word.
QUANTIFIERS = {"every", "all", "each", "any"}
FRAME_PREPS = {"in", "for", "at", "within", "inside", "of", "among", "from", "across"}
CHOSEN_BY = {"with", "having", "has", "have", "had", "that", "which", "whose"}
SEQUENCE = {"then", "afterwards"}
VALUE_COLUMNS = {"category", "class", "area", "manufacturer", "model", "source", "dor"}


def _decline(why: str, words: list[str], examples: list[str], understood: list[str] | None = None) -> NotUnderstood:
    quoted = ", ".join(f"'{w}'" for w in words)
    return NotUnderstood(f"The offline reader does not read {why} ({quoted}), so it does not answer rather than "
                         "guess. Rephrase, e.g. " + "; ".join(f"\"{e}\"" for e in examples) + ".",
                         words=words, understood=list(understood or []))


def _words(items: list[Item]) -> list[str]:
    """Each item's words, lower case, in order (a phrase item gives several)."""
    return [w for item in items for w in item.surface.lower().replace(",", " ").split()]


FRAME_EXAMPLES = ["which area has the highest forecast cost", "total forecast cost of cranes per area",
                  "top 3 areas by forecast cost"]
CONDITION_KINDS = {"value", "flag", "date", "cmp", "neg", "num"}


def _year_or_amount(items: list[Item]) -> None:
    """'cost over 2027': a year (spread over it) or an amount of 2,027; neither is safe to assume."""
    for k, (a, b) in enumerate(zip(items, items[1:])):
        token = b.token if b.kind == "num" else None
        unit = k + 2 < len(items) and items[k + 2].kind in ("unit", "record", "value")  # 'over 2000 days / items'
        if a.kind == "cmp" and a.surface.lower() == "over" and token is not None and token.value is not None and not unit \
                and not token.money and token.value.is_integer() and 2000 <= token.value <= 2100:
            raise _decline("a number after 'over' that may be a year or an amount", [a.surface, b.surface],
                           ["forecast cost of cranes ending in 2027", "cranes with a forecast cost over $2,027",
                            "total forecast cost of cranes per year"])


SO_FAR_WORDS = ("been", "so far", "since", "sat", "sitting", "standing", "still")


def _length_so_far(items: list[Item]) -> None:
    """'on site the longest', 'overdue the longest', 'how long has it been there': the time since it
    arrived (today - actual start, of items on site now) or since its end date (days overdue), not the
    length of its forecast period. Read so when the question says it is a time up to now (the flag
    before the length, 'been', 'so far', 'since', 'sat on site'); otherwise declined."""
    lengths = [x for x in items if (x.kind == "super" and x.value[1] == "duration") or (
        x.kind == "measure" and x.value == "duration")]
    now = [x for x in items if x.kind == "flag" and x.value in ("on_site_now", "overdue")]
    # a qualifier said of the length ('the longest forecast period'), not of another date of the question
    whose = any(x.kind == "qual" and any(abs(n - items.index(length)) <= 1 for length in lengths)
                for n, x in enumerate(items))
    said = " ".join(x.surface.lower() for x in items)
    up_to_now = bool(now and lengths) and (items.index(now[0]) < items.index(lengths[0])
                                           or any(re.search(rf"\b{w}\b", said) for w in SO_FAR_WORDS))
    if lengths and now and not whose and up_to_now:
        key = "days_on_site" if now[0].value == "on_site_now" else "days_overdue"
        for length in lengths:
            length.value = (length.value[0], key) if length.kind == "super" else key
            length.note = (f"'{length.surface}' with '{now[0].surface}' read as the "
                           f"{'days on site so far (today - actual start)' if key == 'days_on_site' else 'days overdue (today - forecast end)'}")
        for x in items:  # 'since it arrived', 'sat on site': the start of that time, already read
            if x.surface.lower() in ("since", "sat", "sitting", "standing") or (
                    x.kind == "part" and x.value == ("start", "actual") and "since" in said):
                x.kind, x.value = "stop", None
        return
    if lengths and now and not whose:
        raise _decline("a length of time up to today (how long on site so far, how long overdue)",
                       [lengths[0].surface, now[0].surface],
                       ["the 5 rentals with the longest forecast period", "how many items are overdue",
                        "average time on site of items that have left"])


NARROWING = ("of those", "of them", "of these", "among those", "among them", "out of those", "of which")


def _narrowed_further(items: list[Item]) -> None:
    """'purchases over 1.2m - how many of those are cranes', 'items due back in the next 30 days - of
    those, how many are still on site': a count or list of the records said first that also meet what
    follows, which is every condition at once. Read so only with no groups, rankings or shares in the
    question (where 'of those' could point at a group or a whole); otherwise declined below."""
    if any(x.kind in ("super", "top", "rank", "group", "dim", "unit", "share", "change", "running") for x in items):
        return
    for n, item in enumerate(items):
        pair = " ".join(x.surface.lower() for x in items[n:n + 2])
        phrase = item.surface.lower() if item.surface.lower() in NARROWING else pair if pair in NARROWING else None
        if phrase is None or n == 0 or not any(x.kind in CONDITION_KINDS | {"part", "record"} for x in items[:n]):
            continue
        taken = items[n:n + (1 if item.surface.lower() in NARROWING else 2)]
        asking = [x for x in items[max(0, n - 2):n + len(taken) + 3] if (x.kind == "agg" and x.value == "count")
                  or x.surface.lower() in ("which", "list", "show", "what", "which ones")]
        if not asking:
            continue
        taken[0].note = f"'{phrase}' read as the records said before it that also meet what follows"
        for x in taken:  # (no words left for the checks below)
            x.kind, x.value, x.used, x.surface = "stop", None, True, ""
        return


def before(items: list[Item]) -> list[int]:
    """Shapes visible in the tagged question, before any reading is built. Returns the items of the
    dimensions a superlative picks ('the area with the most rentals'), for `after` to check."""
    frames: list[int] = []
    _aggregate_of_aggregate(items)
    _superlative_compared(items)
    _neither_over_several(items)
    _quantified_groups(items)
    _length_so_far(items)
    _year_or_amount(items)
    _narrowed_further(items)
    words = _words(items)
    for k, word in enumerate(words):
        nxt = words[k + 1] if k + 1 < len(words) else ""
        if word == "in" and nxt in ("those", "these", "them"):  # 'how many items in those are ...'
            raise _decline("a second step that refers back to an earlier one", [f"in {nxt}"],
                           ["top 3 areas by forecast cost", "how many items are on site per area",
                            "how many items are on site in Silo 2"], [])
        if word in BACK_LEADS and (nxt in BACK_WORDS or (nxt == "of" and k + 2 < len(words)
                                                         and words[k + 2] in BACK_WORDS)):
            phrase = " ".join(words[k:k + (3 if nxt == "of" else 2)])
            raise _decline("a second step that refers back to an earlier one", [phrase],
                           ["total forecast cost of cranes per area", "how many rentals are in Silo 4",
                            "top 3 areas by forecast cost"])
        if word in SEQUENCE or (word == "and" and nxt == "then"):
            raise _decline("two questions asked one after the other", [" ".join(words[k:k + 2])],
                           ["how many cranes are rented", "total plan cost per area",
                            "top 3 areas by forecast cost"])
    semicolons = [i for i, item in enumerate(items) if item.surface == ";"]
    if semicolons and any(item.kind not in ("stop", "and") for item in items[semicolons[0] + 1:]) and \
            any(item.surface.lower() in ("what", "which", "how", "who", "where", "when")
                for item in items[semicolons[0] + 1:]):
        raise _decline("two questions joined by ';'", [";"], ["how many cranes are rented",
                                                               "total plan cost per area",
                                                               "top 3 areas by forecast cost"])
    for i, item in enumerate(items):
        if item.kind != "dim":
            continue
        lead = _raw_before(items, i)
        # 'in the area with the highest spend, ...': a group chosen by a superlative, as the frame of a figure;
        # read only when the figure and the choice are over the same records (checked again in `after`)
        if lead is not None and lead[0] in FRAME_PREPS and (end := _chosen_by_superlative(items, i)) is not None:
            if _conditions(items[:lead[1]]) != _conditions(items[end:]):
                raise _decline("a figure with conditions of its own for the group a superlative picks",
                               [f"{lead[0]} {item.surface}"], FRAME_EXAMPLES)
            frames.append(i)
        # 'in all categories' / 'every category' with the quantifier left a stop word
        if lead is not None and lead[0] in QUANTIFIERS and items[lead[1]].kind == "stop" and \
                any(x.kind in ("super", "top") for x in items):
            raise _decline("a ranking within each group said this way", [f"{lead[0]} {item.surface}"],
                           ["for each area, which category has the highest forecast cost",
                            "top 3 classes by record count within each category", "top 3 areas by forecast cost"])
        # 'is in the silos': a kind of place named by the dimension's own word, a subset not a grouping
        if item.plural and lead is not None and lead[0] in ("in", "at", "inside") and lead[2]:
            raise _decline("a set of values named by the word for the column", [f"{lead[0]} the {item.surface}"],
                           ["how many items are in Silo 4 or Silo 5", "total forecast cost per area",
                            "what percentage of cranes are rented"])
    for a, b in zip(items, items[1:]):
        # 'started late', 'ended late': late against which date is not said ('arrived late' is its own phrase)
        if (a.kind == "part" or (a.kind == "flag" and a.value == "finished")) and b.kind == "flag" and \
                b.value == "overdue":
            raise _decline("a date said to be late without the date it is late against",
                           [f"{a.surface} {b.surface}"], ["rentals that arrived late", "items whose forecast start is "
                                                          "after their plan start", "how many rentals are overdue"])
    for i, item in enumerate(items):
        # 'the category most over budget': how much over, not how many records are
        if item.kind == "super" and item.value[1] is None and _flag_alone_after(items, i):
            raise _decline("a superlative over a condition that does not say whether it counts records or money",
                           [f"{item.surface} {items[_next(items, i)].surface}"],
                           ["which category has the highest cost variance", "which category has the most "
                            "over budget items", "top 3 areas by cost variance"])
        # 'areas over budget', 'classes that are overdue': a condition said of the groups themselves
        if item.kind == "dim" and item.plural and _flag_alone_after(items, i, skip=("stop", "verb")):
            raise _decline("a condition said of whole groups",
                           [f"{item.surface} {items[_next(items, i, ('stop', 'verb'))].surface}"],
                           ["areas whose total forecast cost exceeds plan", "areas with over budget items",
                            "number of overdue rentals per area"])
    for i, item in enumerate(items):
        # 'is overrunning the most': a superlative with nothing after it ranks by a guess
        if item.kind == "super" and item.value[1] is None and _nothing_after(items, i) and \
                not _measure_before(items, i):
            raise _decline("a superlative that does not say what it ranks by", [item.surface],
                           ["which manufacturer has the highest cost variance", "which area has the most cranes",
                            "top 3 areas by forecast cost"])
    return frames


NEITHER_KINDS = ("value", "flag", "date", "cmp", "qual", "part")  # what a 'neither' can negate


def _neither_over_several(items: list[Item]) -> None:
    """'neither project-paid rentals nor cancelled': 'neither' negates everything up to 'nor' as one
    thing, which a negation of each condition on its own would misread."""
    for i, item in enumerate(items):
        if item.surface.lower() != "neither":
            continue
        end = next((j for j in range(i + 1, len(items)) if items[j].surface.lower() == "nor"), len(items))
        said = [x for x in items[i + 1:end] if x.kind in NEITHER_KINDS]
        if len(said) > 1:
            raise _decline("'neither ... nor' over more than one condition at once",
                           [f"neither {' '.join(x.surface for x in said)}"],
                           ["how many items are not cancelled and not rentals", "count of items that are "
                            "neither cancelled nor on site", "how many rentals are not project-paid"])


def _superlative_compared(items: list[Item]) -> None:
    """'classes where the dearest rental is over 90k a month': a condition on each group's highest
    (or lowest) value, which the grammar would read as a ranking plus a condition on records."""
    for i, item in enumerate(items):
        if item.kind != "super" or not any(x.kind == "dim" for x in items[:i]):
            continue
        j = _next(items, i, ("stop", "value", "record", "verb"))
        if j < len(items) and items[j].kind == "cmp" and j > i + 1:
            raise _decline("a condition on a group's highest or lowest value", [item.surface, items[j].surface],
                           ["classes with a monthly rate over 90,000", "highest monthly rate per class",
                            "which class has the highest monthly rate"])


def _aggregate_of_aggregate(items: list[Item]) -> None:
    """'total number of cranes' is the count; 'average number of items per area' or 'the average total cost
    per category' is a figure over the groups' figures, which one statement here does not compute."""
    for a, b in zip(items, items[1:]):
        if a.kind != "agg" or b.kind != "agg" or a.value == b.value:
            continue
        if {a.value, b.value} == {"sum", "count"}:
            total = a if a.value == "sum" else b
            total.kind, total.value = "stop", None
            total.note = f"'{total.surface}' read as part of '{a.surface} {b.surface}': the count"
        elif a.value in ("avg", "median") and b.value in ("sum", "count", "sum_default"):
            raise _decline("a figure over the groups' own figures", [f"{a.surface} {b.surface}"],
                           ["number of items per area", "total forecast cost per category",
                            "average forecast cost per category"])


# 'classes where all items are on site', 'areas that only have rentals': a condition on every record of a
# group, which a filter on the records would turn into a different question.
ONLY_WORDS = {"only", "exclusively", "solely", "entirely", "purely", "just"}
HAVE_WORDS = {"have", "has", "had", "contain", "contains", "hold", "holds", "are", "is"}


def _quantified_groups(items: list[Item]) -> None:
    if not any(x.kind == "dim" for x in items):
        return
    for i, item in enumerate(items):
        word = item.surface.lower()
        nxt = items[i + 1] if i + 1 < len(items) else None
        prev = items[i - 1].surface.lower().split()[-1] if i > 0 else ""
        if word in ("every", "all", "each") and nxt is not None and nxt.kind in ("record", "value") and (
                prev in HAVE_WORDS or any(x.kind == "verb" or x.surface.lower() in HAVE_WORDS
                                          for x in items[i + 2:i + 4])):
            raise _decline("a condition on every record of a group", [f"{item.surface} {nxt.surface}"],
                           QUANTIFIED_EXAMPLES)
        if word in ONLY_WORDS and ((nxt is not None and nxt.surface.lower().split()[0] in HAVE_WORDS)
                                   or prev in HAVE_WORDS):
            raise _decline("a condition on every record of a group",
                           [f"{item.surface} {nxt.surface}" if nxt is not None and prev not in HAVE_WORDS
                            else f"{items[i - 1].surface} {item.surface}"], QUANTIFIED_EXAMPLES)


QUANTIFIED_EXAMPLES = ["which areas have no purchases", "which classes have no cancelled rentals",
                       "number of rentals per area"]


def _raw_before(items: list[Item], i: int) -> tuple[str, int, bool] | None:
    """The word right before item i, skipping 'the' / 'our': (word, its item, whether 'the' was skipped)."""
    j, skipped = i - 1, False
    while j >= 0 and items[j].surface.lower() in ("the", "our", "its", "their"):
        j, skipped = j - 1, True
    if j < 0:
        return None
    return items[j].surface.lower().split()[-1], j, skipped


def _conditions(items: list[Item]) -> set[tuple[str, str]]:
    """What restricts the records in a stretch of the question: values, flags, dates, amounts."""
    return {(x.kind, str(x.value) if x.kind != "date" else x.surface.lower()) for x in items
            if x.kind in CONDITION_KINDS}


def _chosen_by_superlative(items: list[Item], i: int) -> int | None:
    """'area with the highest ...', 'class that has the most ...' right after the dimension: the index of
    the superlative, or None."""
    j = i + 1
    seen_link = False
    while j < len(items) and (items[j].kind in ("stop", "verb") or items[j].surface.lower() in CHOSEN_BY):
        if items[j].surface.lower().split()[0] in CHOSEN_BY:
            seen_link = True
        j += 1
    if j < len(items) and items[i + 1].surface.lower() == "where":  # 'the area where we've spent the most'
        k = j
        while k < len(items) and items[k].kind in ("measure", "qual", "sofar", "stop", "verb"):
            k += 1
        if k > j and k < len(items) and items[k].kind == "super" and any(
                items[x].kind == "measure" for x in range(j, k)):
            return j
    return j if seen_link and j < len(items) and items[j].kind in ("super", "top") else None


def _next(items: list[Item], i: int, skip: tuple[str, ...] = ("stop",)) -> int:
    j = i + 1
    while j < len(items) and items[j].kind in skip:
        j += 1
    return j


def _flag_alone_after(items: list[Item], i: int, skip: tuple[str, ...] = ("stop",)) -> bool:
    """A flag right after item i that no record word or value follows ('most over budget', not 'most
    cancelled items')."""
    j = _next(items, i, skip)
    if j >= len(items) or items[j].kind != "flag" or items[j].value not in ("over_budget", "under_budget", "overdue",
                                                                            "late_arrival"):
        return False
    if any(x.surface.lower() in ("something", "anything", "any", "some") for x in items[i + 1:j]):
        return False  # 'models that have something overdue': records of the group, not the group itself
    k = _next(items, j)
    return not (k < len(items) and items[k].kind in ("record", "value", "flag"))


def _nothing_after(items: list[Item], i: int) -> bool:
    return all(x.kind in ("stop", "and") and x.surface not in (",", ";") for x in items[i + 1:])


def _measure_before(items: list[Item], i: int) -> bool:
    """'which area spends the most': the measure comes before the superlative."""
    j = i - 1
    while j >= 0 and items[j].kind in ("stop", "verb"):
        j -= 1
    return j >= 0 and items[j].kind in ("measure", "value", "record")


def after(query: Query, items: list[Item], notes: list[str], frames: list[int]) -> None:
    """Readings the grammar built that cannot be what was meant."""
    groups = [alias for alias, _, _ in query.groups]
    ranked = bool(query.order) and query.limit is not None
    buckets = {alias for alias, _, bucket in query.groups if bucket}
    if len({alias.split("_of_")[0] for alias in buckets}) != len(buckets):  # 'per quarter, bucketed by the quarter the kit turned up'
        raise _decline("two time buckets of the same length", [x.surface for x in items if x.kind == "unit"][:2],
                       ["total actual cost per quarter of actual start", "number of rentals ending per month in 2027",
                        "plan cost by year of plan end"], notes)
    opening = " ".join(x.surface.lower() for x in items[:2])
    if opening in ("are we", "am i", "is it", "have we", "did we") and not query.selects and not query.groups \
            and (not any(x.kind in ("record", "value") for x in items)
                 or any(x.kind == "flag" and x.value in ("over_budget", "under_budget") for x in items)):
        # 'are we over budget overall?': a yes or no about the whole project, not a list of records
        raise _decline("a yes-or-no question about the whole project", [opening],
                       ["total forecast cost vs total plan cost", "how many items are over budget",
                        "total cost variance"], notes)
    first = items[0].surface.lower() if items else ""
    if first in ("is", "are", "was", "were", "does", "did", "has") and not query.selects and not query.groups \
            and not (len(items) > 1 and items[1].surface.lower() in ("there", "any")) and query.limit is None:
        # 'is the substation over budget?': a yes or no about what is named, not a list of its records
        raise _decline("a yes-or-no question", [" ".join(x.surface for x in items[:3])],
                       ["total forecast cost vs total plan cost at the substation", "how many items at the substation "
                        "are over budget", "total cost variance per area"], notes)
    if frames and not ranked:
        raise _decline("a figure for the group a superlative picks", [items[frames[0]].surface], FRAME_EXAMPLES, notes)
    for i, item in enumerate(items):
        # 'cheapest class in each category on average rate' read as each class's lowest cost: the
        # superlative names the group it picks
        if item.kind == "super" and query.groups and not ranked and _next(items, i) < len(items) \
                and items[_next(items, i)].kind == "dim" and any(isinstance(e, (exp.Max, exp.Min)) for _, e in query.selects):
            raise _decline("a superlative that picks a group, read as a figure per group",
                           [f"{item.surface} {items[_next(items, i)].surface}"], FRAME_EXAMPLES, notes)
        # 'the area with the highest rate' read as each area's highest rate: the superlative picks a group
        if item.kind == "super" and query.groups and not ranked and (lead := _raw_before(items, i)) is not None \
                and lead[0] in CHOSEN_BY and any(isinstance(e, (exp.Max, exp.Min)) for _, e in query.selects):
            raise _decline("a superlative that picks a group, read as a figure per group",
                           [f"{lead[0]} the {item.surface}" if lead[2] else f"{lead[0]} {item.surface}"],
                           FRAME_EXAMPLES, notes)
    # 'the area with the most overdue kit - what's its total budget': a second figure of the group the
    # ranking picks, over all its records, not over the ones the ranking counted
    refers = [items[k].surface for k in range(len(items) - 1) if items[k].kind == "stop"
              and items[k].surface.lower() in ("its", "their", "it's") and items[k + 1].kind in ("agg", "measure")]
    if refers and ranked and query.groups and query.limit == 1 and not any(x.kind == "share" for x in items):
        raise _decline("a figure of the group a ranking picks", refers[:1], FRAME_EXAMPLES, notes)
    # 'average time on site of the kit still on site': still there, so no actual end to measure to
    selected = " ".join(e.sql() for _, e in query.selects + query.columns)
    open_stays = any(isinstance(w, exp.Is) and isinstance(w.this, exp.Column) and w.this.name == "actual_end"
                     for c in query.where for w in c.find_all(exp.Is)
                     if not isinstance(w.parent, exp.Not))
    if open_stays and "actual_end - actual_start" in selected:
        raise _decline("the time on site of records that are still on site (they have no actual end yet)",
                       [x.surface for x in items if x.kind == "measure"][:1] or ["on site"],
                       ["average time on site of the cranes that have left", "how many items are on site now",
                        "average forecast duration of the items on site"], notes)
    for alias, expression in query.selects:
        if alias == "share_pct" and isinstance(expression, exp.Div):
            part = expression.this.find(exp.Mul)
            whole = expression.expression
            if part is not None and isinstance(whole, exp.Nullif) and part.expression.sql() == whole.this.sql():
                # 'of the cranes that have mobilised, what % are still there': every condition went to the
                # whole, so the share is 100% by construction
                raise _decline("a share whose part has no condition of its own",
                               [x.surface for x in items if x.kind == "share"][:1] or ["%"],
                               ["what percentage of cranes are on site", "share of rentals per area",
                                "what share of the forecast cost is for cranes"], notes)
        distinct = expression.find(exp.Distinct)
        if distinct is not None and any(isinstance(e, exp.Column) and e.name in groups for e in distinct.expressions):
            raise _decline("a count of different values that is also a grouping", [alias.replace("_", " ")],
                           ["how many different manufacturers make cranes", "number of cranes per manufacturer",
                            "how many distinct areas have rentals"], notes)
    if not query.groups and query.selects and query.order:
        raise _decline("a ranking of records next to figures over all of them",
                       [x.surface for x in items if x.kind in ("top", "super")] or ["top"],
                       ["maximum monthly rate of rental compressors", "top 5 rentals by monthly rate",
                        "how many rental compressors are there"], notes)
    for having in query.having:  # 'areas that have cranes but no generators': the filter empties the absence
        if isinstance(having, exp.EQ) and isinstance(having.this, exp.Filter):
            absent = {c.name for c in having.this.find_all(exp.Column)}
            filtered = {c.name for w in query.where for c in w.find_all(exp.Column)}
            # '... but not buy there': the place said once holds for the absence too
            there = any(x.surface.lower() == "there" for x in items[next((k for k, x in enumerate(items)
                                                                          if x.kind == "neg"), len(items)):])
            if absent & filtered or (absent & VALUE_COLUMNS and filtered & VALUE_COLUMNS and not there):
                raise _decline("groups that have some records and lack others",
                               [x.surface for x in items if x.kind == "neg"][:1] or ["no"],
                               ["which areas have no generators", "number of cranes per area",
                                "which classes have no cancelled rentals"], notes)
    counted = any((x.kind == "agg" and x.value == "count") or (x.kind == "super" and x.value[1] in (None, "count"))
                  for x in items)
    figures = [a for a, e in query.selects if not isinstance(e, exp.Count)]
    if query.groups and query.order and isinstance(query.order[0][0], exp.Count) and not counted and figures:
        # 'total forecast cost of the top 5 areas': ranked by a count nobody asked for, next to another figure
        raise _decline("a ranking that does not say what it ranks by, next to a figure",
                       [x.surface for x in items if x.kind in ("top", "super")][:1] or ["top"],
                       ["top 5 areas by forecast cost", "top 5 areas by number of items",
                        "total forecast cost per area"], notes)
    if ranked and query.groups:
        for k, item in enumerate(items):
            if item.kind != "agg" or item.value == "count":
                continue
            for t in range(k + 1, len(items)):
                lead = _raw_before(items, t - 1 if items[t - 1].kind == "num" else t)
                if items[t].kind in ("top", "super") and lead is not None and lead[0] == "of":
                    # 'the total budget of the 3 biggest classes': one figure over the groups a ranking
                    # picks, not the ranking itself
                    raise _decline("a figure over the groups a ranking picks",
                                   [f"{item.surface} ... of the {items[t].surface}"],
                                   ["top 3 classes by record count", "total plan cost per class",
                                    "total plan cost of Cranes and Generators"], notes)
    counts = [h for h in query.having if isinstance(h, (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ))
              and isinstance(h.this, exp.Count)]
    averages = [h for h in query.having if h.find(exp.Avg) is not None]
    if counts and averages and not any(x.kind == "agg" and x.value in ("avg", "median") for x in items):
        # 'classes with at least one item slipped by over 16 weeks': the amount is each counted
        # record's, not the group's average
        raise _decline("a count of records with a condition of its own, read as the group's average",
                       [x.surface for x in items if x.kind == "cmp"][:2] or ["at least"],
                       ["classes with more than 5 items that slipped", "number of items slipped by over 112 days "
                        "per class", "classes whose average slip is over 112 days"], notes)
    rankings = [t for t, x in enumerate(items) if x.kind in ("top", "super")]
    if ranked and len(rankings) > 1:
        t = rankings[0]
        lead = _raw_before(items, t - 1 if items[t - 1].kind == "num" else t)
        if lead is not None and lead[0] == "of":
            # 'which of the top 5 areas by count has the highest plan cost': a ranking among the groups
            # another ranking picks, which one ORDER BY would merge into a tie-break
            raise _decline("a ranking among the groups another ranking picks",
                           [f"of the {items[t].surface}", items[rankings[1]].surface],
                           ["top 5 areas by record count", "which area has the highest plan cost",
                            "top 5 areas by plan cost"], notes)
    totals = [x.surface for x in items if x.surface.lower() in ("in total", "altogether", "combined", "overall",
                                                                "all together", "summed", "in aggregate")]
    amounts = [c for w in query.where for c in w.find_all(exp.GT, exp.LT, exp.GTE, exp.LTE)
               if isinstance(c.expression, exp.Literal) and not c.expression.is_string]
    if totals and query.groups and amounts:
        # 'classes whose forecast is over budget in total by more than 500k': the amount is the group's,
        # not each record's
        raise _decline("a condition on a group's total read as one on each record", totals[:1],
                       ["classes whose total cost variance is over 500,000", "areas whose total forecast "
                        "exceeds plan", "total cost variance per class"], notes)
    plain = [a for a, _, bucketed in query.groups if not bucketed]
    if len(plain) >= 2 and query.order and query.limit is not None and not query.partition and \
            not query.count_groups and not any(x.kind == "combo" for x in items):
        raise _decline("a ranking over two groupings without saying it is within each",
                       [x.surface for x in items if x.kind in ("top", "super")][:1] or ["most"],
                       ["for each area, which category has the highest forecast cost",
                        "top 5 category and area combinations by forecast cost", "top 3 areas by forecast cost"],
                       notes)


def unsaid_aggregate(surface: str, name: str, notes: list[str]) -> None:
    """'monthly rate of the overdue rentals, by category': a rate or a length per group with no word for
    how to combine it is a total to some and an average to others."""
    raise _decline("a rate, price or length per group without saying total or average", [surface],
                   [f"average {surface} per category", f"total {surface} per category",
                    "top 5 rentals by monthly rate"], notes)


def list_or_total(surface: str, notes: list[str]) -> None:
    """'what is the forecast cost of cranes', 'what did we spend last quarter': each record's figure to
    some and the total to others; 'list' / 'show' or 'total' says which."""
    raise _decline("a figure asked with 'what' that may be each record's or their total", [surface],
                   [f"total {surface} of cranes", f"list cranes with their {surface}",
                    f"average {surface} of rentals"], notes)
