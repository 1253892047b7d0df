"""Seven classes of misreading the offline parser used to answer confidently wrong, now read as the
conventions say (`nlq/ask/conventions.py`).

Every phrasing here is this file's own. Each answered reading equals a hand-written query on the
mirror (as in test_semantic_parser); the readings that must not appear are checked on the SQL. The cases run in
test_semantic_misreadings_late.py.
"""

from __future__ import annotations

from tests.test_semantic_parser import M

L = "id, category, class, area, source, forecast_start, forecast_end, forecast_cost"

ANSWERED = [
    # 1. 'budget', 'baseline', 'planned cost' are the plan cost
    ("total budget for the generators", f"SELECT sum(plan_cost) {M} AND category = 'Generators'"),
    ("budget per area for rentals", f"SELECT area, sum(plan_cost) {M} AND source = 'Rental' GROUP BY 1"),
    ("combined budget of the pumps", f"SELECT sum(plan_cost) {M} AND class = 'Concrete Pump 42m'"),
    # 2. a generic noun for equipment binds no stored value
    ("how many pieces of earthmoving plant", f"SELECT count(*) {M} AND category = 'Earthmoving'"),
    ("earthmoving machinery per area", f"SELECT area, count(*) {M} AND category = 'Earthmoving' GROUP BY 1"),
    ("how many loaders are rented", f"SELECT count(*) {M} AND class = 'Wheel Loader 5m3' AND source = 'Rental'"),
    # 1. 'how much ... over plan' is the cost variance, in money
    ("how much are the cranes over plan", f"SELECT sum(forecast_cost - plan_cost) {M} AND category = 'Cranes'"),
    ("how much do rentals cost over budget per area",
     f"SELECT area, sum(forecast_cost - plan_cost) {M} AND source = 'Rental' GROUP BY 1"),
    # 3. an amount a month is a monthly rate
    ("how many rentals over 9,000 per month", f"SELECT count(*) {M} AND source = 'Rental' AND monthly_rate > 9000"),
    ("list rentals costing less than 5k monthly",
     f"SELECT {L} {M} AND source = 'Rental' AND monthly_rate < 5000"),
    ("which classes average over 10,000 a month",
     f"SELECT class, avg(monthly_rate) {M} GROUP BY 1 HAVING avg(monthly_rate) > 10000"),
    # 4. a verb condition after 'that have' / a record noun is a filter
    ("number of records that have slipped", f"SELECT count(*) {M} AND forecast_end - plan_end > 0"),
    ("how many cranes have not slipped", f"SELECT count(*) {M} AND category = 'Cranes'"
     " AND NOT (forecast_end - plan_end > 0)"),
    ("how many rentals slipped", f"SELECT count(*) {M} AND source = 'Rental' AND forecast_end - plan_end > 0"),
    # 5. plural event nouns are the actual dates, and that the event happened
    ("how many demobs per month",
     f"SELECT date_trunc('month', actual_end)::date, count(*) {M} AND actual_end IS NOT NULL GROUP BY 1"),
    ("number of arrivals per quarter",
     f"SELECT date_trunc('quarter', actual_start)::date, count(*) {M} AND is_actualized"
     " AND actual_start IS NOT NULL GROUP BY 1"),
    ("how many mobilisations in May 2026",
     f"SELECT count(*) {M} AND actual_start >= '2026-05-01' AND actual_start < '2026-06-01'"),
    # ... unless a qualifier says whose date, or a date after today says they are still to come
    ("planned arrivals per month",
     f"SELECT date_trunc('month', plan_start)::date, count(*) {M} AND plan_start IS NOT NULL GROUP BY 1"),
    ("how many arrivals next month",
     f"SELECT count(*) {M} AND forecast_start >= '2026-07-01' AND forecast_start < '2026-08-01'"),
    # 6. 'the N <records> with the longest <measure>' lists N records with the measure
    ("the 5 rentals with the longest slip, and how many days",
     f"SELECT forecast_end - plan_end {M} AND source = 'Rental' ORDER BY 1 DESC NULLS LAST LIMIT 5"),
    ("the 4 purchases with the highest plan cost",
     f"SELECT id, plan_cost {M} AND source = 'Purchase' ORDER BY 2 DESC NULLS LAST LIMIT 4"),
    # 7. time on site is the actual period (actual end - actual start; open stays are left out)
    ("average time on site of cranes", f"SELECT avg(actual_end - actual_start) {M} AND category = 'Cranes'"),
    ("how long were the generators on site on average",
     f"SELECT avg(actual_end - actual_start) {M} AND category = 'Generators'"),
    ("average time on hire (actual) of rentals", f"SELECT avg(actual_end - actual_start) {M} AND source = 'Rental'"),
]



NOT_READ_AS = [
    ("total budget for the generators", "forecast_cost"),
    ("how many pieces of earthmoving plant", "Batch Plant"),
    ("rentals averaging over 10,000 a month", "300000"),
    ("rentals averaging over 10,000 a month", "AVG"),
    ("number of records that have slipped", "AVG"),
    ("how many demobs per month", "forecast_end"),
    ("the 5 rentals with the longest slip, and how many days", "MAX"),
    ("average time on site of cranes", "forecast"),
]


DECLINED = [
    # one word of a longer stored value, said as another word with the same root
    ("how many loading items are there", ["loading"]),
    ("count the cutting machinery", ["cutting"]),
    # a year after 'over' is not an amount of money
    ("how much do the cranes cost over 2027", ["over", "2027"]),
    # another measure than a rate, per month
    ("rentals with a purchase price above 8000 a month", None),
]
