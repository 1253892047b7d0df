"""Follow-ups for the offline reader: refinement forms combined with the previous reading."""

from __future__ import annotations

from datetime import date

import pytest

from nlq.ask.followup import read_followup, refinement
from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic import Vocabulary, parse_question

VOCABULARY = Vocabulary.build({"category": ["Cranes", "Pumps", "Concrete"], "area": ["Silo 1", "Silo 4", "Tank Farm"]})


def parse(question: str):
    return parse_question(question, VOCABULARY, date(2026, 12, 1))


@pytest.mark.parametrize("previous, follow_up, read_as", [
    ("how many cranes are rented?", "and for purchases?", "how many cranes are purchases"),
    ("how many cranes are rented?", "what about pumps", "how many pumps are rented"),
    ("how many cranes are rented in Silo 1", "only Silo 4", "how many cranes are rented in Silo 4"),
    ("how many cranes are rented", "only Silo 4", "how many cranes are rented Silo 4"),
    ("how many cranes are rented", "what about pumps in Tank Farm", "how many pumps are rented in Tank Farm"),
    ("how many cranes not in Silo 4", "only Silo 1", "how many cranes Silo 1"),
    ("how many cranes per area", "without Silo 4", "how many cranes per area excluding Silo 4"),
    ("total forecast cost by area", "per category instead", "total forecast cost per category"),
    ("total forecast cost by area", "as a chart by month", "total forecast cost per month"),
    ("total forecast cost by area", "as a chart", "total forecast cost by area"),
    ("how many cranes", "and per month", "how many cranes by month"),
])
def test_a_refinement_is_combined_with_the_previous_reading(previous, follow_up, read_as):
    reading = read_followup(follow_up, previous, parse)
    assert reading.question == read_as
    assert reading.how.startswith(f"Follow-up of \u201c{previous.rstrip('?')}\u201d: ")
    parse(reading.question)  # the parser reads the combination whole


def test_a_replaced_value_is_said_in_the_explanation():
    reading = read_followup("and for purchases?", "how many cranes are rented?", parse)
    assert "\u2018purchases\u2019 in place of \u2018rented\u2019 (source)" in reading.how


@pytest.mark.parametrize("previous, follow_up, words", [
    ("how many cranes", "only zorblax", ["zorblax"]),
    ("total forecast cost of cranes", "as a chart", []),
    ("how many cranes per area", "sort by flurble", ["flurble"]),
])
def test_a_refinement_that_cannot_be_combined_is_declined(previous, follow_up, words):
    with pytest.raises(NotUnderstood) as caught:
        read_followup(follow_up, previous, parse)
    assert caught.value.code == "not_understood" and f"could not combine \u201c{follow_up}\u201d" in caught.value.message
    assert all(w in caught.value.details["words"] for w in words)


@pytest.mark.parametrize("question", ["how many cranes are rented?", "total cost by area", "list pumps in Silo 4"])
def test_a_whole_question_is_read_as_it_is(question):
    assert refinement(question) is None
    assert read_followup(question, "how many cranes", parse).question == question


def test_without_a_previous_reading_a_refinement_is_read_alone():
    assert read_followup("only Silo 4", None, parse).question == "only Silo 4"
    assert read_followup("only Silo 4", None, parse).how is None


def test_a_refinement_is_never_read_alone_when_it_cannot_be_combined():
    # The previous reading no longer reads (its value left the vocabulary): "only Silo 4" alone would
    # answer a different question, so it is declined.
    with pytest.raises(NotUnderstood):
        read_followup("only Silo 4", "how many zorblax", parse)
