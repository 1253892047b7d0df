"""Why a statement was refused: one class per reason, each with a stable snake_case code.

The docstring is the default message; a rule passes a message naming the offending part.
"""

from __future__ import annotations


class GuardrailError(Exception):
    """The statement is not allowed."""

    code = "not_allowed"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip()
        super().__init__(self.message)


class ParseFailure(GuardrailError):
    """The statement could not be parsed as PostgreSQL."""

    code = "parse_error"


class MultipleStatements(GuardrailError):
    """Exactly one statement is allowed."""

    code = "multiple_statements"


class NotAQuery(GuardrailError):
    """Only SELECT queries (optionally with WITH, UNION, INTERSECT or EXCEPT) are allowed."""

    code = "not_a_query"


class ForbiddenRelation(GuardrailError):
    """Only pfa_merged and CTEs defined in the statement may be read."""

    code = "forbidden_relation"


class SystemCatalog(GuardrailError):
    """System schemas and catalog tables are not allowed."""

    code = "system_catalog"


class ForbiddenFunction(GuardrailError):
    """The function is not on the allowlist."""

    code = "forbidden_function"


class ForbiddenConstruct(GuardrailError):
    """This SQL construct is not allowed."""

    code = "forbidden_construct"


class ForbiddenCast(GuardrailError):
    """Casts are allowed only to plain types (text, numbers, dates, times, booleans)."""

    code = "forbidden_cast"


class LockingClause(GuardrailError):
    """FOR UPDATE / FOR SHARE locking clauses are not allowed."""

    code = "locking_clause"


class SelectInto(GuardrailError):
    """SELECT INTO creates a table and is not allowed."""

    code = "select_into"


class ShadowedView(GuardrailError):
    """No CTE, subquery or alias may be named pfa_merged."""

    code = "shadowed_view"


class PlaceholderFound(GuardrailError):
    """Parameters and placeholders are not allowed; write literal values."""

    code = "placeholder"


class RecursiveCte(GuardrailError):
    """Recursive CTEs are not allowed."""

    code = "recursive_cte"


class FunctionInFrom(GuardrailError):
    """Functions and VALUES lists may not be used as relations in FROM."""

    code = "function_in_from"


class TableSample(GuardrailError):
    """TABLESAMPLE is not allowed."""

    code = "tablesample"


class UnsupportedLiteral(GuardrailError):
    """Escape-string (E'...') and Unicode-escape (U&'...') literals are not allowed; use plain strings."""

    code = "unsupported_literal"


class TooComplex(GuardrailError):
    """The statement is too long or too complex."""

    code = "too_complex"


class InvalidOrganization(GuardrailError):
    """The organization code is not valid."""

    code = "invalid_organization"


class CrossOrganizationReference(GuardrailError):
    """organization_id may only be selected, grouped, ordered or compared with your own organization."""

    code = "cross_organization"


class Tautology(GuardrailError):
    """OR with a condition that is always true (like 1 = 1) is not allowed."""

    code = "tautology"


class UnknownColumn(GuardrailError):
    """Every column must be an output column of a relation of the query (PostgreSQL would otherwise
    read `alias.name` as a function call on the whole row, or `alias` alone as the whole row)."""

    code = "unknown_column"


class UnboundedGrowth(GuardrailError):
    """String-building functions may not be nested deeply or replace with growing values."""

    code = "unbounded_growth"


class HiddenColumn(GuardrailError):
    """The column is hidden from this user by the organization's column policy."""

    code = "hidden_column"
