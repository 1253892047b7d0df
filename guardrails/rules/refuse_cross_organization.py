"""Any attempt to name, build or derive another organization is refused outright.

The rewrite already confines every reference to the caller's rows, so these statements could
not leak; refusing them keeps intent visible in the audit and gives the LLM a clear repair hint.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails.errors import CrossOrganizationReference, GuardrailError
from guardrails.statement import Statement, normalized

SCOPE_COLUMN = "organization_id"
SCOPE_JSON_KEY = "organization"


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _is_scope_reference(node: exp.Expression) -> bool:
    node = _unparen(node)
    if isinstance(node, exp.Column):
        return normalized(node.args.get("this")) == SCOPE_COLUMN
    if isinstance(node, (exp.JSONExtractScalar, exp.JSONExtract)):
        path = node.expression
        keys = [k.this for k in path.find_all(exp.JSONPathKey)] if isinstance(path, exp.Expression) else []
        return keys == [SCOPE_JSON_KEY]
    return False


def _is_own_literal(node: exp.Expression, org_id: str) -> bool:
    node = _unparen(node)
    return isinstance(node, exp.Literal) and node.is_string and node.this == org_id


def _allowed_use(reference: exp.Expression, org_id: str) -> bool:
    parent = reference.parent
    while isinstance(parent, exp.Paren):
        reference, parent = parent, parent.parent
    if isinstance(parent, (exp.Select, exp.Group, exp.Ordered, exp.Distinct)):
        return True
    if isinstance(parent, exp.Alias):
        return isinstance(parent.parent, exp.Select)
    if isinstance(parent, exp.Count):
        return True
    if isinstance(parent, exp.EQ):
        other = parent.expression if parent.this is reference else parent.this
        return _is_own_literal(other, org_id) or _is_scope_reference(other)
    if isinstance(parent, exp.In) and parent.this is reference and not parent.args.get("query"):
        return bool(parent.expressions) and all(_is_own_literal(e, org_id) for e in parent.expressions)
    return False


def refuse_cross_organization(statement: Statement) -> Iterator[GuardrailError]:
    for node in statement.of(exp.Column, exp.JSONExtractScalar, exp.JSONExtract):
        if _is_scope_reference(node) and not _allowed_use(node, statement.org_id):
            context = (node.parent or node).sql(dialect="postgres")[:80]
            yield CrossOrganizationReference(
                f"{context} uses the organization in a way that could reach another organization; "
                "filter by your organization only (or not at all: scoping is automatic)")
