"""Every node that is not a function call must be of an allowed type (positive list)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails import errors
from guardrails.allowlist import ALLOWED_NODES, VAR_PARENTS
from guardrails.statement import Statement


def _specific(node: exp.Expression) -> errors.GuardrailError | None:
    """A precise reason for node types that have one; None for the generic refusal."""
    if isinstance(node, exp.Lock):
        return errors.LockingClause("FOR UPDATE / FOR SHARE is not allowed")
    if isinstance(node, exp.Into):
        return errors.SelectInto("SELECT ... INTO is not allowed")
    if isinstance(node, (exp.Placeholder, exp.Parameter)):
        return errors.PlaceholderFound(f"placeholder {node.sql(dialect='postgres')} is not allowed; write the value")
    if isinstance(node, exp.TableSample):
        return errors.TableSample("TABLESAMPLE is not allowed")
    if isinstance(node, (exp.ByteString, exp.UnicodeString, exp.National, exp.HexString, exp.BitString)):
        return errors.UnsupportedLiteral()
    if isinstance(node, exp.ObjectIdentifier):
        return errors.ForbiddenCast(f"casts to {node.name.lower()} are not allowed")
    if isinstance(node, exp.Values):
        return errors.FunctionInFrom("VALUES lists are not allowed; query pfa_merged")
    if isinstance(node, (exp.DML, exp.DDL, exp.Command, exp.Merge)):
        return errors.NotAQuery(f"{node.key.upper()} is not allowed anywhere in the statement")
    if isinstance(node, exp.Dot):
        return errors.ForbiddenConstruct(
            f"qualified names like {node.sql(dialect='postgres')[:60]} are not allowed")
    return None


def allow_known_nodes(statement: Statement) -> Iterator[errors.GuardrailError]:
    """Refuse node types outside ALLOWED_NODES; function calls are judged by `allow_functions`."""
    for node in statement.nodes:
        kind = type(node)
        if kind in ALLOWED_NODES:
            if kind is exp.Var and type(node.parent) not in VAR_PARENTS:
                yield errors.ForbiddenConstruct(f"the keyword {node.name} is not allowed here")
            continue
        if isinstance(node, exp.Func) and not isinstance(node, (exp.Collate, exp.DML, exp.DDL)):
            continue
        yield _specific(node) or errors.ForbiddenConstruct(
            f"{kind.__name__} ({node.sql(dialect='postgres')[:60]}) is not allowed")
