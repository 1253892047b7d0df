"""Classes of language the offline parser reads since the accuracy run, each with its own phrasings.

The phrasings are this file's, not the eval set's: other values, words and order. Each answer's
rows equal a hand-written query on the mirror (as in test_semantic_parser), and the constructions
it cannot read in full decline with `not_understood`, naming the words.
"""

from __future__ import annotations

import time

import pytest

from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic import parse_question
from nlq.ask.semantic.lexicon import close_word
from tests.helpers import normal_rows
from tests.test_semantic_parser import TODAY, M, answer_and_gold, assert_declines, demo  # noqa: F401  (the shared demo fixture)

CASES = [
    # top N within each group: row_number() OVER (PARTITION BY ...)
    ("the most expensive purchase in each category (forecast cost)",
     "SELECT category, id, forecast_cost FROM (SELECT category, id, forecast_cost, row_number() OVER"
     f" (PARTITION BY category ORDER BY forecast_cost DESC NULLS LAST, id) AS n {M} AND source = 'Purchase') s"
     " WHERE n = 1"),
    ("top 3 manufacturers by plan cost within each area",
     "SELECT area, manufacturer, total FROM (SELECT area, manufacturer, sum(plan_cost) AS total, row_number() OVER"
     f" (PARTITION BY area ORDER BY sum(plan_cost) DESC NULLS LAST, manufacturer) AS n {M} GROUP BY 1, 2) s"
     " WHERE n <= 3"),
    ("for every area, which category has the highest total plan cost",
     "SELECT area, category, total FROM (SELECT area, category, sum(plan_cost) AS total, row_number() OVER"
     f" (PARTITION BY area ORDER BY sum(plan_cost) DESC NULLS LAST, category) AS n {M} GROUP BY 1, 2) s WHERE n = 1"),
    # time buckets: no NULL-date group; a year is its number
    ("actual cost per quarter of actual start",
     f"SELECT date_trunc('quarter', actual_start)::date, sum(actual_cost) {M} AND actual_start IS NOT NULL GROUP BY 1"),
    ("plan cost by year of plan end",
     f"SELECT extract(year FROM plan_end), sum(plan_cost) {M} AND plan_end IS NOT NULL GROUP BY 1"),
    # a condition on a group's named aggregate, shown
    ("classes where the average purchase price is above 50k",
     f"SELECT class, avg(purchase_price) {M} GROUP BY 1 HAVING avg(purchase_price) > 50000"),
    ("manufacturers with rentals averaging more than 200 days",
     f"SELECT manufacturer, avg(forecast_end - forecast_start) {M} AND source = 'Rental' GROUP BY 1"
     " HAVING avg(forecast_end - forecast_start) > 200"),
    # groups where no record matches several conditions
    ("which classes have no cancelled rentals",
     f"SELECT class, count(*) {M} GROUP BY 1 HAVING count(*) FILTER (WHERE is_discontinued AND source = 'Rental') = 0"),
    # compared with a figure computed over the same records
    ("how many generators have a monthly rate above the average monthly rate",
     f"SELECT count(*) {M} AND category = 'Generators' AND monthly_rate > (SELECT avg(monthly_rate) {M}"
     " AND category = 'Generators')"),
    ("categories whose total plan cost is higher than the average category's plan cost",
     f"SELECT category, sum(plan_cost) {M} GROUP BY 1 HAVING sum(plan_cost) > (SELECT avg(t) FROM"
     f" (SELECT sum(plan_cost) AS t {M} GROUP BY category) s)"),
    # several qualifiers of one measure
    ("average plan and actual cost of cranes", f"SELECT avg(plan_cost), avg(actual_cost) {M} AND category = 'Cranes'"),
    # rankings: N before the noun, N after the superlative, by a count, by a named aggregate
    ("which 4 classes have the highest average monthly rate",
     f"SELECT class, avg(monthly_rate) {M} GROUP BY 1 ORDER BY 2 DESC NULLS LAST LIMIT 4"),
    ("lowest 3 areas by total forecast cost", f"SELECT area, sum(forecast_cost) {M} GROUP BY 1 ORDER BY 2 LIMIT 3"),
    ("top 4 manufacturers by number of items", f"SELECT manufacturer, count(*) {M} GROUP BY 1 ORDER BY 2 DESC LIMIT 4"),
    ("the 3 priciest purchases by purchase price, with the price",
     f"SELECT id, purchase_price {M} AND source = 'Purchase' ORDER BY purchase_price DESC NULLS LAST LIMIT 3"),
    # shares: 'of the total', '%' as a word, said twice
    ("each area's share of the total plan cost, in percent",
     f"SELECT area, 100.0 * sum(plan_cost) / sum(sum(plan_cost)) OVER (), sum(plan_cost) {M} GROUP BY 1"),
    ("what % of the generators are rented",
     f"SELECT 100.0 * count(*) FILTER (WHERE source = 'Rental') / count(*) {M} AND category = 'Generators'"),
    # close spellings of the parser's own words
    ("totl plan cost by catgory", f"SELECT category, sum(plan_cost) {M} GROUP BY 1"),
    # 'on hire' during a period: the forecast period overlaps it
    ("how many generators are on hire during April 2027", f"SELECT count(*) {M} AND category = 'Generators'"
     " AND forecast_start <= '2027-04-30' AND forecast_end >= '2027-04-01'"),
    # window functions: rank numbers, running totals, change from the previous period
    ("rank the areas by plan cost", f"SELECT area, sum(plan_cost), rank() OVER (ORDER BY sum(plan_cost) DESC) {M} GROUP BY 1"),
    ("running total of forecast cost per month of forecast end",
     f"SELECT date_trunc('month', forecast_end)::date, sum(sum(forecast_cost)) OVER"
     f" (ORDER BY date_trunc('month', forecast_end)::date) {M} AND forecast_end IS NOT NULL GROUP BY 1"),
    # (shown two ways: the first quarter of the range against the one before it, and within the range only)
    ("quarter over quarter change in the number of rentals starting in 2027",
     f"SELECT q, n, n - before, n - lag(n) OVER (ORDER BY q) FROM (SELECT date_trunc('quarter', forecast_start)::date"
     f" AS q, count(*) AS n, lag(count(*)) OVER (ORDER BY date_trunc('quarter', forecast_start)::date) AS before"
     f" {M} AND source = 'Rental' AND forecast_start IS NOT NULL GROUP BY 1) t"
     " WHERE q >= '2027-01-01' AND q < '2028-01-01' ORDER BY q"),
    # counts of flagged records per group, shares within each group
    ("categories with more than 5 cancelled items",
     f"SELECT category, count(*) FILTER (WHERE is_discontinued) {M} GROUP BY 1"
     " HAVING count(*) FILTER (WHERE is_discontinued) > 5"),
    ("within each category, what share of its forecast cost does each area take",
     f"SELECT category, area, 100.0 * sum(forecast_cost) / sum(sum(forecast_cost)) OVER (PARTITION BY category)"
     f" {M} GROUP BY 1, 2"),
    # one distinctive word of a multi-word area; 'neither ... nor ... yet'; 'actually finished before'
    ("how many cranes at the tank", f"SELECT count(*) {M} AND category = 'Cranes' AND area = 'Tank Farm'"),
    ("plan cost of purchases that are neither cancelled nor on site yet",
     f"SELECT sum(plan_cost) {M} AND source = 'Purchase' AND NOT is_discontinued AND NOT is_actualized"),
    ("how many cranes actually finished before their planned end",
     f"SELECT count(*) {M} AND category = 'Cranes' AND actual_end < plan_end"),
    # 'so far' before the date
    ("how many cranes started so far this year", f"SELECT count(*) {M} AND category = 'Cranes'"
     " AND forecast_start >= '2026-01-01' AND forecast_start <= '2026-06-01'"),
]


@pytest.mark.parametrize("question, expected", CASES, ids=[q for q, _ in CASES])
def test_answers_equal_a_hand_written_query(demo, question, expected):  # noqa: F811
    assert_same_answer(demo, question, expected)


def _key(value) -> str:
    try:
        return f"{float(value):.2f}"
    except (TypeError, ValueError):
        return str(value)


def assert_same_answer(demo, question: str, expected: str) -> None:
    """The answer holds the hand-written query's rows; it may show more columns than the query, so
    the ones it names are compared."""
    got, want, sql, explanation = answer_and_gold(demo, question, expected)
    assert len(got) == len(want), (sql, explanation)
    width = len(want[0])
    columns = _matching_columns(got, want) if len(got[0]) != width else list(range(width))
    assert normal_rows([tuple(r[c] for c in columns) for r in got]) == normal_rows(want), (sql, explanation)


def _matching_columns(got, want) -> list[int]:
    """For each expected column, the answer column holding the same values (answers may carry more)."""
    picked = []
    for w in range(len(want[0])):
        wanted = sorted(_key(r[w]) for r in want)
        for g in range(len(got[0])):
            if g not in picked and sorted(_key(r[g]) for r in got) == wanted:
                picked.append(g)
                break
        else:
            pytest.fail(f"no answer column holds expected column {w}")
    return picked


@pytest.mark.parametrize("question, says", [
    ("the most expensive purchase in each category (forecast cost)", ["within each category"]),
    ("totl plan cost by catgory", ["'totl' read as 'total' (close spelling)", "'catgory' read as 'category'"]),
    ("actual cost per quarter of actual start", ["records without an actual start left out"]),
    ("how many generators have a monthly rate above the average monthly rate", ["over the same records"]),
])
def test_the_explanation_states_the_reading(demo, question, says):  # noqa: F811
    _, explanation = parse_question(question, demo[1], TODAY)
    for words in says:
        assert words in explanation, explanation


@pytest.mark.parametrize("question, words", [
    ("plan cost of the 2 categories with the most rentals", ["of the 2 categories"]),   # a figure over ranked groups
    ("the number of cranes ending this month and the number ending next month", None),  # one figure, twice
    ("how many generators are on hire", ["on hire"]),                                    # 'on hire' with no date
    ("who has the most cranes", ["who", "most"]),                                               # 'who' is not a stop word
    ("generators with a rate 20 % above the plan", None),                                # '%' is never dropped
])
def test_constructions_it_cannot_read_decline(demo, question, words):  # noqa: F811
    assert_declines(demo, question, words)


def test_close_spelling_never_reads_a_shorter_or_unrelated_word():
    assert close_word("plant") is None and close_word("colour") is None and close_word("blu") is None
    assert close_word("forcast") == "forecast" and close_word("quater") == "quarter"


def test_parsing_stays_fast(demo):  # noqa: F811
    """Not a speed target (that is `vanguard bench`): a guard against a pathological slowdown."""
    started = time.perf_counter()
    for question, _ in CASES:
        try:
            parse_question(question, demo[1], TODAY)
        except NotUnderstood:
            pass
    assert (time.perf_counter() - started) / len(CASES) < 0.1


@pytest.mark.parametrize("question, example", [
    ("how many generators start next quarter with a blue paint job", "how many rentals end next month"),
    ("top 4 classes weighted by risk", "top 5 areas by forecast cost"),
])
def test_a_decline_offers_phrasings_about_what_it_read(demo, question, example):  # noqa: F811
    with pytest.raises(NotUnderstood) as caught:
        parse_question(question, demo[1], TODAY)
    assert f'"{example}"' in caught.value.message
    assert caught.value.message.count('"') == 6  # three example phrasings
