"""The verified-examples prompt block: its own template, in front of the question, system unchanged."""

from __future__ import annotations

import doctest

import prompts.examples
import store.examples
from nlq.ask.catalog import build_catalog
from nlq.ask.conventions import conventions_for
from prompts.examples import with_examples
from prompts.render import render
from store.examples import Example


def test_doctests():
    for module in (prompts.examples, store.examples):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0


def test_the_block_goes_before_the_question_and_the_system_message_stays_the_same():
    plain = render("sql", catalog=build_catalog(), conventions=conventions_for(1000), question="cranes per area")
    examples = [Example(7, "cranes by area", "SELECT area, count(*) FROM pfa_merged GROUP BY area"),
                Example(3, "rented cranes", "SELECT count(*) FROM pfa_merged WHERE source = 'Rental'")]
    carried = with_examples(plain, examples)
    assert carried.system == plain.system and carried.template == plain.template
    assert carried.user.endswith(plain.user) and carried.sha256 != plain.sha256
    first, second = carried.user.index("cranes by area"), carried.user.index("rented cranes")
    assert first < second < carried.user.index(plain.user)  # best first, the question last
    assert "SQL: SELECT area, count(*) FROM pfa_merged GROUP BY area" in carried.user
    assert with_examples(plain, []) is plain
