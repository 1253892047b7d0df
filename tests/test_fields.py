"""The field registry and the database view can never drift apart."""

from __future__ import annotations

import re

import psycopg

from store import demo_data
from store.fields import BY_KEY, EDITABLE_KEYS, FIELDS, FieldType

PG_TYPES = {"text": FieldType.TEXT, "numeric": FieldType.NUMERIC, "date": FieldType.DATE,
            "boolean": FieldType.BOOLEAN, "timestamp with time zone": FieldType.TIMESTAMP, "jsonb": FieldType.JSONB}


def view_columns(url: str, relation: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (relation,)).fetchall()


def test_registry_matches_the_merged_view_column_for_column(db):
    columns = view_columns(db.admin, "nlq.pfa_merged")
    assert [name for name, _ in columns] == [f.column for f in FIELDS]
    assert [PG_TYPES[t] for _, t in columns] == [f.type for f in FIELDS]


def test_every_stored_field_is_a_typed_mirror_column(db):
    mirror = dict(view_columns(db.admin, "vanguard.pfa_mirror"))
    for field in FIELDS:
        if field.key and not field.derived:
            assert PG_TYPES[mirror[field.column]] is field.type, field.column


def test_editable_fields_are_those_of_the_design():
    assert EDITABLE_KEYS == {"area", "category", "class", "source", "dor", "monthlyRate", "purchasePrice",
                             "forecastStart", "forecastEnd", "isDiscontinued", "isFundsTransferable"}
    assert BY_KEY["source"].allowed == ("Rental", "Purchase")
    assert BY_KEY["dor"].allowed == ("BEO", "PROJECT")


def test_demo_records_use_only_registry_keys():
    for record in demo_data.generate_records("ORG_A", 200):
        assert set(record) <= set(BY_KEY), set(record) - set(BY_KEY)


def test_the_draft_table_allows_exactly_the_editable_keys(db):
    """The CHECK on pfa_draft.delta lists the editable keys; it must match the registry."""
    with psycopg.connect(db.admin) as conn:
        definition = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'vanguard.pfa_draft'::regclass AND pg_get_constraintdef(oid) LIKE '%%delta - %%'"
        ).fetchone()[0]
    keys = definition[definition.index("delta - "):]
    assert set(re.findall(r"'(\w+)'::text", keys)) == EDITABLE_KEYS


def test_draft_generated_columns_match_the_mirror(db):
    draft = dict(view_columns(db.admin, "vanguard.pfa_draft"))
    mirror = dict(view_columns(db.admin, "vanguard.pfa_mirror"))
    for field in FIELDS:
        if field.column in mirror and field.column not in ("id", "organization_id", "data", "last_synced_at"):
            assert draft[field.column] == mirror[field.column], field.column
