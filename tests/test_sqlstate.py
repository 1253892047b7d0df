"""Database errors leave the service as SQLSTATE, class and a fixed message: no server text."""

from __future__ import annotations

import doctest
import importlib

import pytest

from store.sqlstate import CLASS_NAMES, MESSAGES, describe_sqlstate


@pytest.mark.parametrize("module", ["store.sqlstate", "store.reader", "nlq.ask.explain"])
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


def test_every_fixed_message_belongs_to_a_known_class_and_names_no_value():
    for state, message in MESSAGES.items():
        assert state[:2] in CLASS_NAMES
        assert not any(ch.isdigit() for ch in message) and "'" not in message and '"' not in message


@pytest.mark.parametrize("state, klass, name", [
    ("22008", "22", "data_exception"), ("42703", "42", "syntax_error_or_access_rule_violation"),
    ("53200", "53", "insufficient_resources"), ("0A000", "0A", "feature_not_supported"),
])
def test_known_states_get_their_class(state, klass, name):
    described = describe_sqlstate(state)
    assert (described["sqlstate"], described["class"], described["class_name"]) == (state, klass, name)
    assert described["reason"]


@pytest.mark.parametrize("junk", [None, "", "2200", "22008x", "date field value out of range: 2000-68150-01", 22008])
def test_anything_that_is_not_a_sqlstate_says_nothing_of_itself(junk):
    described = describe_sqlstate(junk)
    assert described["sqlstate"] == "" and described["class_name"] == "unknown"
    assert "68150" not in repr(described)
