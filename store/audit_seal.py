"""Seals of the NL audit ledger: HMAC-SHA256 under a key only the service holds, and signed heads.

Why the service seals after the insert instead of in the inserting transaction: the insert keeps
its one statement (the chain trigger assigns the position and the sha256 link under its advisory
lock, as before), and sealing is a separate, serial step under its own advisory lock. The trigger
notifies the service at commit and the sealer (`nlq/audit_sealer.py`) seals within moments; the
committed entries always form a gap-free prefix of positions (each insert holds the chain lock
until it commits), so sealing "everything after the last seal, in order" never skips an entry
that is still being written. Each MAC covers the entry's content (time as a UTC epoch), its
position and the previous seal's MAC, so the seals form their own chain that the database cannot
recompute. What a seal cannot prove is what happened to an entry before it was sealed (the
milliseconds between commit and seal while a service runs; `seal_pending` may also be called in
the inserting transaction, which closes that window); the signed heads an outside monitor keeps
are what proves that nothing was cut off the end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime, timezone

import psycopg

from store import queries
from store.errors import StoreError

_Q = queries.load("audit")

# The sealed fields, in the order the sealing and verifying queries select them.
MAC_FIELDS = ("id", "created_at", "organization_id", "user_id", "kind", "question", "provider", "model",
              "prompt_template", "prompt_hash", "prompt_tokens", "llm_outputs", "attempts", "executed_sql",
              "scope", "explain_estimate", "verdict", "error_code", "row_count", "truncated", "timings",
              "detail", "chain_version")
# Sealed only where set (after MAC_FIELDS in the queries): entries sealed before these fields
# existed, and entries that leave them empty, keep the MAC they always had.
OPTIONAL_MAC_FIELDS = ("conversation_id",)
SEALED_FIELDS = MAC_FIELDS + OPTIONAL_MAC_FIELDS
SEAL_SCHEME = "vanguard-audit-seal-v1"
HEAD_SCHEME = "vanguard-audit-head-v1"
SEAL_BATCH = 1000
MIN_KEY_BYTES = 32


class InvalidHead(StoreError):
    """The chain head is not one this service publishes (position, mac, time, signature)."""

    code = "invalid_head"


def entry_mac(key: bytes, position: int, prev_mac: str, values: Sequence) -> str:
    """The seal of one entry: HMAC-SHA256 over scheme, position, previous seal and content.

    >>> entry_mac(b"k" * 32, 1, "", [1, "1700000000.000000"] + [None] * 21)[:16]
    '7bc1b00a24af0084'
    """
    if len(values) not in (len(MAC_FIELDS), len(SEALED_FIELDS)):
        raise ValueError(f"an entry has {len(MAC_FIELDS)} or {len(SEALED_FIELDS)} sealed values, not {len(values)}")
    named = dict(zip(SEALED_FIELDS, values))
    for name in OPTIONAL_MAC_FIELDS:
        if named.get(name) is None:
            named.pop(name, None)
    content = json.dumps(named, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    message = f"{SEAL_SCHEME}\n{position}\n{prev_mac}\n{content}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal_pending(conn: psycopg.Connection, key: bytes) -> int:
    """Seal every entry written since the last seal, in chain order; return how many.

    Safe to run from any number of processes at once: sealers take turns under an advisory lock
    and each continues from the last seal it finds. Works inside the inserting transaction too
    (it sees that transaction's own entry), so a caller may seal in the same commit.
    """
    _check_key(key)
    sealed = 0
    while True:
        with conn.transaction():
            conn.execute(_Q["lock_audit_sealing"])
            last = conn.execute(_Q["last_audit_seal"]).fetchone()
            position, prev_mac = last if last else (0, "")
            rows = conn.execute(_Q["unsealed_audit_entries"], {"after": position, "limit": SEAL_BATCH}).fetchall()
            seals = []
            for row in rows:
                position, values = row[0], row[1:]
                prev_mac = entry_mac(key, position, prev_mac, values)
                seals.append({"chain_position": position, "audit_id": values[0], "organization_id": values[2],
                              "mac": prev_mac})
            if seals:
                with conn.cursor() as cur:
                    cur.executemany(_Q["insert_audit_seal"], seals)
        sealed += len(seals)
        if len(rows) < SEAL_BATCH:
            return sealed


def sign_head(key: bytes, position: int, mac: str, time: str) -> str:
    message = f"{HEAD_SCHEME}\n{position}\n{mac}\n{time}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def current_head(conn: psycopg.Connection, key: bytes) -> dict:
    """Seal what is pending, then sign the newest seal: what a monitor saves to catch truncation.

    The head names only a position (how many entries all organizations have made) and a MAC.
    """
    seal_pending(conn, key)
    last = conn.execute(_Q["last_audit_seal"]).fetchone()
    position, mac = last if last else (0, "")
    time = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"position": position, "mac": mac, "time": time, "signature": sign_head(key, position, mac, time)}


def parse_head(text: str) -> dict:
    """A saved head as JSON text, checked for shape (not yet for its signature)."""
    try:
        head = json.loads(text)
    except ValueError:
        raise InvalidHead("The head is not JSON; pass it exactly as `audit head` printed it.") from None
    if not isinstance(head, dict) or set(head) != {"position", "mac", "time", "signature"}:
        raise InvalidHead("A head has exactly the fields position, mac, time and signature.")
    position, mac, time, signature = head["position"], head["mac"], head["time"], head["signature"]
    if (not isinstance(position, int) or isinstance(position, bool) or position < 0
            or not isinstance(mac, str) or len(mac) > 64 or not isinstance(time, str) or len(time) > 40
            or not isinstance(signature, str) or len(signature) != 64):
        raise InvalidHead()
    return head


def check_head(conn: psycopg.Connection, key: bytes, head: dict) -> dict:
    """Does the ledger still contain this saved head? (Its position is sealed with the same MAC.)"""
    expected = sign_head(key, head["position"], head["mac"], head["time"])
    result = {"position": head["position"], "signature_ok": hmac.compare_digest(expected, head["signature"]),
              "contained": False}
    last = conn.execute(_Q["last_audit_seal"]).fetchone()
    result["current_position"] = last[0] if last else 0
    if not result["signature_ok"]:
        result["message"] = "This head was not signed with this service's key, or was altered."
        return result
    if head["position"] == 0:
        result["contained"] = True
        result["message"] = "The head was taken of an empty ledger; every ledger contains it."
        return result
    row = conn.execute(_Q["audit_seal_at"], {"position": head["position"]}).fetchone()
    if row is not None and hmac.compare_digest(row[0], head["mac"]):
        result["contained"] = True
        result["message"] = f"The ledger still contains this head: position {head['position']} has the same seal."
    elif result["current_position"] < head["position"]:
        result["message"] = (f"The ledger no longer reaches this head: it ends at position "
                             f"{result['current_position']}, the head was at {head['position']} "
                             "(entries were removed from its end).")
    elif row is None:
        result["message"] = f"Position {head['position']} has no seal any more (it was removed)."
    else:
        result["message"] = f"Position {head['position']} is sealed differently from this head (the ledger was rewritten)."
    return result


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the audit key must be at least {MIN_KEY_BYTES} bytes")
