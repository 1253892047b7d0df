"""What `check` answers: allowed or not, the statement to run, the reasons, the scope enforced."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reason:
    """One reason for refusing a statement: a stable code and a human message."""

    code: str
    message: str


@dataclass(frozen=True)
class Scope:
    """What the rewrite enforced.

    `view_references` lists the alias of every reference to the view (each one became an
    organization-restricted subquery); `predicate` is the restriction applied at each;
    `limit` is the LIMIT the outermost query now carries.
    """

    organization_id: str
    predicate: str
    view_references: list[str] = field(default_factory=list)
    limit: int | None = None
    max_rows: int | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    sql: str | None
    reasons: list[Reason] = field(default_factory=list)
    scope: Scope | None = None
    budget_sql: str | None = None

    def to_dict(self) -> dict:
        return {
            "allowed": self.allowed,
            "sql": self.sql,
            "reasons": [{"code": r.code, "message": r.message} for r in self.reasons],
            "scope": None if self.scope is None else {
                "organization_id": self.scope.organization_id,
                "predicate": self.scope.predicate,
                "view_references": self.scope.view_references,
                "limit": self.scope.limit,
                "max_rows": self.scope.max_rows,
            },
        }
