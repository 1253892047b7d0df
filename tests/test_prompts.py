"""Prompt templates: strict about their inputs, built from the registry, never carrying rows."""

from __future__ import annotations

import jinja2
import pytest

from nlq.ask.catalog import build_catalog
from prompts.render import render, template_source_sha256
from store.fields import FIELDS


def test_the_sql_prompt_lists_every_column_with_its_meaning_and_allowed_values():
    prompt = render("sql", catalog=build_catalog(), question="how many rentals?")
    for field in FIELDS:
        assert f"- {field.column} ({field.type.value}): {field.meaning}" in prompt.system
    assert "one of Rental, Purchase" in prompt.system and "one of BEO, PROJECT" in prompt.system
    assert "rental, rentals, rented, hired -> source = 'Rental'" in prompt.system
    assert prompt.user == "Question: how many rentals?"
    assert prompt.messages()[0]["role"] == "system" and prompt.estimated_tokens > 100


@pytest.mark.parametrize("name, inputs", [
    ("sql", {"catalog": build_catalog()}),
    ("repair", {"catalog": build_catalog(), "question": "q", "failed_sql": "SELECT 1"}),
    ("explain", {"catalog": build_catalog(), "question": "q"}),
])
def test_a_missing_input_is_an_error_not_an_empty_string(name, inputs):
    with pytest.raises(jinja2.UndefinedError):
        render(name, **inputs)


def test_repair_prompts_carry_the_failed_sql_and_reasons_and_nothing_else():
    prompt = render("repair", catalog=build_catalog(), question="top cranes", failed_sql="SELECT pg_sleep(1)",
                    reasons=["forbidden_function: function pg_sleep is not allowed"])
    assert "SELECT pg_sleep(1)" in prompt.user and "forbidden_function" in prompt.user
    assert prompt.system == render("sql", catalog=build_catalog(), question="x").system


def test_prompt_hashes_change_with_content():
    a = render("sql", catalog=build_catalog(), question="a")
    b = render("sql", catalog=build_catalog(), question="b")
    assert a.sha256 != b.sha256 and len(a.sha256) == 64
    assert len(template_source_sha256("sql")) == 64


def test_the_bulk_prompt_lists_every_editable_field_with_its_operations():
    from nlq.ask.catalog import editable_fields
    from store.fields import EDITABLE_KEYS
    fields = editable_fields()
    assert {f.key for f in fields} == EDITABLE_KEYS
    prompt = render("bulk", catalog=build_catalog(), editable=fields, request="extend all concrete by 2 weeks")
    assert "- forecastEnd (date): current forecast end; ops: shift_days, set" in prompt.system
    assert "- monthlyRate (numeric): rental rate per month; ops: set, add, scale_pct" in prompt.system
    assert "ops: set; one of Rental, Purchase" in prompt.system
    assert prompt.user == "Request: extend all concrete by 2 weeks"


def test_a_conversation_block_carries_earlier_questions_and_their_sql_only():
    from dataclasses import fields

    from nlq.ask.turns import EarlierTurn, Turn, prompt_context
    earlier = (EarlierTurn("how many rentals per area", "SELECT area, count(*)\nFROM pfa_merged GROUP BY 1"),
               EarlierTurn("only Silo 4", None))
    turn = Turn(conversation_id="c", turn_id=1, position=3, earlier=earlier)
    for name, extra in (("sql", {}), ("repair", {"failed_sql": "SELECT 1", "reasons": ["r"]})):
        prompt = render(name, catalog=build_catalog(), question="and for purchases?", **extra, **prompt_context(turn))
        assert prompt.user.startswith("Earlier in this conversation (oldest first).")
        assert ("- Question: how many rentals per area\n  Statement: SELECT area, count(*) FROM pfa_merged GROUP BY 1\n"
                "- Question: only Silo 4\n\nQuestion: and for purchases?") in prompt.user
        plain = render(name, catalog=build_catalog(), question="and for purchases?", **extra, **prompt_context(None))
        assert "Earlier" not in plain.user and prompt.system == plain.system
    # A turn's rows have no way into a prompt: the prompt's view of a turn has no field for them.
    assert [f.name for f in fields(EarlierTurn)] == ["question", "sql"]
