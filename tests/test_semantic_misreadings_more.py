"""More classes of misreading the offline parser answered confidently wrong on sets of questions
written blind to it (docs/eval.md, "The fourth set" and "The fifth set"), now read as the
conventions say or declined.

Every phrasing here is this file's own, none of that set's. The cases run in
test_semantic_misreadings_late.py with that file's own.
"""

from __future__ import annotations

from tests.test_semantic_parser import M

ANSWERED = [
    # 'how much plant / kit / gear' is a quantity of equipment: counted, not costed
    ("how much gear have we got in Jetty", f"SELECT count(*) {M} AND area = 'Jetty'"),
    ("how much kit do the cranes have in silo 3", f"SELECT count(*) {M} AND category = 'Cranes' AND area = 'Silo 3'"),
    # a count listed with other figures of a measure counts the items, not the values filled in
    ("cranes: count and highest purchase price", f"SELECT count(*), max(purchase_price) {M} AND category = 'Cranes'"),
    ("count, average and maximum price of the generators",
     f"SELECT count(*), avg(purchase_price), max(purchase_price) {M} AND category = 'Generators'"),
    # 'scheduled' alone is the schedule as it stands (the forecast)
    ("forecast cost of kit scheduled to finish in July 2026",
     f"SELECT sum(forecast_cost) {M} AND forecast_end >= '2026-07-01' AND forecast_end < '2026-08-01'"),
    # past tense with a date is that (forecast) date; it adds no 'it happened' condition
    ("how many pumps went off hire in March 2026",
     f"SELECT count(*) {M} AND class = 'Concrete Pump 42m' AND forecast_end >= '2026-03-01'"
     " AND forecast_end < '2026-04-01'"),
    # 'since <a past date>' runs up to today
    ("how many items started since january",
     f"SELECT count(*) {M} AND forecast_start >= '2026-01-01' AND forecast_start <= '2026-06-01'"),
    # 'how many items have X above their Y', per group: each record's own figures, counted per group
    ("per class, how many records have a plan cost above their forecast cost",
     f"SELECT class, count(*) {M} AND plan_cost > forecast_cost GROUP BY 1"),
    # 'per G, % of items that C': the part of each group that matches
    ("by area, percentage of records that have slipped",
     f"SELECT area, 100.0 * count(*) FILTER (WHERE forecast_end > plan_end) / count(*) {M} GROUP BY 1"),
    ("per area, % of rentals that are cancelled",
     f"SELECT area, 100.0 * count(*) FILTER (WHERE is_discontinued) / count(*) {M} AND source = 'Rental' GROUP BY 1"),
    # 'share of its X's ...': the whole is taken within X
    ("each area's share of its category's plan cost",
     f"SELECT area, category, 100.0 * sum(plan_cost) / sum(sum(plan_cost)) OVER (PARTITION BY category)"
     f" {M} GROUP BY 1, 2"),
    # 'which has the highest' after a plural noun: the one group
    ("of the classes with over 40 items, which has the lowest average rate",
     f"SELECT class, avg(monthly_rate) {M} GROUP BY 1 HAVING count(*) > 40 ORDER BY 2 ASC LIMIT 1"),
    # what is still to be spent: forecast less actual
    ("how much is left to pay for the cranes",
     f"SELECT sum(forecast_cost) - sum(coalesce(actual_cost, 0)) {M} AND category = 'Cranes'"),
    # a cost superlative 'per month' / 'a month' ranks by the monthly rate
    ("the priciest crane a month",
     f"SELECT id, monthly_rate {M} AND category = 'Cranes' ORDER BY monthly_rate DESC NULLS LAST LIMIT 1"),
    ("which rentals cost the most per month",
     f"SELECT id, monthly_rate {M} AND source = 'Rental' ORDER BY monthly_rate DESC NULLS LAST LIMIT 10"),
    # running late / behind schedule: slipped (forecast end after plan end), not overdue on site
    ("how many generators are behind schedule",
     f"SELECT count(*) {M} AND category = 'Generators' AND forecast_end > plan_end"),
    # (the fifth set) a bucket with no date named is the date of the one event the question names
    ("quarterly count of rentals finishing next year",
     f"SELECT date_trunc('quarter', forecast_end)::date, count(*) {M} AND source = 'Rental'"
     " AND forecast_end >= '2027-01-01' AND forecast_end < '2028-01-01' GROUP BY 1"),
    ("arrivals at site per month",
     f"SELECT date_trunc('month', actual_start)::date, count(*) {M} AND is_actualized AND actual_start IS NOT NULL"
     " GROUP BY 1"),
    # 'slipped' said before the noun is the same condition as 'that have slipped'
    ("average slip of slipped purchases per area",
     f"SELECT area, avg(forecast_end - plan_end) {M} AND source = 'Purchase' AND forecast_end > plan_end GROUP BY 1"),
    ("percentage of cancelled items in each area",
     f"SELECT area, 100.0 * count(*) FILTER (WHERE is_discontinued) / count(*) {M} GROUP BY 1"),
    # an amount followed by its measure; for groups with no record named, the group's total
    ("classes with more than 3 million plan cost",
     f"SELECT class, sum(plan_cost) {M} GROUP BY 1 HAVING sum(plan_cost) > 3000000"),
    ("rentals over 8000 rate", f"SELECT id {M} AND source = 'Rental' AND monthly_rate > 8000"),
    # 'hire length' is a duration, not a condition on rentals
    ("average hire length of the generators",
     f"SELECT avg(forecast_end - forecast_start) {M} AND category = 'Generators'"),
    # '<dimension> count' is the number of different values
    ("area count for the welding kit", f"SELECT count(DISTINCT area) {M} AND category = 'Welding'"),
]


NOT_READ_AS = [
    ("how much gear have we got in Jetty", "SUM("),
    ("cranes: count and highest purchase price", "COUNT(purchase_price)"),
    ("how many pumps went off hire in March 2026", "is_actualized"),
    ("forecast cost of kit scheduled to finish in July 2026", "plan_end"),
    ("per class, how many records have a plan cost above their forecast cost", "HAVING"),
    ("which rentals cost the most per month", "DATE_TRUNC"),
    ("how many generators are behind schedule", "actual_end"),
]


DECLINED = [
    # two values of one column that no record has both of: an empty answer given as if it were one
    ("count the pump trucks in silo 3", ["pump", "trucks"]),
    ("how many loader trucks are on site", None),
    # the time on site of records still there has no end to measure to
    ("average time on site of the rentals still on site", None),
    # a superlative that names the group it picks, inside a per-group frame
    ("priciest area in each category by average rate", None),
]
