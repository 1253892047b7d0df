"""What an LLM may know: the merged view's columns from the field registry, and domain words.

Never values from rows: only names, types, meanings and the values the domain itself fixes.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.fields import FIELDS, Field

VIEW = "pfa_merged"

# Words for the domain's fixed values; what time, money and status words mean is in
# `nlq/ask/conventions.py` (one place, agreeing with the accuracy set's gold SQL).
GLOSSARY: dict[str, str] = {
    "rental, rentals, rented, hired": "source = 'Rental'",
    "purchase, purchases, bought, owned": "source = 'Purchase'",
    "overhead": "dor = 'BEO'",
    "project-paid": "dor = 'PROJECT'",
    "my changes, my drafts, edited": "has_draft = true",
    "silo, area, zone": "area",
}


@dataclass(frozen=True)
class CatalogColumn:
    name: str
    type: str
    meaning: str
    allowed: tuple[str, ...] | None


@dataclass(frozen=True)
class Catalog:
    view: str
    columns: tuple[CatalogColumn, ...]
    glossary: dict[str, str]

    def without(self, hidden: frozenset[str]) -> "Catalog":
        """The catalog a member with hidden columns is shown: those columns, and glossary lines
        that point at them, are left out, so no prompt invites a statement the guardrails refuse."""
        return Catalog(view=self.view, columns=tuple(c for c in self.columns if c.name not in hidden),
                       glossary={k: v for k, v in self.glossary.items()
                                 if not any(name in v for name in hidden)})


def _column(f: Field) -> CatalogColumn:
    return CatalogColumn(name=f.column, type=f.type.value, meaning=f.meaning, allowed=f.allowed)


def build_catalog() -> Catalog:
    """The catalog shown to every prompt (the same for every organization and user)."""
    return Catalog(view=VIEW, columns=tuple(_column(f) for f in FIELDS), glossary=dict(GLOSSARY))


OPS_BY_TYPE = {"date": ("shift_days", "set"), "numeric": ("set", "add", "scale_pct"),
               "text": ("set",), "boolean": ("set",)}


@dataclass(frozen=True)
class EditableField:
    key: str
    type: str
    meaning: str
    ops: tuple[str, ...]
    allowed: tuple[str, ...] | None
    column: str = ""


def editable_fields() -> tuple[EditableField, ...]:
    """The fields a bulk plan may change, with the operations that fit each type."""
    return tuple(EditableField(f.key, f.type.value, f.meaning, OPS_BY_TYPE[f.type.value], f.allowed, f.column)
                 for f in FIELDS if f.editable and f.key)
