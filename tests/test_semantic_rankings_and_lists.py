"""Rankings within groups ('the 2 biggest rentals in each area', 'top manufacturer by spend in each
category', 'the latest arrival in each area'), lists of different values ('list the different models
from caterpillar'), comparisons said after their number ('8 or more', '150 items or more') and site
shorthand ('tot', "mob'd", 'power gen', 'break down ... by', 'planned to run').

Every phrasing is this file's own. Each answer equals a hand-written query on the mirror.
"""

from __future__ import annotations

import pytest

from nlq.ask.semantic import parse_question
from tests.test_semantic_classes import assert_same_answer
from tests.test_semantic_parser import TODAY, M, assert_declines, demo  # noqa: F401  (the shared demo fixture)


def ranked(partition: str, measure: str, n: int, where: str = "", rows: str = "id") -> str:
    return (f"SELECT {partition}, {rows}, v FROM (SELECT {partition}, {rows}, {measure} AS v, rank() OVER (PARTITION BY "
            f"{partition} ORDER BY {measure} DESC NULLS LAST) AS r {M} {where}"
            f"{' GROUP BY ' + partition + ', ' + rows if rows != 'id' else ''}) x WHERE r <= {n}")


ANSWERED = [
    # the rows are records ranked within each group, by the measure said or forecast cost
    ("the 3 biggest overruns in each category", ranked("category", "(forecast_cost - plan_cost)", 3)),
    ("the 2 biggest purchases in each area", ranked("area", "forecast_cost", 2, "AND source = 'Purchase'")),
    # 'top' with a singular noun is one per group
    ("top class by plan cost in each category", ranked("category", "sum(plan_cost)", 1, rows="class")),
    # the latest arrival is a record's, shown with its date
    ("the most recent arrival in each category",
     f"SELECT category, id, actual_start FROM (SELECT category, id, actual_start, rank() OVER (PARTITION BY category "
     f"ORDER BY actual_start DESC NULLS LAST) AS r {M}) x WHERE r = 1"),
    # the different values themselves when no count is asked for
    ("list the different classes we rent from liebherr",
     f"SELECT DISTINCT class {M} AND manufacturer = 'Liebherr' AND source = 'Rental'"),
    ("unique areas with cancelled cranes",
     f"SELECT DISTINCT area {M} AND category = 'Cranes' AND is_discontinued"),
    # a comparison said after its number
    ("which areas have 12 or more cranes",
     f"SELECT area {M} GROUP BY area HAVING count(*) FILTER (WHERE category = 'Cranes') >= 12"),
    ("rentals with a monthly rate of 20000 or above",
     f"SELECT id {M} AND source = 'Rental' AND monthly_rate >= 20000"),
    ("cranes of 400 days or longer", f"SELECT id {M} AND category = 'Cranes' AND forecast_end - forecast_start >= 400"),
    ("areas with 170 items or fewer", f"SELECT area {M} GROUP BY area HAVING count(*) <= 170"),
    # site shorthand
    ("tot plan cost of the power gen kit", f"SELECT sum(plan_cost) {M} AND category = 'Generators'"),
    ("how many welders have been mob'd", f"SELECT count(*) {M} AND category = 'Welding' AND is_actualized"),
    ("break down the number of items by area and category",
     f"SELECT area, category, count(*) {M} GROUP BY area, category"),
    ("cranes planned to run longer than 500 days",
     f"SELECT id {M} AND category = 'Cranes' AND plan_end - plan_start > 500"),
    ("how many rentals are forecast to be needed for more than 400 days",
     f"SELECT count(*) {M} AND source = 'Rental' AND forecast_end - forecast_start > 400"),
    ("how many cranes are planned to be on hire for over 300 days",
     f"SELECT count(*) {M} AND category = 'Cranes' AND plan_end - plan_start > 300"),
    ("how many welders are still to arrive", f"SELECT count(*) {M} AND category = 'Welding' AND NOT is_actualized"),
    ("how many generators haven't shown up on site",
     f"SELECT count(*) {M} AND category = 'Generators' AND NOT is_actualized"),
    ("total plan cost that BEO pays for cranes", f"SELECT sum(plan_cost) {M} AND dor = 'BEO' AND category = 'Cranes'"),
    ("how many RT cranes r there", f"SELECT count(*) {M} AND class = 'Rough Terrain Crane 60T'"),
    ("avg mthly rate for evry category", f"SELECT category, avg(monthly_rate) {M} GROUP BY category"),
    ("how many unique equipment tags are on the books",
     f"SELECT count(DISTINCT equipment_tag) {M}"),
    # an aggregate with no measure after others of one measure is of that measure
    ("lowest and highest monthly rate on the job, and the average",
     f"SELECT min(monthly_rate), max(monthly_rate), avg(monthly_rate) {M}"),
    ("what share of the forecast cost sits with BEO",
     f"SELECT 100.0 * sum(forecast_cost) FILTER (WHERE dor = 'BEO') / sum(forecast_cost) {M}"),
]


ANSWERED += [
    # which end ranks 1, and ranks without gaps
    ("rank the areas by plan cost, 1 = lowest",
     f"SELECT area, sum(plan_cost), rank() OVER (ORDER BY sum(plan_cost) ASC) {M} GROUP BY area"),
    ("rank the categories by actual cost from smallest to largest",
     f"SELECT category, sum(actual_cost), rank() OVER (ORDER BY sum(actual_cost) ASC) {M} GROUP BY category"),
    ("dense rank the areas by record count, biggest first",
     f"SELECT area, count(*), dense_rank() OVER (ORDER BY count(*) DESC) {M} GROUP BY area"),
    # a date said after a place belongs to the event or the flag said before the place
    ("how many cranes were delivered to the jetty since march",
     f"SELECT count(*) {M} AND category = 'Cranes' AND area = 'Jetty' AND actual_start >= DATE '2026-03-01' "
     "AND actual_start <= DATE '2026-06-01'"),
    ("rentals ending at the camp in 2027",
     f"SELECT id {M} AND source = 'Rental' AND area = 'Camp' AND extract(year FROM forecast_end) = 2027"),
    ("how many items are on hire at the jetty on 1 march 2027",
     f"SELECT count(*) {M} AND area = 'Jetty' AND forecast_start <= DATE '2027-03-01' "
     "AND forecast_end >= DATE '2027-03-01'"),
    # the change from the previous period over the bucket said after 'by'
    ("year over year change in actual cost by actual start year",
     f"SELECT extract(year FROM actual_start) AS y, sum(actual_cost), sum(actual_cost) - lag(sum(actual_cost)) OVER "
     f"(ORDER BY extract(year FROM actual_start)) {M} AND actual_start IS NOT NULL GROUP BY 1"),
]


@pytest.mark.parametrize("question, expected", ANSWERED)
def test_answers_equal_a_hand_written_query(demo, question, expected):  # noqa: F811
    assert_same_answer(demo, question, expected)


DECLINED = [
    # 'or more' after something that is not a number stays unread
    ("cranes or more", ["or more"]),
]


@pytest.mark.parametrize("question, words", DECLINED)
def test_what_it_cannot_read_declines(demo, question, words):  # noqa: F811
    assert_declines(demo, question, words)


def test_a_comparison_after_its_number_is_explained_in_the_question_order(demo):  # noqa: F811
    _, explanation = parse_question("which areas have 12 or more cranes", demo[1], TODAY)
    assert "'12 or more cranes' read as groups with >= 12 cranes" in explanation
