"""The NL audit ledger's integrity: the chain is built by a trigger; this verifies it."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from store import queries

_Q = queries.load("audit")


@dataclass
class ChainReport:
    checked: int = 0
    broken: list[dict] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.broken


def verify_chain(conn: psycopg.Connection, organization_id: str | None = None) -> ChainReport:
    """Recompute every row's hash and link. The chain is global (one order for all rows), so it is
    always verified whole; `organization_id` only limits which broken rows are reported."""
    report = ChainReport()
    for audit_id, org, content_ok, link_ok in conn.execute(_Q["verify_audit_chain"]):
        report.checked += 1
        if not (content_ok and link_ok) and organization_id in (None, org):
            report.broken.append({"id": audit_id, "content_ok": bool(content_ok), "link_ok": bool(link_ok)})
    return report
