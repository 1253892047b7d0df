"""CSV the product writes cannot carry spreadsheet formulas: text cells that begin with = + - @ tab
or carriage return get a leading single quote; numbers stay numbers."""

from __future__ import annotations

import csv
import doctest
import io
from decimal import Decimal

import pytest

import nlq.csv_export
from nlq.csv_export import csv_chunk, safe_cell

FORMULA = '=HYPERLINK("http://x","y")'


async def test_a_question_typed_as_a_formula_comes_out_of_the_audit_export_as_text(api):
    # Any viewer can type it; the offline model cannot answer it, and it is audited all the same.
    for question in (FORMULA, "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"):  # (questions are stripped of tabs)
        response = await api.post("viewer_a", "/api/ai/query", {"org_id": "ORG_A", "question": question})
        assert response.status_code == 200
    export = await api.get("admin_a", "/api/pfa/ORG_A/audit/export?format=csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    # What a spreadsheet does: split the file into cells; a cell that starts with = is a formula.
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8"), newline="")))
    questions = [row["question"] for row in rows]
    assert questions[0] == "'" + FORMULA
    assert questions[1:] == ["'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(1+1)"]
    for row in rows:
        assert not any(cell.startswith(nlq.csv_export.FORMULA_STARTS) for cell in row.values()), row
        assert row["id"].isdigit() and row["user_id"].isdigit()  # numbers stay numbers


@pytest.mark.parametrize("value, written", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("1+1", "1+1"), ("a=b", "a=b"), (" =1", " =1"), ("", ""), (None, ""),
    (-1, "-1"), (-2.5, "-2.5"), (Decimal("-3.10"), "-3.10"), (0, "0"), (True, "true"), (False, "false"),
])
def test_cells_as_a_spreadsheet_reads_them(value, written):
    text = csv_chunk([[value, "end"]]).decode()
    assert next(csv.reader(io.StringIO(text, newline=""))) == [written, "end"]


def test_safe_cell_keeps_numbers_as_numbers():
    assert safe_cell(-7) == -7 and isinstance(safe_cell(Decimal("-1")), Decimal)


def test_doctests():
    assert doctest.testmod(nlq.csv_export).failed == 0
