"""The offline semantic parser on demo data, class by class: each phrasing's rows equal a hand-written query.

Questions are parsed with a fixed today (2026-06-01, the demo data's reference day), run through
the guardrails and the reader role, and compared with a direct query on the mirror. Leftover words
of every kind decline with `not_understood`, quoting the words.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic import parse_question
from nlq.bulk.plan import PlanRefused, offline_plan
from nlq.guard import guard
from store import demo_data, mirror
from tests.helpers import add_org, add_records, normal_rows, org_vocabulary
from tests.reader import run_as_reader

TODAY = date(2026, 6, 1)
M = "FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND deleted_at IS NULL"
L = "id, category, class, area, source, forecast_start, forecast_end, forecast_cost"
LIST = f"SELECT {L} {M}"


def listed(*shown: str) -> str:
    """A list that also shows the columns its conditions are about, after the usual ones."""
    return f"SELECT {L}, {', '.join(shown)} {M}"
FINISHED = "actual_end IS NOT NULL"

CASES = {
    "counts": [
        ("how many items end next month", f"SELECT count(*) {M} AND forecast_end >= '2026-07-01' AND forecast_end < '2026-08-01'"),
        ("number of welders in silo three", f"SELECT count(*) {M} AND category = 'Welding' AND area = 'Silo 3'"),
        ("count the overhead-paid excavators", f"SELECT count(*) {M} AND dor = 'BEO' AND class = 'Excavator 30T'"),
        ("how many cat machines do we have", f"SELECT count(*) {M} AND manufacturer = 'Caterpillar'"),
        ("how many Liebher cranes", f"SELECT count(*) {M} AND manufacturer = 'Liebherr' AND category = 'Cranes'"),
        ("how many tower cranes are rented", f"SELECT count(*) {M} AND class = 'Tower Crane TC-12' AND source = 'Rental'"),
    ],
    "sums and averages": [
        ("total plan cost of scaffolding", f"SELECT sum(plan_cost) {M} AND category = 'Scaffolding'"),
        ("how much will the cranes cost", f"SELECT sum(forecast_cost) {M} AND category = 'Cranes'"),
        ("average monthly rate of rented generators", f"SELECT avg(monthly_rate) {M} AND category = 'Generators' AND source = 'Rental'"),
        ("mean actual cost of vehicles on site", f"SELECT avg(actual_cost) {M} AND category = 'Vehicles' AND is_actualized"
         " AND actual_end IS NULL"),
    ],
    "min max and several aggregates": [
        ("cheapest, dearest and typical purchase price", f"SELECT min(purchase_price), max(purchase_price),"
         f" percentile_cont(0.5) WITHIN GROUP (ORDER BY purchase_price) {M}"),
        ("highest and lowest rental rate for cranes", f"SELECT max(monthly_rate), min(monthly_rate) {M} AND category = 'Cranes'"
         " AND source = 'Rental'"),
        ("earliest forecast start of generators", f"SELECT min(forecast_start) {M} AND category = 'Generators'"),
        ("what is the latest planned end", f"SELECT max(plan_end) {M}"),
        ("total and average forecast cost of concrete", f"SELECT sum(forecast_cost), avg(forecast_cost) {M} AND category = 'Concrete'"),
    ],
    "grouping": [
        ("rentals versus purchases per area", f"SELECT area, source, count(*) {M} GROUP BY 1, 2"),
        ("forecast cost by category and source", f"SELECT category, source, sum(forecast_cost) {M} GROUP BY 1, 2"),
        ("number of cranes per manufacturer", f"SELECT manufacturer, count(*) {M} AND category = 'Cranes' GROUP BY 1"),
        ("average rate for each class of compressor", f"SELECT class, avg(monthly_rate) {M} AND category = 'Compressors' GROUP BY 1"),
    ],
    "conditions on groups": [
        ("areas with fewer than 130 items", f"SELECT area, count(*) {M} GROUP BY 1 HAVING count(*) < 130"),
        ("classes whose forecast exceeds plan", f"SELECT class, count(*), sum(forecast_cost), sum(plan_cost) {M} GROUP BY 1 HAVING sum(forecast_cost) > sum(plan_cost)"),
        ("categories with more than 100 rentals", f"SELECT category, count(*) FILTER (WHERE source = 'Rental')"
         f" {M} GROUP BY 1"
         " HAVING count(*) FILTER (WHERE source = 'Rental') > 100"),
        ("which classes have no Liebherr equipment", f"SELECT class, count(*) {M} GROUP BY 1"
         " HAVING count(*) FILTER (WHERE manufacturer = 'Liebherr') = 0"),
        ("how many areas have more than 125 items", f"SELECT count(*) FROM (SELECT area {M} GROUP BY 1 HAVING count(*) > 125) s"),
    ],
    "top and bottom": [
        ("top 5 areas by forecast cost", f"SELECT area, sum(forecast_cost) {M} GROUP BY 1 ORDER BY 2 DESC LIMIT 5"),
        ("the 3 longest rentals", f"SELECT {L}, forecast_end - forecast_start {M} AND source = 'Rental'"
         " ORDER BY forecast_end - forecast_start DESC, id LIMIT 3"),
        ("which area has the most cranes", f"SELECT area, count(*) {M} AND category = 'Cranes' GROUP BY 1 ORDER BY 2 DESC LIMIT 1"),
        ("bottom 4 manufacturers by plan cost", f"SELECT manufacturer, sum(plan_cost) {M} GROUP BY 1 ORDER BY 2 ASC LIMIT 4"),
        ("the cheapest purchase in the jetty", f"{LIST} AND source = 'Purchase' AND area = 'Jetty' ORDER BY forecast_cost LIMIT 1"),
        ("the items with the biggest variance", f"SELECT {L}, forecast_cost - plan_cost {M}"
         " ORDER BY forecast_cost - plan_cost DESC LIMIT 10"),
        ("which manufacturer has the highest average rate", f"SELECT manufacturer, avg(monthly_rate) {M} GROUP BY 1"
         " ORDER BY 2 DESC LIMIT 1"),
    ],
    "comparisons between columns": [
        ("rentals ending after their planned end", f"{listed('plan_end')} AND source = 'Rental' AND forecast_end > plan_end"),
        ("items forecast at least 10% under plan", f"{listed('plan_cost')} AND forecast_cost <= plan_cost * 0.9"),
        ("cranes more than 20% over plan", f"{listed('plan_cost')} AND category = 'Cranes' AND forecast_cost > plan_cost * 1.2"),
        ("which rentals cost more than purchase would", f"{listed('purchase_price')} AND source = 'Rental' AND forecast_cost > purchase_price"),
        ("how many slipped by more than two weeks", f"SELECT count(*) {M} AND forecast_end - plan_end > 14"),
        ("items that started later than planned", f"{listed('plan_start')} AND forecast_start > plan_start"),
        ("how many welding items arrived late", f"SELECT count(*) {M} AND category = 'Welding' AND actual_start > plan_start"),
        ("how many vehicles are over budget", f"SELECT count(*) {M} AND category = 'Vehicles' AND forecast_cost > plan_cost"),
    ],
    "durations": [
        ("rentals shorter than 90 days", f"{LIST} AND source = 'Rental' AND forecast_end - forecast_start < 90"),
        ("typical rental length", f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY forecast_end - forecast_start)"
         f" {M} AND source = 'Rental'"),
        ("average planned duration of cranes", f"SELECT avg(plan_end - plan_start) {M} AND category = 'Cranes'"),
        ("how many rentals last longer than 6 months", f"SELECT count(*) {M} AND source = 'Rental'"
         " AND forecast_end - forecast_start > 182.625"),  # a month = 365.25 / 12 days
        ("median arrival delay of generators", f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY actual_start - plan_start)"
         f" {M} AND category = 'Generators'"),
        # the average slip both ways: over every record, and over the records that slipped
        ("average slip by area", f"SELECT area, avg(forecast_end - plan_end), avg(forecast_end - plan_end) FILTER "
                                 f"(WHERE forecast_end > plan_end) {M} GROUP BY 1"),
    ],
    "percentages and shares": [
        ("what percentage of cranes are rented", f"SELECT 100.0 * count(*) FILTER (WHERE source = 'Rental') / count(*)"
         f" {M} AND category = 'Cranes'"),
        ("share of forecast cost by category", f"SELECT category, 100.0 * sum(forecast_cost) / sum(sum(forecast_cost)) OVER (),"
         f" sum(forecast_cost) {M} GROUP BY 1"),
        ("percentage of items that are cancelled", f"SELECT 100.0 * count(*) FILTER (WHERE is_discontinued) / count(*) {M}"),
        ("share of rentals per area", f"SELECT area, 100.0 * count(*) / sum(count(*)) OVER (), count(*) {M}"
         " AND source = 'Rental' GROUP BY 1"),
    ],
    "distinct counts": [
        ("how many different manufacturers", f"SELECT count(DISTINCT manufacturer) {M}"),
        ("how many areas have cranes", f"SELECT count(DISTINCT area) {M} AND category = 'Cranes'"),
        ("number of distinct classes of earthmoving", f"SELECT count(DISTINCT class) {M} AND category = 'Earthmoving'"),
    ],
    "negation": [
        ("how many rentals are not cancelled", f"SELECT count(*) {M} AND source = 'Rental' AND NOT is_discontinued"),
        ("cranes without a tag", f"{LIST} AND category = 'Cranes' AND equipment_tag IS NULL"),
        ("count of items not in silo 4 or silo 5", f"SELECT count(*) {M} AND area NOT IN ('Silo 4', 'Silo 5')"),
        ("how many generators excluding rentals", f"SELECT count(*) {M} AND category = 'Generators' AND source <> 'Rental'"),
        ("number of non project paid vehicles", f"SELECT count(*) {M} AND category = 'Vehicles' AND dor <> 'PROJECT'"),
    ],
    "dates": [
        ("how many cranes arrive in March 2027", f"SELECT count(*) {M} AND category = 'Cranes'"
         " AND forecast_start >= '2027-03-01' AND forecast_start < '2027-04-01'"),
        ("rentals whose planned end is in Q3 2026", f"{listed('plan_end')} AND source = 'Rental' AND plan_end >= '2026-07-01' AND plan_end < '2026-10-01'"),
        ("how many started in 2025", f"SELECT count(*) {M} AND forecast_start >= '2025-01-01' AND forecast_start < '2026-01-01'"),
        ("how many items start between 2026-01-01 and 2026-03-31", f"SELECT count(*) {M}"
         " AND forecast_start >= '2026-01-01' AND forecast_start <= '2026-03-31'"),
        ("what is on site on 1 March 2026", f"{LIST} AND forecast_start <= '2026-03-01'"
         " AND forecast_end >= '2026-03-01'"),
        ("how many items end before June 2025", f"SELECT count(*) {M} AND forecast_end < '2025-06-01'"),
        ("how many end after the end of 2027", f"SELECT count(*) {M} AND forecast_end > '2027-12-31'"),
    ],
    "relative dates": [
        ("how many rentals end this quarter", f"SELECT count(*) {M} AND source = 'Rental'"
         " AND forecast_end >= '2026-04-01' AND forecast_end < '2026-07-01'"),
        ("cranes starting in the next 60 days", f"{LIST} AND category = 'Cranes'"
         " AND forecast_start >= '2026-06-01' AND forecast_start <= '2026-07-31'"),
        ("how many arrived last month", f"SELECT count(*) {M} AND actual_start >= '2026-05-01' AND actual_start < '2026-06-01'"),
        ("how many rentals have finished", f"SELECT count(*) {M} AND source = 'Rental' AND {FINISHED}"),
        ("how many are on site now", f"SELECT count(*) {M} AND is_actualized AND actual_end IS NULL"),
        ("what will end next year", f"{LIST} AND forecast_end >= '2027-01-01' AND forecast_end < '2028-01-01'"),
        ("actual cost of items that arrived this year so far", f"SELECT sum(actual_cost) {M}"
         " AND actual_start >= '2026-01-01' AND actual_start <= '2026-06-01'"),
    ],
    "time buckets": [
        ("plan cost per quarter of plan start", f"SELECT date_trunc('quarter', plan_start)::date, sum(plan_cost) {M}"
         " AND plan_start IS NOT NULL GROUP BY 1"),
        ("number of rentals ending per month in 2027", f"SELECT date_trunc('month', forecast_end)::date, count(*) {M}"
         " AND source = 'Rental' AND forecast_end >= '2027-01-01' AND forecast_end < '2028-01-01' GROUP BY 1"),
        ("forecast cost by year", f"SELECT extract(year FROM forecast_start), sum(forecast_cost) {M}"
         " AND forecast_start IS NOT NULL GROUP BY 1"),
    ],
    "comparisons x vs y": [
        ("how many cranes in Silo 4 vs Silo 5", f"SELECT area, count(*) {M} AND category = 'Cranes'"
         " AND area IN ('Silo 4', 'Silo 5') GROUP BY 1"),
        ("total forecast cost of cranes versus generators", f"SELECT category, sum(forecast_cost) {M}"
         " AND category IN ('Cranes', 'Generators') GROUP BY 1"),
        ("beo vs project rentals", f"SELECT dor, count(*) {M} AND source = 'Rental' GROUP BY 1"),
    ],
}
ALL = [(cls, q, sql) for cls, cases in CASES.items() for q, sql in cases]


@pytest.fixture(scope="module")
def demo(database_factory):
    urls = database_factory()
    with psycopg.connect(urls.app, autocommit=True) as conn:
        for org in ("ORG_A", "ORG_B"):
            add_org(conn, org)
            add_records(conn, list(demo_data.generate_records(org, 1500)))
        # Some rentals also carry the price buying them would cost: "rentals that cost more than purchase would"
        conn.execute("UPDATE vanguard.pfa_mirror SET data = data || jsonb_build_object('purchasePrice', 60000)"
                     " WHERE organization_id = 'ORG_A' AND source = 'Rental' AND right(id, 1) IN ('3', '7')")
        mirror.analyze(conn)
        vocabulary = org_vocabulary(conn, "ORG_A", ("category", "class", "area", "manufacturer", "model"))
    return urls, vocabulary




def test_every_class_has_several_phrasings():
    assert all(len(cases) >= 3 for cases in CASES.values()) and len(ALL) >= 70
    assert len({q for _, q, _ in ALL}) == len(ALL)


def answer_and_gold(demo, question: str, expected: str):
    """The parser's answer to `question` (guarded, run as the reader) and the rows of the
    hand-written `expected`, which must find something; with the SQL and explanation for messages."""
    urls, vocabulary = demo
    sql, explanation = parse_question(question, vocabulary, TODAY)
    verdict = guard(sql, org_id="ORG_A", max_rows=100_000)
    assert verdict.allowed, verdict.reasons
    got = run_as_reader(urls.reader, verdict.sql, "ORG_A")
    with psycopg.connect(urls.app) as conn:
        want = conn.execute(expected).fetchall()
    assert want and want != [(0,)] and want != [(None,)], "a case must have something to find"
    return got, want, sql, explanation


def assert_declines(demo, question: str, words: list[str] | None = None) -> NotUnderstood:
    """The parser declines `question` as not understood, naming `words` when given."""
    with pytest.raises(NotUnderstood) as caught:
        parse_question(question, demo[1], TODAY)
    assert caught.value.code == "not_understood"
    if words is not None:
        assert caught.value.details["words"] == words
    return caught.value


@pytest.mark.parametrize("cls, question, expected", ALL, ids=[f"{c}: {q}" for c, q, _ in ALL])
def test_answers_equal_a_hand_written_query(demo, cls, question, expected):
    got, want, sql, explanation = answer_and_gold(demo, question, expected)
    assert normal_rows(got) == normal_rows(want), (sql, explanation)


@pytest.mark.parametrize("question, says", [
    ("how many items end next month", ["'end next month' read as forecast end", "July 2026"]),
    ("number of welders in silo three", ["'welders' matched category Welding", "'silo three' matched area Silo 3"]),
    ("typical rental length", ["'typical' as the median", "forecast end - forecast start"]),
    ("how many Liebher cranes", ["'Liebher'", "Liebherr"]),
    ("what is on site on 1 March 2026", ["the forecast period covering 1 March 2026"]),
    ("how many items are overdue", ["on site now and forecast end before today, 2026-06-01"]),
    ("how many cranes in Silo 4 vs Silo 5", ["one row per area"]),
    ("which rentals cost more than purchase would", ["the record's purchase price"]),
])
def test_the_explanation_states_each_interpretation(demo, question, says):
    _, explanation = parse_question(question, demo[1], TODAY)
    for words in says:
        assert words in explanation, explanation


@pytest.mark.parametrize("question, leftover", [
    ("how many cranes are painted blue", ["painted", "blue"]),                 # unknown words
    ("how many zorblax in silo 4", ["zorblax"]),                                # an unknown value
    ("how many cranes in silo 44", ["44"]),                                     # a value that does not exist
    ("total cost of cranes hired by Bob", ["by", "Bob"]),                       # a condition on nothing it reads
    ("how many items end next", ["end", "next"]),                               # a date it cannot complete
    ("rentals with more than 50", ["more than", "50"]),                         # fifty of what?
    ("how many cranes were inspected last month", ["inspected"]),               # a field it does not have
    ("average rate of cranes weighted by duration", ["weighted", "by"]),        # an unsupported construction
    ("show cranes whose colour is not yellow", ["colour", "not", "yellow"]),    # negation of an unknown: kept
    ("how many items with a price over", ["over"]),                             # an incomplete comparison
])
def test_leftover_words_decline_with_not_understood(demo, question, leftover):
    with pytest.raises(NotUnderstood) as caught:
        parse_question(question, demo[1], TODAY)
    error = caught.value
    assert error.code == "not_understood" and error.status_code == 422
    assert error.details["words"] == leftover
    for word in leftover:
        assert f"'{word}'" in error.message
    assert "e.g." in error.message  # examples of what it does read


def test_an_ambiguous_short_name_declines(demo):
    vocabulary = {**demo[1], "manufacturer": demo[1]["manufacturer"] + ["Atlas Welding"]}
    with pytest.raises(NotUnderstood, match="could be any of Atlas Copco, Atlas Welding"):
        parse_question("how many atlas generators", vocabulary, TODAY)


BULK = [
    ("switch all project-paid compressors to BEO", [{"field": "dor", "op": "set", "value": "BEO"}],
     f"SELECT id {M} AND dor = 'PROJECT' AND category = 'Compressors'"),
    ("set the forecast start of generators in silo 3 to 2027-03-01",
     [{"field": "forecastStart", "op": "set", "value": "2027-03-01"}],
     f"SELECT id {M} AND category = 'Generators' AND area = 'Silo 3'"),
    ("move the forecast end of rentals ending next month by 1 week",
     [{"field": "forecastEnd", "op": "shift_days", "value": 7}],
     f"SELECT id {M} AND source = 'Rental' AND forecast_end >= '2026-07-01' AND forecast_end < '2026-08-01'"),
    ("delay all cranes in Silo 4 by 10 days", [{"field": "forecastStart", "op": "shift_days", "value": 10},
                                               {"field": "forecastEnd", "op": "shift_days", "value": 10}],
     f"SELECT id {M} AND category = 'Cranes' AND area = 'Silo 4'"),
    ("cut rental rates of generators by 5%", [{"field": "monthlyRate", "op": "scale_pct", "value": -5.0}],
     f"SELECT id {M} AND category = 'Generators'"),  # 'rental rate' is the monthly rate; records without one are skipped
    ("raise the purchase price of vehicles by 1000", [{"field": "purchasePrice", "op": "add", "value": 1000.0}],
     f"SELECT id {M} AND category = 'Vehicles'"),
    ("move all excavators to silo 5", [{"field": "area", "op": "set", "value": "Silo 5"}],
     f"SELECT id {M} AND class = 'Excavator 30T'"),
    ("mark cranes in the tank farm as funds transferable", [{"field": "isFundsTransferable", "op": "set", "value": True}],
     f"SELECT id {M} AND category = 'Cranes' AND area = 'Tank Farm'"),
    ("discontinue all welding machines not on site", [{"field": "isDiscontinued", "op": "set", "value": True}],
     f"SELECT id {M} AND class = 'Welding Machine 400A' AND NOT is_actualized"),
    ("extend all concrete equipment by 2 weeks", [{"field": "forecastEnd", "op": "shift_days", "value": 14}],
     f"SELECT id {M} AND category = 'Concrete'"),
]


@pytest.mark.parametrize("request_text, changes, expected", BULK, ids=[b[0] for b in BULK])
def test_bulk_requests_plan_the_change_and_the_target(demo, request_text, changes, expected):
    urls, vocabulary = demo
    plan = offline_plan(request_text, vocabulary, TODAY)
    assert [c.model_dump() for c in plan.changes] == changes
    verdict = guard(plan.target, org_id="ORG_A", max_rows=100_000)
    assert verdict.allowed, verdict.reasons
    got = run_as_reader(urls.reader, verdict.sql, "ORG_A")
    with psycopg.connect(urls.app) as conn:
        want = conn.execute(expected).fetchall()
    assert want and sorted(got) == sorted(want), plan


@pytest.mark.parametrize("request_text, error, words", [
    ("delay all cranes painted red by 2 weeks", NotUnderstood, ["painted", "red"]),
    ("change the plan start of cranes to 2027-01-01", NotUnderstood, ["plan start"]),
    ("make everything better", NotUnderstood, []),
    ("extend by 2 weeks", PlanRefused, None),
])
def test_bulk_requests_it_cannot_read_are_refused(demo, request_text, error, words):
    with pytest.raises(error) as caught:
        offline_plan(request_text, demo[1], TODAY)
    if words is not None:
        assert caught.value.details["words"] == words
