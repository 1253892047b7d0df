"""What an answer shows beside what it was asked: a list shows the values it was filtered on, a
condition on groups shows the figures it kept them for, 'with their rates' is each record's rate,
and figures said as a difference, a ratio or a share within each group are computed as said.

Every phrasing is this file's own. Each answer holds the rows of a hand-written query on the mirror.
"""

from __future__ import annotations

import pytest

from nlq.ask.semantic import parse_question
from tests.test_semantic_classes import assert_same_answer
from tests.test_semantic_parser import TODAY, M, assert_declines, demo  # noqa: F401  (the shared demo fixture)

ON_SITE = "is_actualized AND actual_end IS NULL"
RENTAL, PURCHASE = "FILTER (WHERE source = 'Rental')", "FILTER (WHERE source = 'Purchase')"

ANSWERED = [
    # a list shows the columns its conditions compare or restrict
    ("list the rentals that arrived before their planned start",
     f"SELECT id, actual_start, plan_start {M} AND source = 'Rental' AND actual_start < plan_start"),
    ("what was demobbed in march 2026",
     f"SELECT id, actual_end {M} AND actual_end >= '2026-03-01' AND actual_end < '2026-04-01'"),
    ("rentals that have actually cost more than their plan",
     f"SELECT id, actual_cost, plan_cost {M} AND source = 'Rental' AND actual_cost > plan_cost"),
    # each figure a group was kept for is shown
    ("categories with over 100 items and an average variance above 0",
     f"SELECT category, avg(forecast_cost - plan_cost), count(*) {M} GROUP BY 1 HAVING count(*) > 100 AND avg(forecast_cost - plan_cost) > 0"),
    ("classes whose plan exceeds forecast",
     f"SELECT class, sum(plan_cost), sum(forecast_cost) {M} GROUP BY 1 HAVING sum(plan_cost) > sum(forecast_cost)"),
    # a count said after the groups is the groups' condition, not the measure before them
    ("average rate per area for areas with more than 50 rentals",
     f"SELECT area, avg(monthly_rate) {M} GROUP BY 1 HAVING count(*) {RENTAL} > 50"),
    # 'with their ...': each record's own figure
    ("rentals on site with their rates", f"SELECT id, monthly_rate {M} AND source = 'Rental' AND {ON_SITE}"),
    ("cranes with their plan and forecast cost", f"SELECT id, plan_cost, forecast_cost {M} AND category = 'Cranes'"),
    ("this year's starts - what's their plan cost in total",
     f"SELECT sum(plan_cost) {M} AND forecast_start >= '2026-01-01' AND forecast_start < '2027-01-01'"),
    # an amount over plan said of the groups is their totals
    ("which zones are more than 100k over plan",
     f"SELECT area, sum(forecast_cost) - sum(plan_cost) {M} GROUP BY 1 HAVING sum(forecast_cost) - sum(plan_cost) > 100000"),
    # 'how many more A than B': the difference, for every group
    ("how many more rentals than purchases does each category have",
     f"SELECT category, count(*) {RENTAL} - count(*) {PURCHASE} {M} GROUP BY 1"),
    ("how many fewer purchases than rentals are there", f"SELECT count(*) {RENTAL} - count(*) {PURCHASE} {M}"),
    # the ratio of two amounts of money
    ("ratio of forecast to planned cost for each area",
     f"SELECT area, 1.0 * sum(forecast_cost) / sum(plan_cost) {M} GROUP BY 1"),
    ("actual to forecast ratio for cranes", f"SELECT 1.0 * sum(actual_cost) / sum(forecast_cost) {M} AND category = 'Cranes'"),
    # a share within each group of the values compared, or of a second group said 'within each'
    ("within each category what % of the forecast is rental vs bought",
     f"SELECT category, source, 100.0 * sum(forecast_cost) / sum(sum(forecast_cost)) OVER (PARTITION BY category)"
     f" {M} GROUP BY 1, 2"),
    ("share of plan cost by source within each area",
     f"SELECT area, source, 100.0 * sum(plan_cost) / sum(sum(plan_cost)) OVER (PARTITION BY area) {M} GROUP BY 1, 2"),
    # the month of the event the question is about
    ("cumulative actual cost of demobilised kit by demob month",
     f"SELECT date_trunc('month', actual_end)::date AS m, sum(actual_cost),"
     f" sum(sum(actual_cost)) OVER (ORDER BY date_trunc('month', actual_end)::date) {M}"
     " AND actual_end IS NOT NULL GROUP BY 1"),
    # how long it has been there so far: today - actual start, of what is on site
    ("on average how long has the kit on site at silo 3 been there so far",
     f"SELECT avg(DATE '2026-06-01' - actual_start) {M} AND area = 'Silo 3' AND {ON_SITE}"),
    # the share of a condition on groups, asked for again, is the one shown
    ("where are more than 20% of the rentals on site? show the % per area",
     f"SELECT area, 100.0 * count(*) FILTER (WHERE {ON_SITE}) / count(*) {M} AND source = 'Rental'"
     f" GROUP BY 1 HAVING count(*) FILTER (WHERE {ON_SITE}) > count(*) * 0.2"),
    # 'in the area where we've spent the most': the area picked first, then the figure asked of it
    ("in the area where we've actually spent the most so far, how many items are on site",
     f"SELECT count(*) {M} AND {ON_SITE} AND area = (SELECT area {M} GROUP BY area"
     " ORDER BY sum(actual_cost) DESC NULLS LAST LIMIT 1)"),
    # 'which supplier have we spent the most with' in each group: the top one by the total, in each
    ("in each area, which supplier have we spent the most with, and how much",
     f"SELECT area, manufacturer, s FROM (SELECT area, manufacturer, sum(actual_cost) AS s, rank() OVER (PARTITION BY"
     f" area ORDER BY sum(actual_cost) DESC NULLS LAST) AS r {M} GROUP BY 1, 2) t WHERE r = 1"),
    # an amount 'on average' said of groups is their average
    ("which classes cost more than 50k on average",
     f"SELECT class, avg(forecast_cost) {M} GROUP BY 1 HAVING avg(forecast_cost) > 50000"),
    # a number of 'days on hire' is a length in days, not an amount of money
    ("how many rentals forecast for fewer than 100 days on hire",
     f"SELECT count(*) {M} AND source = 'Rental' AND forecast_end - forecast_start < 100"),
    # a misspelt word read together with the words after it
    ("sum of the montly rates of the silo 1 rentals", f"SELECT sum(monthly_rate) {M} AND area = 'Silo 1' AND source = 'Rental'"),
    # the 'demob count' counts the demobs that happened
    ("monthly demob count in 2026",
     f"SELECT date_trunc('month', actual_end)::date, count(*) {M} AND actual_end >= '2026-01-01'"
     " AND actual_end < '2027-01-01' GROUP BY 1"),
    # the columns a list is asked for after its ids
    ("generators whose actual cost has gone past their budget - id, actual and plan cost",
     f"SELECT id, actual_cost, plan_cost {M} AND category = 'Generators' AND actual_cost > plan_cost"),
    ("which cranes left site before their forecast end? give id, actual end and forecast end",
     f"SELECT id, actual_end, forecast_end {M} AND category = 'Cranes' AND actual_end < forecast_end"),
    ("the 3 earliest actual arrivals: id and date",
     f"SELECT id, actual_start {M} AND actual_start IS NOT NULL ORDER BY actual_start, id LIMIT 3"),
    # a range of days in one month
    ("what arrived between 2 and 20 feb 2026? ids and arrival dates",
     f"SELECT id, actual_start {M} AND actual_start >= '2026-02-02' AND actual_start < '2026-02-21'"),
    # 'the last' / 'the first' before a date word: the latest and earliest date
    ("when's the last planned finish for the cranes", f"SELECT max(plan_end) {M} AND category = 'Cranes'"),
    ("first actual arrival and last actual demob in silo 2",
     f"SELECT min(actual_start), max(actual_end) {M} AND area = 'Silo 2'"),
    # a class named by a code of letters and digits, or by the last words of its name
    ("how many D8s", f"SELECT count(*) {M} AND class = 'Dozer D8'"),
    ("how many dump trucks", f"SELECT count(*) {M} AND class = 'Articulated Dump Truck 40T'"),
    # 'draft changes from me' are the caller's drafts; 'carry' is a verb; 'the year things start'
    # (the demo has no drafts: every crane; read as having a draft it would be none)
    ("how many cranes have no draft changes from me", f"SELECT count(*) {M} AND category = 'Cranes'"),
    ("which 3 areas carry the most cranes",
     f"SELECT area, count(*) {M} AND category = 'Cranes' GROUP BY 1 ORDER BY 2 DESC LIMIT 3"),
    ("cost variance by the year things start",
     f"SELECT extract(year FROM forecast_start), sum(forecast_cost - plan_cost) {M} AND forecast_start IS NOT NULL"
     " GROUP BY 1"),
    # a range of whole years
    ("how many rentals end between 2027 and 2028",
     f"SELECT count(*) {M} AND source = 'Rental' AND forecast_end >= '2027-01-01' AND forecast_end < '2029-01-01'"),
    ("plan cost by year of plan start from 2026 to 2028",
     f"SELECT extract(year FROM plan_start), sum(plan_cost) {M} AND plan_start >= '2026-01-01'"
     " AND plan_start < '2029-01-01' GROUP BY 1"),
    # 'should have started by now but haven't arrived': late arrivals; 'ignore cancelled' is not cancelled
    ("rentals that should have started by now but haven't arrived, ignore cancelled ones - how many",
     f"SELECT count(*) {M} AND source = 'Rental' AND NOT is_actualized AND NOT is_discontinued"
     " AND forecast_start < '2026-06-01'"),
    # 'net overrun' is the total variance; 'fewer than 5 cancellations' counts the cancelled records
    ("suppliers with a net overrun above 100k but fewer than 5 cancellations",
     f"SELECT manufacturer, sum(forecast_cost - plan_cost), count(*) FILTER (WHERE is_discontinued) {M} GROUP BY 1"
     " HAVING sum(forecast_cost - plan_cost) > 100000 AND count(*) FILTER (WHERE is_discontinued) < 5"),
    # verbs that only say how: 'swallows', 'lean on'; 'chunk of' is a share
    ("what type of kit swallows the most money",
     f"SELECT class, sum(forecast_cost) {M} GROUP BY 1 ORDER BY 2 DESC LIMIT 1"),
    ("which supplier do we lean on most for hire kit",
     f"SELECT manufacturer, count(*) {M} AND source = 'Rental' GROUP BY 1 ORDER BY 2 DESC LIMIT 1"),
    ("what chunk of the forecast is cranes",
     f"SELECT 100.0 * sum(forecast_cost) FILTER (WHERE category = 'Cranes') / sum(forecast_cost) {M}"),
    # 'how many rentals start' per quarter: the start is the bucket's date
    ("quarter by quarter for 2027: how many rentals start",
     f"SELECT date_trunc('quarter', forecast_start)::date, count(*) {M} AND source = 'Rental'"
     " AND forecast_start >= '2027-01-01' AND forecast_start < '2028-01-01' GROUP BY 1"),
    # a rate or a price said as added up is its total per group
    ("what have we paid out in purchase price with each supplier",
     f"SELECT manufacturer, sum(purchase_price) {M} GROUP BY 1"),
    ("which areas have rentals adding up to over 50k a month in hire rates",
     f"SELECT area, sum(monthly_rate) {M} AND source = 'Rental' GROUP BY 1 HAVING sum(monthly_rate) > 50000"),
    # halves of a year, the first week or half of a month; a month said without a year takes the one said
    ("how many rentals start in H2 2027",
     f"SELECT count(*) {M} AND source = 'Rental' AND forecast_start >= '2027-07-01' AND forecast_start < '2028-01-01'"),
    ("total forecast cost of the records whose planned end falls in the second half of 2027",
     f"SELECT sum(forecast_cost) {M} AND plan_end >= '2027-07-01' AND plan_end < '2028-01-01'"),
    ("which items left site in the first week of march 2026",
     f"SELECT id, actual_end {M} AND actual_end >= '2026-03-01' AND actual_end < '2026-03-08'"),
    ("items planned to finish in h1 2027 but now forecast to finish after june",
     f"SELECT id {M} AND plan_end >= '2027-01-01' AND plan_end < '2027-07-01' AND forecast_end >= '2027-07-01'"),
    # 'the first thing to demob in each category': a record of each group, by the event's date
    ("the first thing to demob in each category - which item and when",
     f"SELECT category, id, actual_end FROM (SELECT category, id, actual_end, rank() OVER (PARTITION BY category"
     f" ORDER BY actual_end) AS r {M}) t WHERE r = 1"),
    # on site on a day by the actual dates; dates written with slashes, day first
    ("by actual dates, how many pieces of kit were on site on 1 march 2026",
     f"SELECT count(*) {M} AND is_actualized AND actual_start <= '2026-03-01'"
     " AND (actual_end IS NULL OR actual_end >= '2026-03-01')"),
    ("which cranes were really on site in march 2026",
     f"SELECT id {M} AND category = 'Cranes' AND is_actualized AND actual_start <= '2026-03-31'"
     " AND (actual_end IS NULL OR actual_end >= '2026-03-01')"),
    ("how many rentals end before 03/04/2027",
     f"SELECT count(*) {M} AND source = 'Rental' AND forecast_end < '2027-04-03'"),
    # the lowest / highest of a group in its condition; 'the most different X' ranks by a distinct count
    ("categories where the cheapest purchase price is under 50k",
     f"SELECT category, min(purchase_price) {M} GROUP BY 1 HAVING min(purchase_price) < 50000"),
    ("which 3 areas have the most different manufacturers",
     f"SELECT area, count(DISTINCT manufacturer) {M} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3"),
    # 'been there for over N days' of kit on site is the time since it arrived
    ("how many things on site now have been there for over 100 days",
     f"SELECT count(*) {M} AND {ON_SITE} AND DATE '2026-06-01' - actual_start > 100"),
    # a stay is the actual period; 'rent/buy' is the source; 'the jetty area' is the area Jetty
    ("average actual stay in days of the silo 4 rentals that have demobbed",
     f"SELECT avg(actual_end - actual_start) {M} AND area = 'Silo 4' AND source = 'Rental' AND actual_end IS NOT NULL"),
    ("how many demobbed items stayed on site longer than their planned hire period",
     f"SELECT count(*) {M} AND actual_end IS NOT NULL AND actual_end - actual_start > plan_end - plan_start"),
    ("cranes by area and rent/buy", f"SELECT area, source, count(*) {M} AND category = 'Cranes' GROUP BY 1, 2"),
    ("cranes in the jetty area", f"SELECT id {M} AND category = 'Cranes' AND area = 'Jetty'"),
    # "A's share of the B spend": A's part of B
    ("batch plants' share of the concrete forecast spend, in %",
     f"SELECT 100.0 * sum(forecast_cost) FILTER (WHERE class = 'Batch Plant 120m3/h') / sum(forecast_cost) {M}"
     " AND category = 'Concrete'"),
    # 'forecast total', 'actual total': the total of that cost; 'for each crane class'; a trailing 'in each'
    ("dump trucks: how many, forecast total and actual total",
     f"SELECT count(*), sum(forecast_cost), sum(actual_cost) {M} AND class = 'Articulated Dump Truck 40T'"),
    ("avg hire rate for each crane class", f"SELECT class, avg(monthly_rate) {M} AND category = 'Cranes' GROUP BY 1"),
    ("demobs by category - how many in each?", f"SELECT category, count(*) {M} AND actual_end IS NOT NULL GROUP BY 1"),
    # 'got to site' is the arrival; 'both end dates' and 'the forecast and planned start' are columns; model codes
    ("how many excavators got to site ahead of their planned start",
     f"SELECT count(*) {M} AND class = 'Excavator 30T' AND actual_start < plan_start"),
    ("cranes now due back earlier than the baseline end - ids and both end dates",
     f"SELECT id, forecast_end, plan_end {M} AND category = 'Cranes' AND forecast_end < plan_end"),
    ("cranes forecast to start earlier than planned: ids with the forecast and planned start",
     f"SELECT id, forecast_start, plan_start {M} AND category = 'Cranes' AND forecast_start < plan_start"),
    ("how many XQ500s", f"SELECT count(*) {M} AND model = 'XQ500'"),
    # 'X vs not', 'X or not': one row with the flag and one without
    ("budget per area, split funds-transferable vs not",
     f"SELECT area, is_funds_transferable, sum(plan_cost) {M} GROUP BY 1, 2"),
    ("how many cranes cancelled or not", f"SELECT is_discontinued, count(*) {M} AND category = 'Cranes' GROUP BY 1"),
    # '..., and how many of those ...': the part of the count that also meets the second conditions
    ("for each month of 2027, how many rentals come off hire and how many of those have slipped",
     f"SELECT date_trunc('month', forecast_end)::date, count(*), count(*) FILTER (WHERE forecast_end > plan_end)"
     f" {M} AND source = 'Rental' AND forecast_end >= '2027-01-01' AND forecast_end < '2028-01-01' GROUP BY 1"),
    ("how many cranes are there and what % of them are rented",
     f"SELECT count(*), count(*) FILTER (WHERE source = 'Rental'),"
     f" 100.0 * count(*) FILTER (WHERE source = 'Rental') / count(*) {M} AND category = 'Cranes'"),
    # 'is X's average worse than the overall average': both figures
    ("is the average crane rate higher than the overall average rate",
     f"SELECT avg(monthly_rate) FILTER (WHERE category = 'Cranes'), avg(monthly_rate) {M}"),
]


@pytest.mark.parametrize("question, expected", ANSWERED, ids=[q for q, _ in ANSWERED])
def test_answers_equal_a_hand_written_query(demo, question, expected):  # noqa: F811
    assert_same_answer(demo, question, expected)


def test_a_list_does_not_show_flags_or_empty_columns(demo):  # noqa: F811
    sql, _ = parse_question("cancelled rentals without a tag", demo[1], TODAY)
    select = sql.split(" FROM ")[0]
    assert "is_discontinued" not in select and "equipment_tag" not in select


def test_a_share_of_groups_said_without_a_verb_is_the_last_condition(demo):  # noqa: F811
    sql, _ = parse_question("areas where more than half the kit on site overdue", demo[1], TODAY)
    where, having = sql.split(" WHERE ", 1)[1].split(" GROUP BY ")[0], sql.split(" HAVING ")[1]
    assert "forecast_end" not in where and "actual_end IS NULL" in where  # counted: the kit on site
    assert "forecast_end <" in having  # the share: the overdue ones


def test_the_explanation_says_how_the_figures_were_read(demo):  # noqa: F811
    _, explanation = parse_question("how many more rentals than purchases does each category have", demo[1], TODAY)
    assert "minus that of source Purchase" in explanation
    _, explanation = parse_question("is the average crane rate higher than the overall average rate", demo[1], TODAY)
    assert "two figures side by side" in explanation


@pytest.mark.parametrize("question", [
    "per area, what share of items are cranes vs generators",  # of the two, or of every category?
    "is the average rate of cranes above the average",  # 'the average' of what
    "where is more than 20% of the kit on site slipped",  # a share of a measure
    "how much budget could the transferable lines give up",  # 'give up' is not a stop word
    "demobbed items on site",  # an actual end both recorded and empty
    "the 3 biggest areas, and how many of those are cranes",  # 'of those' after a ranking
    "how many cranes are there, and how many of those are in each area",  # 'of those' with groups of its own
    "how many cranes are there and how many of those zorblax",  # a word in the second part it cannot read
    "what's the longest anything stayed on site before it left",  # a length is not before a date
])
def test_what_it_cannot_read_declines(demo, question):  # noqa: F811
    assert_declines(demo, question)
