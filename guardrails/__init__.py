"""SQL policy for LLM-written statements: validation and organization-scoping rewrite (sqlglot only).

    >>> from guardrails import check
    >>> check("SELECT count(*) FROM pfa_merged", org_id="ORG_A", view_columns=["id", "category"]).allowed
    True
"""

from guardrails.check import DEFAULT_MAX_ROWS, check
from guardrails.errors import GuardrailError
from guardrails.column_policy import ColumnPolicy
from guardrails.verdict import Reason, Scope, Verdict

__all__ = ["check", "ColumnPolicy", "Verdict", "Reason", "Scope", "GuardrailError", "DEFAULT_MAX_ROWS"]
