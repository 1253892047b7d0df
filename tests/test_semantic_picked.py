"""A figure asked of the group a ranking picks, each part with conditions of its own ('in the area with
the biggest actual spend, how many items are on site now'), and lengths asked as a number of days
('on average how many days were the demobbed cranes on site', 'avg number of days slipped').

Every phrasing is this file's own. Each answer equals a hand-written query on the mirror.
"""

from __future__ import annotations

import pytest

from nlq.ask.semantic import parse_question
from tests.test_semantic_classes import assert_same_answer
from tests.test_semantic_parser import TODAY, M, assert_declines, demo  # noqa: F401  (the shared demo fixture)

ON_SITE = "is_actualized AND actual_end IS NULL"


def top(column: str, order: str, where: str = "") -> str:
    """The one `column` value a ranking picks, as a subquery."""
    return f"(SELECT {column} {M} {where} GROUP BY {column} ORDER BY {order} LIMIT 1)"


ANSWERED = [
    # the ranking's conditions rank, the figure's conditions count
    ("total plan cost of generators in the area with the most cranes",
     f"SELECT sum(plan_cost) {M} AND category = 'Generators' AND area = "
     f"{top('area', 'count(*) DESC', chr(32) + 'AND category = ' + chr(39) + 'Cranes' + chr(39))}"),
    ("how many rentals are in the class with the highest forecast cost",
     f"SELECT count(*) {M} AND source = 'Rental' AND class = {top('class', 'sum(forecast_cost) DESC')}"),
    ("in the category with the largest plan cost, how many items are rentals",
     f"SELECT count(*) {M} AND source = 'Rental' AND category = {top('category', 'sum(plan_cost) DESC')}"),
    ("for the manufacturer that has the most rentals, what is the total actual cost",
     f"SELECT sum(actual_cost) {M} AND manufacturer = "
     f"{top('manufacturer', 'count(*) DESC', chr(32) + 'AND source = ' + chr(39) + 'Rental' + chr(39))}"),
    ("average monthly rate of rentals in the area with the lowest plan cost",
     f"SELECT avg(monthly_rate) {M} AND source = 'Rental' AND area = {top('area', 'sum(plan_cost) ASC')}"),
    ("in the class with the highest plan cost, how many of those items are rentals",
     f"SELECT count(*) {M} AND source = 'Rental' AND class = {top('class', 'sum(plan_cost) DESC')}"),
    # 'of those': the records said first that also meet what follows
    ("rentals with a monthly rate over 20000 - how many of those are cranes",
     f"SELECT count(*) {M} AND source = 'Rental' AND monthly_rate > 20000 AND category = 'Cranes'"),
    ("purchases in silo 2, and of those, how many have arrived",
     f"SELECT count(*) {M} AND source = 'Purchase' AND area = 'Silo 2' AND is_actualized"),
    ("generators at the camp - which of them are rented",
     f"SELECT id {M} AND category = 'Generators' AND area = 'Camp' AND source = 'Rental'"),
    # a number of days: the length another word names, or else the period
    ("on average how many days were the demobilised cranes actually on site",
     f"SELECT avg(actual_end - actual_start) {M} AND category = 'Cranes' AND actual_end IS NOT NULL"),
    ("average number of days slipped for welders",
     f"SELECT avg(forecast_end - plan_end) {M} AND category = 'Welding'"),
    ("on average how many days is a crane forecast on hire",
     f"SELECT avg(forecast_end - forecast_start) {M} AND category = 'Cranes'"),
    ("avg number of days on site for the rentals that have been demobbed",
     f"SELECT avg(actual_end - actual_start) {M} AND source = 'Rental' AND actual_end IS NOT NULL"),
    # the time on site up to today, of items still there
    ("which rental has been on site the longest",
     f"SELECT id, DATE '2026-06-01' - actual_start {M} AND source = 'Rental' AND {ON_SITE} "
     f"ORDER BY actual_start LIMIT 1"),
    ("for kit still on site, how many days on average since it arrived",
     f"SELECT avg(DATE '2026-06-01' - actual_start) {M} AND {ON_SITE}"),
    ("the longest any crane currently on site has been there so far, in days",
     f"SELECT max(DATE '2026-06-01' - actual_start) {M} AND category = 'Cranes' AND {ON_SITE}"),
]


@pytest.mark.parametrize("question, expected", ANSWERED)
def test_answers_equal_a_hand_written_query(demo, question, expected):  # noqa: F811
    assert_same_answer(demo, question, expected)


DECLINED = [
    # the ranking part is not one group picked by a ranking
    ("total plan cost in the area with the most cranes per category", None),
    # a part it cannot read declines the whole question
    ("in the area with the most cranes, how many gizmos are there", ["gizmos"]),
]


@pytest.mark.parametrize("question, words", DECLINED)
def test_what_it_cannot_read_declines(demo, question, words):  # noqa: F811
    assert_declines(demo, question, words)


def test_overdue_the_longest_ranks_by_days_overdue(demo):  # noqa: F811
    # (the demo has nothing overdue on its fixed today, so the reading is checked, not rows)
    sql, explanation = parse_question("the 5 items overdue the longest", demo[1], TODAY)
    assert "ORDER BY (CAST('2026-06-01' AS DATE) - forecast_end) DESC" in sql and sql.endswith("LIMIT 5")
    assert "forecast_end < CAST('2026-06-01' AS DATE)" in sql
    assert "read as the days overdue (today - forecast end)" in explanation


def test_the_explanation_gives_both_steps_and_names_the_group(demo):  # noqa: F811
    sql, explanation = parse_question("in the class with the highest plan cost, how many are on site", demo[1], TODAY)
    assert "read as two steps: first 'which class has the highest plan cost'" in explanation
    assert "then 'how many are on site' for that class's records only" in explanation
    assert sql.startswith("SELECT (SELECT class FROM")  # the picked class is shown beside the figure
