"""The organization-scoping rewrite and the row cap, applied to a statement the rules allowed."""

from __future__ import annotations

import re

from sqlglot import exp

from guardrails.errors import InvalidOrganization
from guardrails.statement import VIEW_NAME, VIEW_SCHEMA, Statement

ORGANIZATION_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def validate_organization(org_id: object) -> str:
    """Organization codes are identifier-safe; anything else is refused before any rewrite."""
    if not isinstance(org_id, str) or not ORGANIZATION_CODE.fullmatch(org_id):
        raise InvalidOrganization(f"organization code {str(org_id)[:70]!r} is not valid")
    return org_id


def scoped_view(org_id: str, columns: tuple[str, ...] | None = None) -> exp.Select:
    """`SELECT * FROM nlq.pfa_merged WHERE organization_id = '<org>'`, the literal quoted by sqlglot.

    With `columns` (a column policy hides some), the subquery selects exactly those instead of
    `*`, so hidden columns do not exist in what the statement reads. Built from constructors each
    time (cheaper than copying a template tree).
    """
    view = exp.Table(this=exp.Identifier(this=VIEW_NAME), db=exp.Identifier(this=VIEW_SCHEMA))
    restriction = exp.EQ(this=exp.Column(this=exp.Identifier(this="organization_id")),
                         expression=exp.Literal.string(org_id))
    if columns is None:
        projection = [exp.Star()]
    else:
        projection = [exp.Column(this=exp.Identifier(this=c, quoted=True)) for c in columns]
    select = exp.Select(expressions=projection)
    select.set("from_" if "from_" in exp.Select.arg_types else "from", exp.From(this=view))
    select.set("where", exp.Where(this=restriction))
    return select


def scope_view_references(statement: Statement, org_id: str, columns: tuple[str, ...] | None = None) -> list[str]:
    """Replace every reference to the view with an organization-restricted subquery.

    Restricting at each reference (not around the whole query) means window functions,
    aggregates, joins and OR-tautologies all only ever see the caller's rows. Returns the alias
    of each reference, in order.
    """
    aliases: list[str] = []
    for table in statement.of(exp.Table):
        if not statement.is_view(table):
            continue
        alias = table.args.get("alias") or exp.TableAlias(this=exp.Identifier(this=VIEW_NAME))
        table.set("alias", None)  # the alias moves to the subquery that replaces the table
        aliases.append(alias.name)
        table.replace(exp.Subquery(this=scoped_view(org_id, columns), alias=alias))
    return aliases


def _integer(node: exp.Expression | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return int(node.this)
    return None


def cap_rows(root: exp.Expression, max_rows: int) -> int:
    """Give the outermost query `LIMIT n` with n <= max_rows; return n.

    A smaller literal LIMIT (or FETCH FIRST n) is kept; a larger one, `LIMIT ALL`, `LIMIT NULL`
    or any expression is replaced.
    """
    current = root.args.get("limit")
    if isinstance(current, exp.Limit):
        wanted = _integer(current.args.get("expression"))
    elif isinstance(current, exp.Fetch):
        options = current.args.get("limit_options")
        plain = options is None or not (options.args.get("percent") or options.args.get("with_ties"))
        wanted = _integer(current.args.get("count")) if plain else None
    else:
        wanted = None
    limit = max_rows if wanted is None else min(wanted, max_rows)
    root.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
    return limit
