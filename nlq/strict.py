"""Types for request values that accept only what they name: no `0.5` as a time, no `false` as an id.

Pydantic's lax mode reads `until=0.5` as half a second after 1970, `limit=5.0` or `1_000` as whole
numbers, `is_actualized=on` as true, and `{"change_set_id": false}` as id 0. A client that sends
those has made a mistake, and guessing hides it; these types answer 422 instead.

JSON bodies carry typed values, so their fields are strict (`Id`, `Flag`). Query and path values
are always text, so they are checked by form before pydantic converts them: put the form check
last in `Annotated[...]`, after `Query(...)` / `Field(...)`, so the bounds stay in the OpenAPI schema.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BeforeValidator, Field, Strict, StrictBool

BIGINT_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                       r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?")
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


def _form(pattern: re.Pattern, what: str):
    def check(value):
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return BeforeValidator(check)


def _bool_word(value):
    if isinstance(value, str):
        if value.lower() not in _BOOLEANS:
            raise ValueError("must be true or false")
        return _BOOLEANS[value.lower()]
    return value


DIGITS = _form(_DIGITS, "a whole number written with digits only")
ISO_DATE = _form(_DATE, "a date as YYYY-MM-DD")
ISO_DATETIME = _form(_DATETIME, "a date or time in ISO 8601 form, e.g. 2026-03-01T12:00:00Z")

# JSON bodies
Id = Annotated[int, Strict(), Field(ge=1, le=BIGINT_MAX)]
Flag = StrictBool

# query and path values
QueryId = Annotated[int, Field(ge=1, le=BIGINT_MAX), DIGITS]
QueryDate = Annotated[date, ISO_DATE]
QueryDateTime = Annotated[datetime, ISO_DATETIME]
QueryBool = Annotated[bool, BeforeValidator(_bool_word)]
