"""The mirror's generated columns equal their JSON values, and bad values never break an insert."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from store import demo_data
from store.fields import BY_KEY, FIELDS, FieldType
from tests.helpers import add_org, add_records

TYPED = [f for f in FIELDS if f.key and f.column not in ("id", "organization_id")]


def expected_value(field, raw):
    """What the column must hold for a JSON value: the parsed value, or NULL when malformed."""
    if raw is None:
        return None
    if field.type is FieldType.TEXT:
        return raw if isinstance(raw, str) else str(raw).lower() if isinstance(raw, bool) else str(raw)
    if field.type is FieldType.NUMERIC:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            return None
        if isinstance(raw, str) and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", raw):
            return None  # only plain decimals: the PEMS client strips separators before storing
        return Decimal(str(raw))
    if field.type is FieldType.DATE:
        try:
            return date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
        except ValueError:
            return None
    if field.type is FieldType.BOOLEAN:
        return {"true": True, "false": False, "y": True, "n": False}.get(str(raw).lower())
    raise AssertionError(field)


def cost(source, rate, price, start, end):
    if source == "Rental":
        if rate is None or start is None or end is None:
            return None
        return (rate * (end - start).days / Decimal("30.44")).quantize(Decimal("0.01"))
    if source == "Purchase":
        return price if start is not None else None
    return None


def fetch_rows(conn, org):
    columns = ", ".join(f.column for f in TYPED) + ", plan_cost, forecast_cost, actual_cost, data"
    cur = conn.execute(f"SELECT {columns} FROM vanguard.pfa_mirror WHERE organization_id = %s ORDER BY id", (org,))
    names = [d.name for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def assert_row_matches_json(row):
    data = row["data"]
    for field in TYPED:
        assert row[field.column] == expected_value(field, data.get(field.key)), (field.column, data.get(field.key))
    for kind, start_key, end_key in (("plan", "originalStart", "originalEnd"),
                                     ("forecast", "forecastStart", "forecastEnd"),
                                     ("actual", "actualStart", "actualEnd")):
        want = cost(row["source"], row["monthly_rate"], row["purchase_price"],
                    expected_value(BY_KEY[start_key], data.get(start_key)),
                    expected_value(BY_KEY[end_key], data.get(end_key)))
        assert row[f"{kind}_cost"] == want, (kind, data)


def test_every_generated_column_equals_its_json_value_on_demo_records(app_conn):
    add_org(app_conn, "ORG_A")
    add_records(app_conn, list(demo_data.generate_records("ORG_A", 500)))
    rows = fetch_rows(app_conn, "ORG_A")
    assert len(rows) == 500
    for row in rows:
        assert_row_matches_json(row)
    # The demo data exercises every column at least once with a non-null value.
    for field in TYPED:
        assert any(row[field.column] is not None for row in rows), field.column


MALFORMED = {
    "area": 42,
    "category": None,
    "monthlyRate": "12,500.00",
    "purchasePrice": "1e5",
    "originalStart": "2024-02-30",
    "originalEnd": "2024-13-01",
    "forecastStart": "31/12/2025",
    "forecastEnd": "2025-06-01T00:00:00",
    "actualStart": "",
    "actualEnd": "0000-01-01",
    "isActualized": "maybe",
    "isDiscontinued": 1,
    "isFundsTransferable": {"nested": True},
    "source": "Lease",
    "lastModified": 17,
}


@pytest.mark.parametrize("key", sorted(MALFORMED))
def test_a_malformed_value_becomes_null_and_the_insert_succeeds(app_conn, key):
    add_org(app_conn, "ORG_A")
    record = next(demo_data.generate_records("ORG_A", 1))
    record[key] = MALFORMED[key]
    add_records(app_conn, [record])
    (row,) = fetch_rows(app_conn, "ORG_A")
    assert_row_matches_json(row)


def test_a_record_with_only_its_id_is_stored_with_null_columns(app_conn):
    add_org(app_conn, "ORG_A")
    add_records(app_conn, [{"pfaId": "BARE-1", "organization": "ORG_A"}])
    (row,) = fetch_rows(app_conn, "ORG_A")
    assert all(row[f.column] is None for f in TYPED)
    assert (row["plan_cost"], row["forecast_cost"], row["actual_cost"]) == (None, None, None)


def test_valid_edge_dates_parse(app_conn):
    add_org(app_conn, "ORG_A")
    record = {"pfaId": "D-1", "organization": "ORG_A", "originalStart": "2024-02-29", "originalEnd": "2023-12-31",
              "forecastStart": "2025-04-30", "forecastEnd": "2025-04-31"}
    add_records(app_conn, [record])
    (row,) = fetch_rows(app_conn, "ORG_A")
    assert row["plan_start"] == date(2024, 2, 29)
    assert row["plan_end"] == date(2023, 12, 31)
    assert row["forecast_start"] == date(2025, 4, 30)
    assert row["forecast_end"] is None
