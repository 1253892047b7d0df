"""Every column is an output column of a relation the query can see where the column stands.

PostgreSQL reads a qualified name that is not a column as a function call on the whole row
(`p.json_agg` runs `json_agg(p)`, attribute notation), and a bare relation name as the whole row
(`SELECT p FROM pfa_merged p`). Neither is a column, so neither is allowed: a qualifier must name a
visible source that has that column (the view's columns from the field registry, a CTE's or a
derived table's output names), and a bare name must be a column of a visible source or, in ORDER
BY / GROUP BY, an output name of its own query.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails.allowlist import SQL_VALUE_KEYWORDS
from guardrails.errors import ForbiddenConstruct, GuardrailError, HiddenColumn, UnknownColumn
from guardrails.statement import Statement, normalized


def resolve_columns(statement: Statement) -> Iterator[GuardrailError]:
    resolver = statement.resolver
    for column in statement.of(exp.Column):
        if column.args.get("db") is not None or column.args.get("catalog") is not None:
            continue  # another schema: refused by restrict_relations
        target = column.args.get("this")
        levels = resolver.levels(column)
        sources = resolver.visible_sources(column)
        qualifier = column.args.get("table")
        if qualifier is not None:
            name = normalized(qualifier)
            # Every visible source of that name must have the column: PostgreSQL picks the
            # innermost, and whichever it picks must not turn the name into a function call.
            candidates = [s for s in sources if s.name == name]
            if not candidates:
                yield UnknownColumn(f"{_shown(column)}: {name} is not a table or alias of this query")
            elif isinstance(target, exp.Star):
                if not isinstance(column.parent, exp.Select) or column not in column.parent.expressions:
                    yield UnknownColumn(f"{_shown(column)} is a whole row; use {name}.* only as an item of the "
                                        "select list")
            else:
                wanted = normalized(target)
                if any(wanted not in s.columns for s in candidates):
                    yield _missing(statement, wanted, f"{_shown(column)}: {name} has no column {wanted}")
            continue
        if not isinstance(target, exp.Identifier):
            continue
        wanted = normalized(target)
        if not target.quoted and wanted in SQL_VALUE_KEYWORDS:
            continue  # refused as a function by allow_functions
        if any(wanted in s.columns for s in sources):
            continue
        if levels and _is_order_or_group_item(column, levels[0]) and wanted in resolver.outputs(levels[0]):
            continue
        if any(s.name == wanted for s in sources):
            yield UnknownColumn(f"{_shown(column)} is a whole row, not a column; name the columns you need")
        else:
            yield _missing(statement, wanted, f"column {_shown(column)} does not exist; the columns of pfa_merged "
                                              "are listed in the schema")


def _missing(statement: Statement, name: str, message: str) -> GuardrailError:
    """A column no source has: hidden by the column policy (say so), or simply unknown."""
    if name in statement.hidden:
        return HiddenColumn(f"column {name} is not available: {statement.hidden_why}")
    return UnknownColumn(message)


def _shown(column: exp.Column) -> str:
    return column.sql(dialect="postgres")[:60]


def refuse_star_over_merged_joins(statement: Statement) -> Iterator[GuardrailError]:
    """NATURAL joins are refused, and `*` over a USING join: both merge columns in ways a column
    list or a qualified name would then read wrongly. Naming the columns says the same plainly."""
    for select in statement.of(exp.Select):
        joins = select.args.get("joins") or []
        if any(j.args.get("method") and str(j.args.get("method")).upper() == "NATURAL" for j in joins):
            yield ForbiddenConstruct("NATURAL joins are not allowed; join with ON and name the columns")
        elif any(j.args.get("using") for j in joins) and any(
                isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.args.get("this"), exp.Star))
                for p in select.expressions):
            yield ForbiddenConstruct("SELECT * over a JOIN ... USING is not allowed; name the columns")


def _is_order_or_group_item(column: exp.Column, query: exp.Expression) -> bool:
    """Is the column a whole item of `query`'s ORDER BY, GROUP BY or DISTINCT ON? Only there does
    PostgreSQL read a bare name as an output column; inside an expression it is an input name."""
    parent = column.parent
    if isinstance(parent, exp.Ordered):
        parent = parent.parent
    return isinstance(parent, (exp.Order, exp.Group, exp.Distinct)) and parent.parent is query
