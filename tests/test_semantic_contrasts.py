"""Groups compared on two values of one column ('areas with more cranes than generators', 'more than
twice as many rentals as purchases', 'spend more on rentals than on purchases', 'both a tower crane
and a crawler crane'), and 'bought rather than rented' on a column with two values.

Every phrasing is this file's own. Each answer equals a hand-written query on the mirror.
"""

from __future__ import annotations

import pytest

from nlq.ask.semantic import parse_question
from tests.test_semantic_classes import assert_same_answer
from tests.test_semantic_parser import TODAY, assert_declines, demo  # noqa: F401  (the shared demo fixture)

SCOPE = "organization_id = 'ORG_A' AND deleted_at IS NULL"
ON_SITE = "is_actualized AND actual_end IS NULL"


def having(group: str, condition: str, where: str = "") -> str:
    return f"SELECT {group} FROM vanguard.pfa_mirror WHERE {SCOPE} {where} GROUP BY {group} HAVING {condition}"


ANSWERED = [
    # counts of two values compared within each group
    ("which areas hold more cranes than generators",
     having("area", "count(*) FILTER (WHERE category = 'Cranes') > count(*) FILTER (WHERE category = 'Generators')")),
    ("classes with fewer purchases than rentals",
     having("class", "count(*) FILTER (WHERE source = 'Purchase') < count(*) FILTER (WHERE source = 'Rental')")),
    ("manufacturers having more rentals than purchases on site",
     having("manufacturer", "count(*) FILTER (WHERE source = 'Rental') > count(*) FILTER (WHERE source = 'Purchase')",
            f"AND {ON_SITE}")),
    # a multiple of the second count
    ("areas with more than three times as many rentals as purchases",
     having("area", "count(*) FILTER (WHERE source = 'Rental') > 3 * count(*) FILTER (WHERE source = 'Purchase')")),
    # totals of a cost compared, said before or after the comparison
    ("which categories spend more on purchases than on rentals",
     having("category", "sum(forecast_cost) FILTER (WHERE source = 'Purchase') > "
                        "sum(forecast_cost) FILTER (WHERE source = 'Rental')")),
    ("areas where the BEO kit has a planned cost less than the project kit",
     having("area", "sum(plan_cost) FILTER (WHERE dor = 'BEO') < sum(plan_cost) FILTER (WHERE dor = 'PROJECT')")),
    ("categories with a lower actual cost for rentals than for purchases",
     having("category", "sum(actual_cost) FILTER (WHERE source = 'Rental') < "
                        "sum(actual_cost) FILTER (WHERE source = 'Purchase')")),
    # both values present in the group, the question's other conditions on both
    ("areas that have both a crawler crane and a tower crane",
     having("area", "count(*) FILTER (WHERE class = 'Crawler Crane 250T') > 0 "
                    "AND count(*) FILTER (WHERE class = 'Tower Crane TC-12') > 0")),
    ("areas with both cranes and generators that are rentals",
     having("area", "count(*) FILTER (WHERE category = 'Cranes') > 0 "
                    "AND count(*) FILTER (WHERE category = 'Generators') > 0", "AND source = 'Rental'")),
    # how many groups pass
    ("how many areas have more generators than cranes",
     f"SELECT count(*) FROM ({having('area', 'count(*) FILTER (WHERE category = ' + chr(39) + 'Generators' + chr(39) + ') > count(*) FILTER (WHERE category = ' + chr(39) + 'Cranes' + chr(39) + ')')}) g"),
    # the rest of a two-valued column adds nothing
    ("what share of the kit is rented rather than bought",
     f"SELECT 100.0 * count(*) FILTER (WHERE source = 'Rental') / count(*) FROM vanguard.pfa_mirror WHERE {SCOPE}"),
    ("percentage of items paid by BEO as opposed to the project",
     f"SELECT 100.0 * count(*) FILTER (WHERE dor = 'BEO') / count(*) FROM vanguard.pfa_mirror WHERE {SCOPE}"),
]


@pytest.mark.parametrize("question, expected", ANSWERED)
def test_answers_equal_a_hand_written_query(demo, question, expected):  # noqa: F811
    assert_same_answer(demo, question, expected)


DECLINED = [
    # two values with no groups to compare them in
    ("more cranes than generators", ["cranes", "generators"]),
    # a rate compared between two sets of records: not read
    ("areas where rentals have a higher rate than purchases", ["rentals", "purchases"]),
    # 'rather than' on a column with more than two values names no complement
    ("share of the kit that is cranes rather than generators", ["cranes", "generators"]),
    # a third value of the same column: which records each side covers is not said
    ("areas with more cranes than generators or welders", ["cranes", "generators", "welders"]),
]


@pytest.mark.parametrize("question, words", DECLINED)
def test_what_it_cannot_read_declines(demo, question, words):  # noqa: F811
    assert_declines(demo, question, words)


def test_both_figures_are_shown_beside_each_group(demo):  # noqa: F811
    sql, explanation = parse_question("areas with more cranes than generators", demo[1], TODAY)
    shown = sql.split("FROM")[0]
    assert "records_cranes" in shown and "records_generators" in shown
    assert "number of records of category Cranes is > that of category Generators (both shown)" in explanation


TWO_FIGURES = [
    # the ratio of one figure over two values, each over its own records
    ("ratio of purchase plan cost to rental plan cost",
     f"SELECT 1.0 * sum(plan_cost) FILTER (WHERE source = 'Purchase') / sum(plan_cost) FILTER (WHERE source = 'Rental') "
     f"FROM vanguard.pfa_mirror WHERE {SCOPE}"),
    ("ratio of cranes to generators in silo 4",
     f"SELECT 1.0 * count(*) FILTER (WHERE category = 'Cranes') / count(*) FILTER (WHERE category = 'Generators') "
     f"FROM vanguard.pfa_mirror WHERE {SCOPE} AND area = 'Silo 4'"),
    ("how many times bigger is the forecast cost of the jetty than the forecast cost of the camp",
     f"SELECT 1.0 * sum(forecast_cost) FILTER (WHERE area = 'Jetty') / sum(forecast_cost) FILTER (WHERE area = 'Camp') "
     f"FROM vanguard.pfa_mirror WHERE {SCOPE}"),
    # the difference, with the average where the measure is a rate
    ("difference between the monthly rate of cranes and of generators",
     f"SELECT avg(monthly_rate) FILTER (WHERE category = 'Cranes') - avg(monthly_rate) FILTER (WHERE category = "
     f"'Generators') FROM vanguard.pfa_mirror WHERE {SCOPE}"),
    ("difference between the total actual cost of BEO rentals and project rentals",
     f"SELECT sum(actual_cost) FILTER (WHERE dor = 'BEO') - sum(actual_cost) FILTER (WHERE dor = 'PROJECT') "
     f"FROM vanguard.pfa_mirror WHERE {SCOPE} AND source = 'Rental'"),
    # per group
    ("ratio of rentals to purchases by category",
     f"SELECT category, 1.0 * count(*) FILTER (WHERE source = 'Rental') / nullif(count(*) FILTER (WHERE source = "
     f"'Purchase'), 0) FROM vanguard.pfa_mirror WHERE {SCOPE} GROUP BY category"),
]


@pytest.mark.parametrize("question, expected", TWO_FIGURES)
def test_ratios_and_differences_equal_a_hand_written_query(demo, question, expected):  # noqa: F811
    assert_same_answer(demo, question, expected)


@pytest.mark.parametrize("question, words", [
    # two different measures on the two sides: not one figure
    ("ratio of the plan cost of cranes to the monthly rate of generators", None),
    # a third value of the column: which side it belongs to is not said
    ("ratio of cranes to generators and welders", None),
])
def test_two_figures_it_cannot_read_decline(demo, question, words):  # noqa: F811
    assert_declines(demo, question, words)


@pytest.mark.parametrize("question, expected", [
    # 'vs the ...' and a noun both values share are the same comparison
    ("average monthly rate of liebherr vs the grove", "SELECT manufacturer, avg(monthly_rate) FROM vanguard.pfa_mirror "
     f"WHERE {SCOPE} AND manufacturer IN ('Liebherr', 'Grove') GROUP BY manufacturer"),
    ("number of liebherr cranes vs the grove ones", "SELECT manufacturer, count(*) FROM vanguard.pfa_mirror "
     f"WHERE {SCOPE} AND category = 'Cranes' AND manufacturer IN ('Liebherr', 'Grove') GROUP BY manufacturer"),
])
def test_values_compared_with_a_shared_noun(demo, question, expected):  # noqa: F811
    assert_same_answer(demo, question, expected)


@pytest.mark.parametrize("question, expected", [
    # each group against one group named by its value, the row conditions on both sides
    ("which categories have fewer rentals than the cranes",
     having("category", "count(*) < (SELECT count(*) FROM vanguard.pfa_mirror WHERE " + SCOPE
            + " AND category = 'Cranes' AND source = 'Rental')", "AND source = 'Rental'")),
    ("areas with a lower plan cost than the jetty",
     having("area", "sum(plan_cost) < (SELECT sum(plan_cost) FROM vanguard.pfa_mirror WHERE " + SCOPE
            + " AND area = 'Jetty')")),
    # against the average group
    ("classes with more items than the average class",
     having("class", "count(*) > (SELECT avg(n) FROM (SELECT count(*) AS n FROM vanguard.pfa_mirror WHERE " + SCOPE
            + " GROUP BY class) g)")),
    ("areas where the overrun is worse than the jetty",
     having("area", "sum(forecast_cost - plan_cost) > (SELECT sum(forecast_cost - plan_cost) FROM vanguard.pfa_mirror "
            f"WHERE {SCOPE} AND area = 'Jetty')")),
])
def test_groups_against_a_named_or_average_group(demo, question, expected):  # noqa: F811
    assert_same_answer(demo, question, expected)


@pytest.mark.parametrize("question", [
    "areas where the average slip is worse than the average slip overall",
    "top 3 classes by average slip",
])
def test_a_condition_or_ranking_on_the_average_slip_asks_which_average(demo, question):  # noqa: F811
    declined = assert_declines(demo, question, [])
    assert "over the records that slipped only" in declined.message
