"""Records compared with the average of their own group: 'rentals with a monthly rate above their
class average', 'items costing more than double the average for their category'.

Each record's figure is compared with the average over every record of the same class (or
category, area, ...), computed as a window over the whole organization. The question's other
conditions say which records are listed or counted, not which records the average is over: 'on-site
items above their class average' compares each on-site item with its whole class, as a planner
comparing an item with its peers means. Read before the groups, so the group word ('class') is not
taken for 'one row per class'.

A multiple said with the comparison ('double', 'twice', '3x', '50% above') scales the average
(`multiples.py`).
"""

from __future__ import annotations

from sqlglot import exp

from nlq.ask.semantic.build import FLIP, WORDS, Query, aggregate, col, compare, lit
from nlq.ask.semantic.conditions import Reader
from nlq.ask.semantic.multiples import factor_at, toward

POSSESSIVES = ("their", "its", "own", "the", "same", "his", "her", "respective")
PEER_LINKS = ("for", "of", "in", "within", "across", "among", "amongst")


def _peer_group(reader: Reader, avg: int) -> tuple[str, list[int]] | None:
    """The group whose average is meant, said around the 'average' at `avg`:
    'their class average', 'its category's avg', 'the class average rate' (before it) or
    'the average (rate) for their class', 'the avg of its own category' (after it).

    Returns (column, the items it took)."""
    items = reader.items

    def words_between(a: int, b: int) -> list[int]:
        return [x for x in range(a, b) if not items[x].used]

    # before: [their|its|own|the]+ DIM AVG
    d = avg - 1
    while d >= 0 and items[d].kind == "unknown" and items[d].surface.lower() == "own":
        d -= 1
    if d >= 0 and items[d].kind == "dim" and not items[d].used:
        p = d - 1
        owned = []
        while p >= 0 and not items[p].used and items[p].surface.lower() in POSSESSIVES:
            owned.append(p)
            p -= 1
        if owned:
            return items[d].value, [*owned, *words_between(d, avg)]
    # after: AVG [measure] (for|of|in|within) [their|its|own|the|same]+ DIM
    k = avg + 1
    while k < len(items) and not items[k].used and items[k].kind in ("measure", "qual"):
        k += 1  # the measure averaged, read by the caller
    if k < len(items) and items[k].surface.lower() in PEER_LINKS and not items[k].used:
        link = k
        k += 1
        owned = []
        while k < len(items) and not items[k].used and items[k].surface.lower() in POSSESSIVES:
            owned.append(k)
            k += 1
        if k < len(items) and not items[k].used and items[k].kind == "dim" and \
                any(items[o].surface.lower() != "the" for o in owned):
            return items[k].value, [link, *owned, k]
    return None


def read_peer_averages(reader: Reader, query: Query) -> None:
    """Each 'X above their <group> average' becomes a record condition against a windowed average
    (`query.peers`: alias and window); a list of records shows the figure and the average beside it."""
    items = reader.items
    for i, item in enumerate(items):
        if item.used or item.kind != "cmp" or item.value.split("_")[0] not in ("gt", "gte", "lt", "lte"):
            continue
        op, kind = item.value.split("_")[0], (item.value.split("_") + [None])[1]
        if kind not in (None, "cost", "duration"):
            continue
        j = reader.next_content(i, 1, {"stop"})
        factor, factor_items = 1.0, []
        if (found := factor_at(reader, j)) is not None:
            factor, factor_items, j = found
            op = toward(op, reader, factor_items)
        # the 'average' is right here, or after the group ('their class average')
        avg = j
        while avg < len(items) and (items[avg].kind in ("stop", "dim") or items[avg].surface.lower() == "own") \
                and not items[avg].used and avg - j < 4:
            avg += 1
        if avg >= len(items) or items[avg].used or items[avg].kind != "agg" or items[avg].value not in ("avg",):
            continue
        peer = _peer_group(reader, avg)
        if peer is None:
            continue
        column, group_items = peer
        left, key, qual, part = reader._left(i)
        r_idx = []  # the measure right after 'average': 'their class average rate', 'the average rate for their class'
        m = avg + 1
        while m < len(items) and not items[m].used and items[m].kind in ("measure", "qual"):
            r_idx.append(m)
            m += 1
        r_key = next((items[x].value for x in r_idx if items[x].kind == "measure"), None)
        r_qual = next((items[x].value for x in r_idx if items[x].kind == "qual"), None)
        if part is not None:
            continue
        said_before = reader.next_content(min(left), -1, {"stop"}) if left else -1
        of_groups = reader.kind(said_before) == "agg" and items[said_before].value == "avg" and any(
            x.kind == "dim" and not x.used and n not in group_items for n, x in enumerate(items))
        if kind == "cost" and key is None:
            key = "cost"
        if kind == "duration" and key is None:
            key = "duration"
        lm = reader._measure(key, qual)
        rm = reader._measure(r_key, r_qual) if (r_key or r_qual) else None
        measure = lm or rm
        if measure is None or (lm is not None and rm is not None and lm != rm):
            continue  # no figure named, or a figure compared with the average of another one: not read
        alias = f"{column}_average_{measure.alias}"
        window = exp.Window(this=exp.Avg(this=measure.sql()), partition_by=[col(column)], over="OVER")
        if alias not in [a for a, _ in query.peers]:
            query.peers.append((alias, window))
        neg = reader.negated(min(left) if left else i)
        final = op if neg is None else FLIP[op]
        if of_groups:
            _group_against_peers(reader, query, column, measure, alias, final, factor,
                                 sorted({said_before, *left, i, *factor_items, avg, *group_items, *r_idx}
                                        | ({neg} if neg is not None else set())))
            continue
        right = col(alias) if factor == 1 else exp.Mul(this=lit(round(factor, 6)), expression=col(alias))
        used = sorted({*left, i, *factor_items, avg, *group_items, *r_idx} | ({neg} if neg is not None else set()))
        reader.use(*used)
        times = "" if factor == 1 else f"{factor:g} x "
        reader.add(compare(final, measure.sql(), right), min(used),
                   f"'{reader._words(used)}' read as {measure.name} {WORDS.get(final, final)} {times}the average "
                   f"{measure.name} of all records of the same {column.replace('_', ' ')}")
        query.columns += [(measure.alias, measure.sql()), (alias, col(alias))]


def _group_against_peers(reader: Reader, query: Query, column: str, measure, alias: str, op: str,
                         factor: float, used: list[int]) -> None:
    """'classes whose average cost is above their category average': each group's average against the
    average of its own <column>. The column joins the groups, so every group has one value of it and
    the windowed average is the same on all its records (its MAX is that average)."""
    if column not in [a for a, _, _ in query.groups]:
        query.groups.append((column, col(column), False))
    mine = exp.Avg(this=measure.sql())
    theirs = exp.Max(this=col(alias))
    right = theirs if factor == 1 else exp.Mul(this=lit(round(factor, 6)), expression=theirs)
    reader.use(*used)
    times = "" if factor == 1 else f"{factor:g} x "
    label = column.replace("_", " ")
    reader.add(compare(op, mine, right), min(used),
               f"'{reader._words(used)}' read as groups whose average {measure.name} is {WORDS.get(op, op)} "
               f"{times}the average {measure.name} of all records of their {label} (one row per {label} too)",
               having=True, show=(f"avg_{measure.alias}", mine.copy()))
    reader.figures.append((alias, theirs.copy()))


SIDES = (["above", "or below"], ["below", "or above"], ["over", "or under"], ["under", "or over"])


def read_group_distance(reader: Reader, query: Query) -> None:
    """'each manufacturer's record count and how far it sits above or below the average manufacturer',
    'how far is each area's total overrun above or below the average area': each group's figure minus
    the average of the groups' figures (AVG(...) OVER ()), beside the figure."""
    items = reader.items
    for i, item in enumerate(items):
        if item.used or item.kind != "howfar":
            continue
        s1 = next((k for k in range(i + 1, min(i + 10, len(items) - 1))
                   if [items[k].surface.lower(), items[k + 1].surface.lower()] in SIDES), None)
        if s1 is None:
            continue
        avg = s1 + 2
        while avg < len(items) and items[avg].kind == "stop":
            avg += 1
        target = avg + 1
        while target < len(items) and items[target].kind == "stop":
            target += 1
        if avg >= len(items) or items[avg].kind != "agg" or items[avg].value != "avg" or target >= len(items) \
                or items[target].kind != "dim" or reader.next_content(target, 1, {"stop"}) < len(items):
            continue
        column = items[target].value
        if not any(x.kind == "dim" and x.value == column and n != target for n, x in enumerate(items)):
            continue  # 'the average manufacturer' of a question with no manufacturer groups: not this
        inside = [k for k in range(i + 1, s1) if items[k].kind in ("measure", "qual", "agg") and not items[k].used]
        said = inside or [k for k in range(0, i) if items[k].kind in ("measure", "qual", "agg") and not items[k].used]
        if any(items[k].kind == "agg" and items[k].value not in ("sum", "avg", "count") for k in said):
            continue
        key = next((items[k].value for k in said if items[k].kind == "measure"), None)
        qual = next((items[k].value for k in said if items[k].kind == "qual"), None)
        func = next((items[k].value for k in said if items[k].kind == "agg"), None)
        measure = reader._measure(key, qual) if (key or qual) else None
        if measure is None:
            if func not in (None, "count"):
                continue
            figure, name = exp.Count(this=exp.Star()), "records"
        else:
            func = func or ("avg" if measure.days or measure.key in ("monthly_rate", "purchase_price") else "sum")
            if func == "count":
                continue
            figure, name = aggregate(func, measure.sql()), f"{func}_{measure.alias}"
        if inside:
            query.selects.append((name, figure.copy()))
        diff = exp.Sub(this=figure.copy(), expression=exp.Window(this=exp.Avg(this=figure.copy()), over="OVER"))
        query.selects.append((f"{name}_minus_average_{column}", diff))
        used = [i, s1, s1 + 1, avg, target, *inside,
                *[k for k in range(i + 1, s1) if items[k].kind in ("stop", "verb", "unknown")
                  and items[k].surface.lower() in ("it", "its", "is", "sits", "sit", "does", "the", "it's")]]
        reader.use(*used)
        reader.notes.append(f"'{reader._words(sorted(used))}' read as each {column}'s {name} minus the average of "
                            f"the {column} groups' {name} (both shown)")
        return


def read_peer_distance(reader: Reader, query: Query) -> None:
    """'how far its rate is above or below its class avg': each record's figure minus the average of
    its own group, shown beside the figure and the average (no condition: every record is listed)."""
    items = reader.items
    for i, item in enumerate(items):
        if item.used or item.kind != "howfar":
            continue
        j, measured = i + 1, []
        while j < len(items) and not items[j].used and items[j].kind in ("stop", "verb", "record", "measure", "qual"):
            if items[j].kind in ("measure", "qual"):
                measured.append(j)
            j += 1
        sides = [j, j + 1] if j + 1 < len(items) else []
        words = [items[x].surface.lower() for x in sides]
        if words not in (["above", "or below"], ["below", "or above"], ["over", "or under"], ["under", "or over"]):
            continue
        avg = sides[-1] + 1
        while avg < len(items) and not items[avg].used and (items[avg].kind in ("stop", "dim")
                                                             or items[avg].surface.lower() == "own"):
            avg += 1
        if avg >= len(items) or items[avg].kind != "agg" or items[avg].value != "avg":
            continue
        peer = _peer_group(reader, avg)
        if peer is None:
            continue
        column, group_items = peer
        after = [m for m in range(avg + 1, len(items)) if not items[m].used and items[m].kind in ("measure", "qual")
                 and m - avg <= 2]
        said = [items[x] for x in (measured or after)]
        measure = reader._measure(next((x.value for x in said if x.kind == "measure"), None),
                                  next((x.value for x in said if x.kind == "qual"), None)) if said else None
        if measure is None:
            continue
        alias = f"{column}_average_{measure.alias}"
        window = exp.Window(this=exp.Avg(this=measure.sql()), partition_by=[col(column)], over="OVER")
        if alias not in [a for a, _ in query.peers]:
            query.peers.append((alias, window))
        used = sorted({i, *range(i + 1, j), *sides, avg, *group_items, *after})
        reader.use(*[x for x in used if not items[x].used or x in group_items])
        query.columns += [(measure.alias, measure.sql()), (alias, col(alias)),
                          (f"{measure.alias}_minus_{column}_average", exp.Sub(this=measure.sql(), expression=col(alias)))]
        reader.notes.append(f"'{reader._words(used)}' read as each record's {measure.name} minus the average "
                            f"{measure.name} of all records of the same {column.replace('_', ' ')} (both shown)")
        return
