"""The NL audit ledger's integrity: the database's sha256 chain and the service's keyed seals.

The chain is global (one order for every organization), so it is always verified whole; what a
caller learns about breaks is limited to its own organization's entries plus the fact that a
break exists elsewhere, never where or whose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

from store import queries
from store.audit_seal import MAC_FIELDS, SEALED_FIELDS, entry_mac

_Q = queries.load("audit")

# now() is the start of the inserting statement and the position is drawn later, under the chain
# lock, so an entry may be a little older than the one before it; more than this is a back-dated
# entry, which the trigger never writes.
TIME_ORDER_TOLERANCE_SECONDS = 60

_N = len(SEALED_FIELDS)
_CHAIN_VERSION = MAC_FIELDS.index("chain_version")


@dataclass
class ChainReport:
    checked: int = 0
    sealed: int = 0
    unsealed: int = 0
    legacy: int = 0
    broken: list[dict] = field(default_factory=list)
    broken_elsewhere: bool = False
    broken_total: int = 0

    @property
    def intact(self) -> bool:
        return self.broken_total == 0

    @property
    def message(self) -> str:
        if self.intact:
            text = f"The ledger is intact: {self.checked} entries, {self.sealed} sealed."
        elif self.broken and self.broken_elsewhere:
            text = (f"The ledger is broken at {len(self.broken)} entries of your organization, "
                    "and a break exists outside your organization.")
        elif self.broken:
            text = f"The ledger is broken at {len(self.broken)} entries of your organization."
        else:
            text = "Your organization's entries verify, but a break exists outside your organization."
        if self.unsealed:
            text += f" {self.unsealed} newest entries are not sealed yet."
        if self.legacy:
            text += (f" {self.legacy} entries predate sealing: written under the database's hash only, "
                     "sealed when first found.")
        return text

    def to_dict(self) -> dict:
        return {"intact": self.intact, "checked": self.checked, "sealed": self.sealed, "unsealed": self.unsealed,
                "legacy": self.legacy, "broken": self.broken, "broken_elsewhere": self.broken_elsewhere,
                "message": self.message}


def verify_chain(conn: psycopg.Connection, key: bytes, organization_id: str | None = None) -> ChainReport:
    """Recompute every entry's hash, link and seal, in chain order.

    `organization_id` limits which broken entries are listed (ids and positions of that
    organization's entries); breaks in other organizations only set `broken_elsewhere`. Without
    it (the command line, run by an operator) every broken entry is listed with its organization.
    Verifying gives the same answer in any session TimeZone.
    """
    report = ChainReport()
    with conn.transaction():
        conn.execute(_Q["use_default_timezone"])
        with conn.cursor(name="audit_ledger") as cur:
            cur.itersize = 2000
            cur.execute(_Q["verify_audit_ledger"])
            _walk(cur, key, organization_id, report)
    return report


def _walk(rows, key: bytes, organization_id: str | None, report: ChainReport) -> None:
    prev_position, prev_hash, prev_time, prev_mac = 0, None, None, ""
    pending_unsealed: list[dict] = []  # entries without a seal: only a break if a later one is sealed
    for row in rows:
        position, values = row[0], row[1:1 + _N]
        present, row_prev_hash, row_hash, content_ok, seal_id, seal_org, seal_mac = row[1 + _N:]
        problems = []
        if present:
            report.checked += 1
            if values[_CHAIN_VERSION] is None:
                report.legacy += 1
            if position is None:
                problems.append("unchained")
            if not content_ok:
                problems.append("content")
            if position is not None and (position != prev_position + 1 or row_prev_hash != prev_hash):
                problems.append("link")
            created = Decimal(values[1])
            if (values[_CHAIN_VERSION] is not None and prev_time is not None
                    and created < prev_time - TIME_ORDER_TOLERANCE_SECONDS):
                problems.append("time_order")
            prev_hash, prev_time = row_hash, max(created, prev_time or created)
        if seal_mac is not None:
            if pending_unsealed:  # a seal is missing before this one
                for item in pending_unsealed:
                    _record(report, organization_id, item, ["unsealed"])
                pending_unsealed = []
            report.sealed += 1
            if not present:
                problems.append("missing")
            elif (seal_id != values[0] or seal_org != values[2]
                  or entry_mac(key, position, prev_mac, values) != seal_mac):
                problems.append("mac")
            prev_mac = seal_mac
        elif present and position is not None:
            pending_unsealed.append({"id": values[0], "position": position, "orgs": {values[2]},
                                     "problems": problems})
            problems = None  # decided once it is known whether a later entry is sealed
        if problems:
            _record(report, organization_id, {"id": values[0] if present else seal_id, "position": position,
                                              "orgs": {values[2], seal_org} - {None}}, problems)
        if position is not None:
            prev_position = position
    for item in pending_unsealed:  # the newest entries, still waiting for the sealer
        report.unsealed += 1
        if item["problems"]:
            _record(report, organization_id, item, item["problems"])


def _record(report: ChainReport, organization_id: str | None, item: dict, problems: list[str]) -> None:
    problems = sorted(set(problems) | set(item.get("problems") or []))
    report.broken_total += 1
    if organization_id is not None and organization_id not in item["orgs"]:
        report.broken_elsewhere = True
        return
    entry = {"id": item["id"], "position": item["position"], "problems": problems,
             "content_ok": "content" not in problems, "link_ok": "link" not in problems,
             "mac_ok": not {"mac", "missing", "unsealed"} & set(problems)}
    if organization_id is None:
        entry["organization_id"] = sorted(item["orgs"])[0] if item["orgs"] else None
    report.broken.append(entry)
