"""Bulk loading of the mirror (seeding and benchmarks; the sync worker has its own upsert)."""

from __future__ import annotations

import json
from collections.abc import Iterable

import psycopg

from store import queries

_Q = queries.load("mirror")


def copy_records(conn: psycopg.Connection, records: Iterable[dict]) -> int:
    """COPY records (camelCase dicts) into the mirror; return how many were written.

    The caller owns the transaction, so a failure part-way leaves nothing behind.
    """
    count = 0
    with conn.cursor().copy(_Q["copy_mirror_records"]) as copy:
        for record in records:
            copy.write_row((record["organization"], record["pfaId"], json.dumps(record, separators=(",", ":"))))
            count += 1
    return count


def refresh_kpis(conn: psycopg.Connection) -> None:
    """Refresh the KPI materialized views (concurrently: readers are never blocked)."""
    conn.execute(_Q["refresh_kpis"])


def analyze(conn: psycopg.Connection) -> None:
    """Refresh planner statistics of the mirror and drafts (after a large change)."""
    conn.execute(_Q["analyze_mirror"])
