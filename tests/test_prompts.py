"""Prompt templates: strict about their inputs, built from the registry and the guardrails' own
lists, stating the conventions of the gold SQL, never carrying rows."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import jinja2
import pytest

from guardrails import policy
from nlq.ask.catalog import build_catalog, editable_fields
from nlq.ask.conventions import DRAFT_RULES, MEANINGS, columns_in, conventions_for
from prompts.render import render, template_source_sha256
from store.bulk_changes import Change, apply_changes, check_changes
from store.draft_rules import check_draft
from store.fields import FIELDS

TODAY = date(2026, 3, 17)
CONVENTIONS = conventions_for(1000, TODAY)
EVAL_HEADER = (Path(__file__).resolve().parent.parent / "nlq" / "eval" / "questions.toml").read_text().split("[[question]]")[0]


def sql_prompt(question: str = "how many rentals?"):
    return render("sql", catalog=build_catalog(), conventions=CONVENTIONS, question=question)


def bulk_prompt(request: str = "extend all concrete by 2 weeks"):
    return render("bulk", catalog=build_catalog(), conventions=CONVENTIONS,
                  editable={f.column: f for f in editable_fields()}, request=request)


def test_the_sql_prompt_lists_every_column_with_its_meaning_and_allowed_values():
    prompt = sql_prompt()
    for field in FIELDS:
        assert f"- {field.column} ({field.type.value}): {field.meaning}" in prompt.system
    assert "one of Rental, Purchase" in prompt.system and "one of BEO, PROJECT" in prompt.system
    assert "rental, rentals, rented, hired -> source = 'Rental'" in prompt.system
    assert prompt.user == "Question: how many rentals?"
    assert prompt.messages()[0]["role"] == "system" and prompt.estimated_tokens > 100


@pytest.mark.parametrize("name, inputs", [
    ("sql", {"catalog": build_catalog(), "conventions": CONVENTIONS}),
    ("sql", {"catalog": build_catalog(), "question": "q"}),
    ("repair", {"catalog": build_catalog(), "conventions": CONVENTIONS, "question": "q", "failed_sql": "SELECT 1"}),
    ("explain", {"catalog": build_catalog(), "sql": "SELECT 1"}),
    ("bulk", {"catalog": build_catalog(), "editable": {}, "request": "r"}),
])
def test_a_missing_input_is_an_error_not_an_empty_string(name, inputs):
    with pytest.raises(jinja2.UndefinedError):
        render(name, **inputs)


def test_repair_prompts_carry_the_failed_sql_and_reasons_and_nothing_else():
    prompt = render("repair", catalog=build_catalog(), conventions=CONVENTIONS, question="top cranes",
                    failed_sql="SELECT pg_sleep(1)", reasons=["forbidden_function: function pg_sleep is not allowed"])
    assert "SELECT pg_sleep(1)" in prompt.user and "forbidden_function" in prompt.user
    assert prompt.system == sql_prompt("x").system


def test_prompt_hashes_change_with_content():
    a, b = sql_prompt("a"), sql_prompt("b")
    assert a.sha256 != b.sha256 and len(a.sha256) == 64
    assert len(template_source_sha256("sql")) == 64


def test_the_sql_prompt_states_today_and_what_the_words_mean():
    system = sql_prompt().system
    assert "Today is 2026-03-17 (CURRENT_DATE in SQL)." in system
    for meaning in MEANINGS:
        assert f"- {meaning}\n" in system
    for word in ('"by now"', '"so far"', '"on site now"', '"finished"', '"Overdue"', '"arrival delay"', '"Slip"',
                 "end - start in days", "date_trunc('month' | 'quarter'", "Cancelled records (is_discontinued) count"):
        assert word in system, word
    assert "An answer shows at most 1,000 rows" in system and "prefer a count, total or grouping" in system
    assert "1,000" not in render("sql", catalog=build_catalog(), conventions=conventions_for(50, TODAY),
                                 question="q").system


# Each pair: how the accuracy set's gold SQL is described in its header, and how the prompt says it.
AGREEMENTS = [
    ('"On site" (now) = is_actualized AND actual_end IS NULL', '"On site" or "on site now" = is_actualized AND actual_end IS NULL'),
    ('"finished" = actual_end IS NOT NULL', '"finished", "left site", "demobilised" = actual_end IS NOT NULL'),
    ('"overdue" = on site with forecast_end before today', '"Overdue" = on site now with forecast_end before today'),
    ('"so far" = up to and including today', '"so far" and "by now" mean up to and including today'),
    ('"Slipped" = forecast_end later than plan_end, by forecast_end - plan_end days',
     '"Slip" (slipped, late) = forecast_end - plan_end in days, slipped when forecast_end > plan_end'),
    ("Durations are end - start in days", "Durations are end - start in days"),
    ("a length with no qualifier is the forecast period (forecast_end - forecast_start)",
     "a length with no qualifier is forecast_end - forecast_start"),
    ("date_trunc('month' | 'quarter', ...)", "date_trunc('month' | 'quarter', <date>)"),
    ("years by EXTRACT(year FROM ...)", "years with EXTRACT(year FROM <date>)"),
    ("Cancelled (is_discontinued) records count unless the question excludes them",
     "Cancelled records (is_discontinued) count unless the question excludes them"),
    ('"budget", "baseline" = plan_cost', '"budget", "baseline" = plan_cost'),
    ('"in the next N days" = from today through today + N', '"in the next N days" = CURRENT_DATE through CURRENT_DATE + N'),
]


@pytest.mark.parametrize("gold, prompt", AGREEMENTS)
def test_the_prompt_agrees_with_the_conventions_of_the_gold_sql(gold, prompt):
    header = " ".join(line.lstrip("# ").strip() for line in EVAL_HEADER.splitlines())
    assert gold in header, "the accuracy set's conventions changed: update nlq/ask/conventions.py to match"
    assert prompt in " ".join(sql_prompt().system.split())


def test_no_glossary_entry_contradicts_the_conventions():
    glossary = build_catalog().glossary
    assert not any("budget" in words or "on site" in words or "slip" in words for words in glossary)


def test_the_prompt_lists_exactly_the_functions_casts_and_refusals_of_the_guardrails():
    system = sql_prompt().system
    (functions,) = re.findall(r"^Functions allowed \(any other is refused\): (.*)\.$", system, re.MULTILINE)
    assert tuple(functions.split(", ")) == policy.allowed_functions()
    (casts,) = re.findall(r"^Casts allowed: (.*)\.$", system, re.MULTILINE)
    assert tuple(casts.split(", ")) == policy.allowed_casts()
    block = system[system.index("The service checks every statement"):system.index("Functions allowed")]
    listed = [line[2:] for line in block.splitlines() if line.startswith("- ")]
    assert listed == [rule for _, rule in policy.refusals()]
    (tried,) = re.findall(r"^Often tried and refused: (.*)\.$", system, re.MULTILINE)
    assert tuple(tried.split("; ")) == policy.refused_examples()
    assert "generate_series" in tried and "regular expressions" in tried and "VALUES lists" in tried


def test_the_prompt_offers_a_way_to_decline():
    system = sql_prompt().system
    assert '{"sql": null, "decline": "<one polite sentence saying what is missing>"}' in system
    assert "do not guess" in system


def _column_lines(text: str) -> list[str]:
    return [c.name for c in build_catalog().columns for line in text.splitlines()
            if line.startswith(f"- {c.name} (")]


@pytest.mark.parametrize("prompt", [
    sql_prompt(), bulk_prompt(),
    render("repair", catalog=build_catalog(), conventions=CONVENTIONS, question="q", failed_sql="SELECT 1", reasons=["r"]),
], ids=["sql", "bulk", "repair"])
def test_each_request_carries_the_column_list_once(prompt):
    text = prompt.system + "\n" + prompt.user
    assert text.count("Columns of `pfa_merged`") == 1
    assert sorted(_column_lines(text)) == sorted(c.name for c in build_catalog().columns)


def test_the_explanation_prompt_gets_the_statement_and_only_the_columns_it_names():
    statement = "SELECT area, sum(forecast_cost) AS cost FROM pfa_merged WHERE source = 'Rental' GROUP BY area"
    prompt = render("explain", catalog=build_catalog(), sql=statement, used=columns_in(statement, build_catalog()))
    assert prompt.user == f"Statement: {statement}"
    assert _column_lines(prompt.system) == ["area", "source", "forecast_cost"]
    assert "Question" not in prompt.user
    everything = columns_in("SELECT * FROM pfa_merged", build_catalog())
    assert len(everything) == len(build_catalog().columns)
    assert columns_in("SELECT count(*) FROM pfa_merged", build_catalog()) == ()


def test_the_bulk_prompt_lists_every_editable_field_with_its_operations():
    fields = editable_fields()
    prompt = bulk_prompt()
    for f in fields:
        assert f"; editable as {f.key}: {', '.join(f.ops)}" in prompt.system
    assert "- forecast_end (date): current forecast end; editable as forecastEnd: shift_days, set" in prompt.system
    assert "- monthly_rate (numeric): rental rate per month; editable as monthlyRate: set, add, scale_pct" in prompt.system
    assert "one of Rental, Purchase; editable as source: set" in prompt.system
    assert "- plan_start (date): planned start (locked baseline)\n" in prompt.system  # not editable
    assert prompt.user == "Request: extend all concrete by 2 weeks"
    assert "Today is 2026-03-17" in prompt.system and "Functions allowed" in prompt.system


def _codes_the_draft_rules_report() -> set[str]:
    """Every rule code a bulk proposal can skip a record for, found by breaking each rule."""
    found = set()
    pems_on_site = {"isActualized": True, "forecastStart": "2026-01-01", "source": "Rental"}
    cases = [
        ({"forecastStart": "2026-02-01"}, {"forecastStart": "2026-01-01"}, pems_on_site),
        ({"forecastEnd": "2025-01-01"}, {"forecastStart": "2026-01-01"}, {}),
        ({"source": "Rental"}, {"monthlyRate": None}, {}),
        ({"source": "Purchase"}, {"purchasePrice": None}, {}),
        ({"isFundsTransferable": True}, {"isDiscontinued": True}, {}),
        ({"isDiscontinued": False}, {}, {"isDiscontinued": True}),
        ({"monthlyRate": -5}, {}, {}),
    ]
    for changes, current, pems in cases:
        found.update(v.rule for v in check_draft("P-1", changes, current, pems))
    _, problem = apply_changes("P-1", {"monthlyRate": None}, [Change("monthlyRate", "scale_pct", 10)])
    found.add(problem.rule)
    return found


def test_the_bulk_prompt_carries_the_draft_rules_by_the_codes_they_report():
    system = bulk_prompt().system
    for rule in DRAFT_RULES:
        assert f"- {rule}\n" in system
    stated = set(re.findall(r"\(([a-z_]+(?:, [a-z_]+)*)\)", " ".join(DRAFT_RULES)))
    stated = {code for group in stated for code in group.split(", ")}
    assert stated == _codes_the_draft_rules_report()
    assert "locked_when_actualized" in system and "scaling an empty rate changes nothing" in system
    assert any("shift_days" in r for r in check_changes([Change("forecastEnd", "shift_days", 4000)]))
    assert "at most 3,650" in system


def test_a_conversation_block_carries_earlier_questions_and_their_sql_only():
    from dataclasses import fields

    from nlq.ask.turns import EarlierTurn, Turn, prompt_context
    earlier = (EarlierTurn("how many rentals per area", "SELECT area, count(*)\nFROM pfa_merged GROUP BY 1"),
               EarlierTurn("only Silo 4", None))
    turn = Turn(conversation_id="c", turn_id=1, position=3, earlier=earlier)
    for name, extra in (("sql", {}), ("repair", {"failed_sql": "SELECT 1", "reasons": ["r"]})):
        prompt = render(name, catalog=build_catalog(), conventions=conventions_for(1000), question="and for purchases?",
                        **extra, **prompt_context(turn))
        assert prompt.user.startswith("Earlier in this conversation (oldest first).")
        assert ("- Question: how many rentals per area\n  Statement: SELECT area, count(*) FROM pfa_merged GROUP BY 1\n"
                "- Question: only Silo 4\n\nQuestion: and for purchases?") in prompt.user
        plain = render(name, catalog=build_catalog(), conventions=conventions_for(1000), question="and for purchases?",
                       **extra, **prompt_context(None))
        assert "Earlier" not in plain.user and prompt.system == plain.system
    # A turn's rows have no way into a prompt: the prompt's view of a turn has no field for them.
    assert [f.name for f in fields(EarlierTurn)] == ["question", "sql"]
