"""The one mapping between PEMS grid aliases and the field registry's JSON keys, with value formats.

PEMS sends every value as text: numbers with thousands separators, flags as Y/N, dates as
MM/DD/YYYY and change stamps as MM/DD/YYYY HH:MM:SS. `parse_row` turns a row into a registry
record (camelCase keys, ISO dates, numbers, booleans); `render_record` does the reverse, for the
simulator and for write-back payloads.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

from store.fields import BY_KEY, FieldType
from store.pems.errors import MalformedRecord

ID_ALIAS = "pfs_id"
ORGANIZATION_ALIAS = "pfs_organization"
MODIFIED_ALIAS = "pfs_lastmodified"
RECORD_ID_ALIAS = "recordid"

ALIASES: dict[str, str] = {
    "pfaId": ID_ALIAS,
    "organization": ORGANIZATION_ALIAS,
    "area": "pfs_f_area",
    "category": "pfs_f_category",
    "categoryDescription": "pfs_f_catdesc",
    "class": "pfs_f_class",
    "source": "pfs_f_source",
    "dor": "pfs_f_dor",
    "manufacturer": "pfs_f_manufacturer",
    "model": "pfs_f_model",
    "equipmentTag": "pfs_f_eqtag",
    "monthlyRate": "pfs_f_rental",
    "purchasePrice": "pfs_f_purchase",
    "originalStart": "pfs_p_startdate",
    "originalEnd": "pfs_p_enddate",
    "forecastStart": "pfs_f_startdate",
    "forecastEnd": "pfs_f_enddate",
    "actualStart": "pfs_a_startdate",
    "actualEnd": "pfs_a_enddate",
    "isActualized": "pfs_f_actualized",
    "isDiscontinued": "pfs_f_discontinued",
    "isFundsTransferable": "pfs_f_fundstransfer",
    "lastModified": MODIFIED_ALIAS,
}
KEYS_BY_ALIAS: dict[str, str] = {alias: key for key, alias in ALIASES.items()}

PEMS_DATE = "%m/%d/%Y"
PEMS_STAMP = "%m/%d/%Y %H:%M:%S"


def _parse_pems_date(text: str) -> date:
    """MM/DD/YYYY -> date, strictly (strptime is several times slower and this runs per field)."""
    month, day, year = text.split("/")
    if not (len(month) == 2 and len(day) == 2 and len(year) == 4
            and month.isdigit() and day.isdigit() and year.isdigit()):
        raise ValueError(f"{text!r} is not MM/DD/YYYY")
    return date(int(year), int(month), int(day))


def parse_stamp(text: str) -> datetime:
    """MM/DD/YYYY HH:MM:SS (UTC) -> aware datetime."""
    day_part, _, time_part = text.partition(" ")
    day = _parse_pems_date(day_part)
    hour, minute, second = time_part.split(":")
    if not (len(hour) == len(minute) == len(second) == 2 and (hour + minute + second).isdigit()):
        raise ValueError(f"{text!r} is not MM/DD/YYYY HH:MM:SS")
    return datetime(day.year, day.month, day.day, int(hour), int(minute), int(second), tzinfo=timezone.utc)


def format_stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(PEMS_STAMP)


def iso_stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(text: str):
    number = Decimal(text.replace(",", ""))
    if not number.is_finite():
        raise InvalidOperation(text)
    return int(number) if number == number.to_integral_value() else float(number)


def _flag(text: str) -> bool:
    if text not in ("Y", "N"):
        raise ValueError(f"flag {text!r} is not Y or N")
    return text == "Y"


def _text(text: str) -> str:
    return text


_PARSERS = {
    FieldType.NUMERIC: _number,
    FieldType.DATE: lambda text: _parse_pems_date(text).isoformat(),
    FieldType.BOOLEAN: _flag,
    FieldType.TEXT: _text,
}
# One parser per registry key, chosen once: this runs for every field of every synced row.
PARSER_BY_KEY = {key: _PARSERS[BY_KEY[key].type] for key in ALIASES}
PARSER_BY_KEY["lastModified"] = lambda text: iso_stamp(parse_stamp(text))


def _parse_value(key: str, text: str):
    return None if text == "" else PARSER_BY_KEY[key](text)


def parse_row(fields: list[dict]) -> tuple[dict, int]:
    """One DATAFIELD list -> (registry record, PEMS recordid). Raises MalformedRecord."""
    try:
        values = {f["FIELDNAME"]: f["FIELDVALUE"] for f in fields}
    except (TypeError, KeyError) as exc:
        raise MalformedRecord("row is not a list of FIELDNAME / FIELDVALUE pairs") from exc
    record_id = values.get(ID_ALIAS)
    if not isinstance(record_id, str) or not record_id.strip():
        raise MalformedRecord("row has no pfs_id")
    record: dict = {}
    for alias, text in values.items():
        key = KEYS_BY_ALIAS.get(alias)
        if key is None or text is None:
            continue  # PEMS grids carry extra columns; only registry fields are mirrored
        if not isinstance(text, str):
            raise MalformedRecord(f"{alias} of {record_id} is not text", record=record_id, field=alias)
        text = text.strip()
        if not text:
            continue
        try:
            value = PARSER_BY_KEY[key](text)
        except (ValueError, InvalidOperation) as exc:
            raise MalformedRecord(f"{alias} of {record_id} cannot be read: {text[:40]!r}",
                                  record=record_id, field=alias) from exc
        record[key] = value
    try:
        pems_record_id = int(values.get(RECORD_ID_ALIAS, ""))
    except (TypeError, ValueError) as exc:
        raise MalformedRecord(f"recordid of {record_id} is not a number", record=record_id) from exc
    return record, pems_record_id


def format_value(key: str, value) -> str:
    """A registry value as PEMS text."""
    if value is None:
        return ""
    if key == "lastModified":
        return format_stamp(datetime.fromisoformat(value.replace("Z", "+00:00")))
    kind = BY_KEY[key].type
    if kind is FieldType.NUMERIC:
        return f"{Decimal(str(value)):,.2f}"
    if kind is FieldType.DATE:
        return date.fromisoformat(value).strftime(PEMS_DATE)
    if kind is FieldType.BOOLEAN:
        return "Y" if value else "N"
    return str(value)


def render_record(record: dict, pems_record_id: int) -> list[dict]:
    """A registry record as a PEMS DATAFIELD list (every alias present, empty when unset)."""
    fields = [{"FIELDNAME": alias, "FIELDVALUE": format_value(key, record.get(key))} for key, alias in ALIASES.items()]
    fields.append({"FIELDNAME": RECORD_ID_ALIAS, "FIELDVALUE": str(pems_record_id)})
    return fields


def render_changes(changes: dict) -> list[dict]:
    """Draft changes (registry keys) as PEMS FIELD pairs for an UPDATE."""
    return [{"FIELDNAME": ALIASES[key], "FIELDVALUE": format_value(key, value)} for key, value in changes.items()]


def parse_changes(fields: list[dict]) -> dict:
    """UPDATE FIELD pairs back to registry values (the simulator applies them)."""
    changes = {}
    for field in fields:
        key = KEYS_BY_ALIAS[field["FIELDNAME"]]
        changes[key] = _parse_value(key, str(field["FIELDVALUE"]).strip())
    return changes
