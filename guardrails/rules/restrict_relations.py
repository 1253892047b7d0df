"""Every relation is the view (optionally nlq.pfa_merged) or a CTE visible where it is named."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails.errors import ForbiddenConstruct, ForbiddenRelation, FunctionInFrom, GuardrailError, SystemCatalog
from guardrails.statement import VIEW_NAME, VIEW_SCHEMA, Statement, normalized

SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})
_TABLE_ARGS = frozenset({"this", "db", "alias", "catalog", "sample"})


def _is_system(name: str | None) -> bool:
    return bool(name) and (name in SYSTEM_SCHEMAS or name.startswith("pg_"))


def _check_table(statement: Statement, table: exp.Table) -> Iterator[GuardrailError]:
    target = table.args.get("this")
    if not isinstance(target, exp.Identifier):
        yield FunctionInFrom(f"{table.sql(dialect='postgres')[:60]} is not a relation; query pfa_merged")
        return
    extras = sorted(k for k, v in table.args.items() if v and k not in _TABLE_ARGS)
    if extras:
        yield ForbiddenConstruct(f"{', '.join(extras).upper()} on a relation is not allowed")
    name = normalized(target)
    schema = normalized(table.args.get("db"))

    def shown() -> str:
        return table.sql(dialect="postgres").split(" AS ")[0][:60]

    if table.args.get("catalog"):
        yield ForbiddenRelation(f"relation {shown()} is not allowed; query {VIEW_NAME}")
    elif schema is not None:
        if _is_system(schema):
            yield SystemCatalog(f"system schema {schema} is not allowed")
        elif schema != VIEW_SCHEMA or name != VIEW_NAME:
            yield ForbiddenRelation(f"relation {shown()} is not allowed; query {VIEW_NAME}")
    elif statement.resolver.cte_for(table) is not None or name == VIEW_NAME:
        return  # a CTE visible at this point, or the view itself
    elif _is_system(name):
        yield SystemCatalog(f"catalog table {name} is not allowed")
    else:
        yield ForbiddenRelation(f"relation {shown()} is not allowed; query {VIEW_NAME}")


def restrict_relations(statement: Statement) -> Iterator[GuardrailError]:
    for table in statement.of(exp.Table):
        yield from _check_table(statement, table)
    for column in statement.of(exp.Column):
        schema = column.args.get("db")
        if schema is not None or column.args.get("catalog"):
            if _is_system(normalized(schema)):
                yield SystemCatalog(f"system schema {normalized(schema)} is not allowed")
            else:
                yield ForbiddenRelation(f"column {column.sql(dialect='postgres')[:60]} names another schema")
    for lateral in statement.of(exp.Lateral):
        if not isinstance(lateral.this, exp.Subquery):
            yield FunctionInFrom("LATERAL is allowed only with a subquery")
    for clause in statement.of(exp.From, exp.Join):
        if not isinstance(clause.this, (exp.Table, exp.Subquery, exp.Lateral, exp.Values)):
            yield FunctionInFrom(f"{clause.this.sql(dialect='postgres')[:60]} cannot be used as a relation")
