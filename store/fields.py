"""The field registry: every PFA field once, with its column, type, editability and meaning.

Prompts, draft validation, bulk-edit operations, the PEMS mapping and a test against the
database view all read from here, so they cannot drift apart (DESIGN section 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FieldType(str, Enum):
    TEXT = "text"
    NUMERIC = "numeric"
    DATE = "date"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamptz"
    JSONB = "jsonb"


@dataclass(frozen=True)
class Field:
    """One column of `nlq.pfa_merged`.

    `key` is the camelCase JSON key in the mirror's `data` (None for derived columns);
    `allowed` lists the values fixed by the domain (enum-like columns); `financial` marks money,
    hidden from members whose membership does not show costs (`COST_MASKED_COLUMNS`).
    """

    column: str
    type: FieldType
    meaning: str
    key: str | None = None
    editable: bool = False
    allowed: tuple[str, ...] | None = None
    derived: bool = False
    financial: bool = False

    @property
    def label(self) -> str:
        """The column's name for people (grid headers, choosers): `LABELS`, else the column in words."""
        return LABELS.get(self.column) or self.column.replace("_", " ").capitalize()


FIELDS: tuple[Field, ...] = (
    Field("id", FieldType.TEXT, "record id, unique within an organization", key="pfaId"),
    Field("organization_id", FieldType.TEXT, "PEMS organization code (the tenant)", key="organization"),
    Field("area", FieldType.TEXT, 'area or silo, e.g. "Silo 4", "Tank Farm"', key="area", editable=True),
    Field("category", FieldType.TEXT, 'equipment category, e.g. "Cranes", "Concrete", "Earthmoving"',
          key="category", editable=True),
    Field("category_description", FieldType.TEXT, "human text for the category", key="categoryDescription"),
    Field("class", FieldType.TEXT, 'finer class, e.g. "Crawler Crane 250T"', key="class", editable=True),
    Field("source", FieldType.TEXT, "Rental (paid monthly) or Purchase (bought outright)", key="source",
          editable=True, allowed=("Rental", "Purchase")),
    Field("dor", FieldType.TEXT, "who pays: BEO (overhead) or PROJECT", key="dor", editable=True,
          allowed=("BEO", "PROJECT")),
    Field("manufacturer", FieldType.TEXT, "equipment make", key="manufacturer"),
    Field("model", FieldType.TEXT, "equipment model", key="model"),
    Field("equipment_tag", FieldType.TEXT, "tag of the assigned asset, if any", key="equipmentTag"),
    Field("monthly_rate", FieldType.NUMERIC, "rental rate per month", key="monthlyRate", editable=True, financial=True),
    Field("purchase_price", FieldType.NUMERIC, "price when bought", key="purchasePrice", editable=True, financial=True),
    Field("plan_start", FieldType.DATE, "planned start (locked baseline)", key="originalStart"),
    Field("plan_end", FieldType.DATE, "planned end (locked baseline)", key="originalEnd"),
    Field("forecast_start", FieldType.DATE, "current forecast start", key="forecastStart", editable=True),
    Field("forecast_end", FieldType.DATE, "current forecast end", key="forecastEnd", editable=True),
    Field("actual_start", FieldType.DATE, "actual start (imported)", key="actualStart"),
    Field("actual_end", FieldType.DATE, "actual end (imported)", key="actualEnd"),
    Field("is_actualized", FieldType.BOOLEAN, "equipment is on site: actuals exist", key="isActualized"),
    Field("is_discontinued", FieldType.BOOLEAN, "cancelled", key="isDiscontinued", editable=True),
    Field("is_funds_transferable", FieldType.BOOLEAN, "may donate budget to other records",
          key="isFundsTransferable", editable=True),
    Field("pems_version", FieldType.TEXT, "PEMS change stamp, used for conflicts", key="lastModified"),
    Field("plan_cost", FieldType.NUMERIC, "planned cost: rental rate x planned days / 30.44, or the price",
          derived=True, financial=True),
    Field("forecast_cost", FieldType.NUMERIC, "forecast cost: rental rate x forecast days / 30.44, or the price",
          derived=True, financial=True),
    Field("actual_cost", FieldType.NUMERIC, "actual cost: rental rate x actual days / 30.44, or the price once on site",
          derived=True, financial=True),
    Field("cost_variance", FieldType.NUMERIC, "forecast_cost - plan_cost", derived=True, financial=True),
    Field("has_draft", FieldType.BOOLEAN, "the caller has an unsaved working draft on this record",
          derived=True),
    Field("data", FieldType.JSONB, "the whole merged record as JSON (camelCase keys)", derived=True),
    Field("last_synced_at", FieldType.TIMESTAMP, "when the record was last read from PEMS", derived=True),
)

# Column names for people, where the column written in words would not do ("Monthly rate", not
# `monthly_rate`); read through `Field.label`.
LABELS: dict[str, str] = {
    "id": "Record", "organization_id": "Organization", "dor": "DOR", "is_actualized": "On site",
    "is_discontinued": "Discontinued", "is_funds_transferable": "Funds transferable",
    "pems_version": "PEMS version", "has_draft": "My draft", "last_synced_at": "Last synced",
}

BY_COLUMN: dict[str, Field] = {f.column: f for f in FIELDS}
BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS if f.key}
EDITABLE_KEYS: frozenset[str] = frozenset(f.key for f in FIELDS if f.editable and f.key)
RECORD_KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS if f.key)
VIEW_COLUMNS: tuple[str, ...] = tuple(f.column for f in FIELDS)  # nlq.pfa_merged, in order
FINANCIAL_KEYS: frozenset[str] = frozenset(f.key for f in FIELDS if f.financial and f.key)
# What a member who may not see costs cannot read: the money columns, and `data`, which carries
# the whole record (rate and price included) as JSON.
COST_MASKED_COLUMNS: frozenset[str] = frozenset(f.column for f in FIELDS if f.financial) | {"data"}
