"""Groups compared with another group, with their own larger group or with every record, and the top
record of each group said as 'the item with the highest X in each area'.

Every phrasing is this file's own. Each answer holds the rows of a hand-written query on the mirror
(today is 2026-06-01 in these tests).
"""

from __future__ import annotations

import pytest

from nlq.ask.semantic import parse_question
from tests.test_semantic_classes import assert_same_answer
from tests.test_semantic_parser import TODAY, M, assert_declines, demo  # noqa: F401  (the shared demo fixture)

ON_SITE = "is_actualized AND actual_end IS NULL"


def top_of_each(group: str, shown: str, order: str, where: str = "", n: int = 1) -> str:
    """The top n records of each group by `order`, with the figure shown."""
    return (f"SELECT {group}, id, v FROM (SELECT {group}, id, {shown} AS v, rank() OVER (PARTITION BY {group} "
            f"ORDER BY {order} NULLS LAST) AS r {M} {where}) t WHERE r <= {n}")


ANSWERED = [
    # the record a superlative says of, one per group
    ("in every zone, the purchase with the biggest purchase price",
     top_of_each("area", "purchase_price", "purchase_price DESC", "AND source = 'Purchase'")),
    ("for each manufacturer the line with the lowest plan cost",
     top_of_each("manufacturer", "plan_cost", "plan_cost")),
    ("per category, the rental that has been on site the longest",
     top_of_each("category", "'2026-06-01'::date - actual_start", "'2026-06-01'::date - actual_start DESC",
                 f"AND source = 'Rental' AND {ON_SITE}")),
    # a number before the records of a ranking within each group is its N, not a count of records
    ("top 2 compressors by plan cost in each area",
     top_of_each("area", "plan_cost", "plan_cost DESC", "AND category = 'Compressors'", n=2)),
    ("the 3 purchases with the highest forecast cost per class",
     top_of_each("class", "forecast_cost", "forecast_cost DESC", "AND source = 'Purchase'", n=3)),
    # 'the longest <qualifier> hire' of an item is the length of that period, over all its records
    ("in each area, the record with the longest planned hire",
     top_of_each("area", "plan_end - plan_start", "plan_end - plan_start DESC")),
    # a comparative said before the figure: 'a higher average X than <group>'
    ("which classes have a higher average plan cost than the Liebherr kit",
     f"SELECT class, avg(plan_cost) {M} GROUP BY 1 HAVING avg(plan_cost) > "
     f"(SELECT avg(plan_cost) {M} AND manufacturer = 'Liebherr')"),
    ("areas with a lower total actual cost than Silo 2",
     f"SELECT area, sum(actual_cost) {M} GROUP BY 1 HAVING sum(actual_cost) < "
     f"(SELECT sum(actual_cost) {M} AND area = 'Silo 2')"),
    ("how many makes have a smaller total plan cost than the earthmoving category",
     f"SELECT count(*) FROM (SELECT manufacturer {M} GROUP BY 1 HAVING sum(plan_cost) < "
     f"(SELECT sum(plan_cost) {M} AND category = 'Earthmoving')) g"),
    ("how many classes have fewer records than the Tank Farm",
     f"SELECT count(*) FROM (SELECT class {M} GROUP BY 1 HAVING count(*) < "
     f"(SELECT count(*) {M} AND area = 'Tank Farm')) g"),
    # against every record: 'than the fleet as a whole', 'than across the job'
    ("which categories have a higher average monthly rate than the whole fleet",
     f"SELECT category, avg(monthly_rate) {M} GROUP BY 1 HAVING avg(monthly_rate) > (SELECT avg(monthly_rate) {M})"),
    ("rentals: which areas have a lower average forecast cost than across the job",
     f"SELECT area, avg(forecast_cost) {M} AND source = 'Rental' GROUP BY 1 HAVING avg(forecast_cost) < "
     f"(SELECT avg(forecast_cost) {M} AND source = 'Rental')"),
    ("how many models have an average purchase price above the overall average",
     f"SELECT count(*) FROM (SELECT model {M} GROUP BY 1 HAVING avg(purchase_price) > "
     f"(SELECT avg(purchase_price) {M})) g"),
    # the group a ranking picks first, then a figure of it: 'its' is all its records, 'of those' the
    # records the ranking counted
    ("the class with the most cancelled items - what is its total plan cost",
     f"SELECT sum(plan_cost) {M} AND class = (SELECT class {M} AND is_discontinued GROUP BY class"
     f" ORDER BY count(*) DESC LIMIT 1)"),
    ("which category has the biggest plan cost, and how many of them are cancelled",
     f"SELECT count(*) {M} AND is_discontinued AND category = (SELECT category {M} GROUP BY category"
     f" ORDER BY sum(plan_cost) DESC LIMIT 1)"),
    ("take the make with the most rentals on site: how many of those are still planned to end after 2026",
     f"SELECT count(*) {M} AND source = 'Rental' AND {ON_SITE} AND plan_end >= '2027-01-01' AND manufacturer = "
     f"(SELECT manufacturer {M} AND source = 'Rental' AND {ON_SITE} GROUP BY manufacturer ORDER BY count(*) DESC LIMIT 1)"),
    ("the 3 biggest areas by count, and how many generators in those",
     f"SELECT count(*) {M} AND category = 'Generators' AND area IN (SELECT area {M} GROUP BY area"
     f" ORDER BY count(*) DESC LIMIT 3)"),
    ("whichever area has the most purchases - what percentage of its items is that",
     f"SELECT 100.0 * count(*) FILTER (WHERE source = 'Purchase') / count(*) {M} AND area = (SELECT area {M}"
     f" AND source = 'Purchase' GROUP BY area ORDER BY count(*) DESC LIMIT 1)"),
    # a share of records against the same share over every record, or of one named value
    ("which areas have a higher cancellation rate than the site as a whole",
     f"SELECT area, 100.0 * count(*) FILTER (WHERE is_discontinued) / count(*) {M} GROUP BY 1 HAVING"
     f" 100.0 * count(*) FILTER (WHERE is_discontinued) / count(*) > (SELECT 100.0 * count(*) FILTER"
     f" (WHERE is_discontinued) / count(*) {M})"),
    ("classes where a smaller share of the rentals are cancelled than for Liebherr",
     f"SELECT class, 100.0 * count(*) FILTER (WHERE is_discontinued) / count(*) {M} AND source = 'Rental' GROUP BY 1"
     f" HAVING 100.0 * count(*) FILTER (WHERE is_discontinued) / count(*) < (SELECT 100.0 * count(*) FILTER"
     f" (WHERE is_discontinued) / count(*) {M} AND source = 'Rental' AND manufacturer = 'Liebherr')"),
    # the top records of each group by a date said after the event, or before it as the record's
    ("the 2 purchases starting last in each area",
     top_of_each("area", "forecast_start", "forecast_start DESC", "AND source = 'Purchase'", n=2)),
    ("for each class, the last bit of kit to go off hire - id and demob date",
     top_of_each("class", "actual_end", "actual_end DESC")),
    # a figure of the records counted first, beside the count
    ("per area: how many rentals are on site and how much monthly rate is tied up in them",
     f"SELECT area, count(*), sum(monthly_rate) {M} AND source = 'Rental' AND {ON_SITE} GROUP BY 1"),
    # how many more of one set than of another, each with conditions of its own
    ("how many more items start next quarter than this quarter",
     f"SELECT count(*) FILTER (WHERE forecast_start >= '2026-07-01' AND forecast_start < '2026-10-01')"
     f" - count(*) FILTER (WHERE forecast_start >= '2026-04-01' AND forecast_start < '2026-07-01') {M}"),
    ("in silo 3, how many more cancelled items are there than funds-transferable ones",
     f"SELECT count(*) FILTER (WHERE is_discontinued) - count(*) FILTER (WHERE is_funds_transferable)"
     f" {M} AND area = 'Silo 3'"),
    ("how many fewer rentals are on site than have left site",
     f"SELECT count(*) FILTER (WHERE actual_end IS NOT NULL) - count(*) FILTER (WHERE {ON_SITE})"
     f" {M} AND source = 'Rental'"),
    # a moving average over each month and the ones before it, looking back before the range shown
    ("2-month rolling average of plan cost by plan start month, for march to june 2027",
     f"SELECT m, a FROM (SELECT date_trunc('month', plan_start)::date AS m, avg(sum(plan_cost)) OVER"
     f" (ORDER BY date_trunc('month', plan_start)::date ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS a {M}"
     f" AND plan_start IS NOT NULL GROUP BY 1) t WHERE m >= '2027-03-01' AND m < '2027-07-01'"),
    # ... and only within it
    ("4-month moving avg of forecast ends for the months of 2027",
     f"SELECT m, a FROM (SELECT date_trunc('month', forecast_end)::date AS m, avg(count(*)) OVER"
     f" (ORDER BY date_trunc('month', forecast_end)::date ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS a {M}"
     f" AND forecast_end >= '2027-01-01' AND forecast_end < '2028-01-01' GROUP BY 1) t"),
    # a negated comparison of two dates; a length 'forecast to stay', already an average
    ("compressors whose planned end isn't the same as their forecast end",
     f"SELECT id, plan_end, forecast_end {M} AND category = 'Compressors' AND plan_end <> forecast_end"),
    ("how long are the welders forecast to stay on site, on average",
     f"SELECT avg(forecast_end - forecast_start) {M} AND category = 'Welding'"),
    # the period a superlative picks: the periods are the rows
    ("which quarter of 2027 has the most plan ends, and how many",
     f"SELECT date_trunc('quarter', plan_end)::date, count(*) {M} AND plan_end >= '2027-01-01'"
     f" AND plan_end < '2028-01-01' GROUP BY 1 ORDER BY 2 DESC LIMIT 1"),
    ("the quietest month for arrivals in 2026",
     f"SELECT date_trunc('month', actual_start)::date, count(*) {M} AND actual_start >= '2026-01-01'"
     f" AND actual_start < '2027-01-01' GROUP BY 1 ORDER BY 2 LIMIT 1"),
    # every value of a two-valued column on its own: within each
    ("for project and overhead separately, the 2 classes with the highest plan cost",
     f"SELECT dor, class, s FROM (SELECT dor, class, sum(plan_cost) AS s, rank() OVER (PARTITION BY dor ORDER BY"
     f" sum(plan_cost) DESC) AS r {M} GROUP BY 1, 2) t WHERE r <= 2"),
    # each group's figure against the average group's: the figure minus the average of the groups' figures
    ("each class's plan cost and how far it sits above or below the average class",
     f"SELECT class, sum(plan_cost), sum(plan_cost) - avg(sum(plan_cost)) OVER () {M} GROUP BY 1"),
    ("how far is each make's item count above or below the average make",
     f"SELECT manufacturer, count(*) - avg(count(*)) OVER () {M} GROUP BY 1"),
    # how many of the N records a ranking picks meet more conditions
    ("of the 30 biggest plan costs, how many are rentals",
     f"SELECT count(*) FILTER (WHERE source = 'Rental') FROM (SELECT source {M}"
     f" ORDER BY plan_cost DESC NULLS LAST LIMIT 30) t"),
    ("among the 20 dearest items by forecast cost - what % are on site now",
     f"SELECT 100.0 * count(*) FILTER (WHERE {ON_SITE}) / count(*) FROM (SELECT is_actualized, actual_end {M}"
     f" ORDER BY forecast_cost DESC NULLS LAST LIMIT 20) t"),
    # a group's average against its own larger group's: the larger group joins the rows
    ("which models have an average forecast cost above their class average",
     f"SELECT class, model, avg(forecast_cost) FROM (SELECT *, avg(forecast_cost) OVER (PARTITION BY class) AS ca {M}) p"
     f" GROUP BY 1, 2 HAVING avg(forecast_cost) > max(ca)"),
    # ... while a record against its group's average stays a record condition
    ("rentals whose monthly rate is above their class average",
     f"SELECT id, monthly_rate FROM (SELECT *, avg(monthly_rate) OVER (PARTITION BY class) AS ca {M}) p"
     f" WHERE source = 'Rental' AND monthly_rate > ca"),
]


@pytest.mark.parametrize("question, expected", ANSWERED, ids=[q for q, _ in ANSWERED])
def test_answers_equal_a_hand_written_query(demo, question, expected):  # noqa: F811
    assert_same_answer(demo, question, expected)


def test_a_comparison_with_every_record_says_so(demo):  # noqa: F811
    _, explanation = parse_question("which makes have a higher average rate than the fleet as a whole", demo[1], TODAY)
    assert "over every record asked about" in explanation
    _, explanation = parse_question("which models have an average plan cost above their class average", demo[1], TODAY)
    assert "of all records of their class (one row per class too)" in explanation


@pytest.mark.parametrize("question", [
    # how often records are so is not a monthly rate, and there is no figure for it against a number
    "categories with an overdue rate above 10%",
    # two kinds of kit named by different columns: either kind, which the conditions here do not combine
    "total plan cost of the excavators and liebherr cranes",
    # N groups picked, then 'of those': of each group or of all of them together, it does not say
    "the 4 busiest classes - how many of those are rented",
    # a group's total against every record's is always smaller: not read
    "which areas have a bigger total plan cost than the whole site",
])
def test_what_it_cannot_read_declines(demo, question):  # noqa: F811
    assert_declines(demo, question)
