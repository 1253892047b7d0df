"""Writing CSV that spreadsheets cannot run: the one helper every CSV the product writes goes through.

A spreadsheet treats a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return as a
formula (`=HYPERLINK(...)`, `=cmd|...`), and any viewer can type such text into a question that
the audit then exports. OWASP's rule: prefix such a text cell with a single quote, which the
spreadsheet shows as text. Only text is prefixed: a number written from an int, float or Decimal
(a negative amount included) stays a number, since no formula can come out of it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str | int | float | Decimal:
    """One cell as it may be written.

    >>> [safe_cell(v) for v in ('=HYPERLINK("http://x","y")', "-1+2", "@SUM(A1)", "plain", "a=b")]
    ['\\'=HYPERLINK("http://x","y")', "'-1+2", "'@SUM(A1)", 'plain', 'a=b']
    >>> [safe_cell(v) for v in (-5, 2.5, Decimal("-1.50"), None, True)]
    [-5, 2.5, Decimal('-1.50'), '', 'true']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunk(rows: Iterable[Sequence]) -> bytes:
    """Rows as CSV text (RFC 4180 quoting, CRLF line ends), every cell through `safe_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")
