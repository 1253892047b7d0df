"""The offline provider on demo data: question -> statement -> the expected rows (42 cases)."""

from __future__ import annotations


import psycopg
import pytest

from guardrails import check
from store.fields import VIEW_COLUMNS
from nlq.ask.offline import CannotAnswerOffline, parse_question
from store import demo_data, mirror
from tests.helpers import add_org, add_records, normal_rows, org_vocabulary
from tests.reader import run_as_reader

M = "FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND deleted_at IS NULL"
LIST = f"SELECT id, category, class, area, source, forecast_start, forecast_end, forecast_cost {M}"


def listed(*shown: str) -> str:
    """A list that also shows the columns its conditions are about, after the usual ones."""
    return f"SELECT id, category, class, area, source, forecast_start, forecast_end, forecast_cost, {', '.join(shown)} {M}"

CASES = [
    ("how many records are there in total?", f"SELECT count(*) {M}"),
    ("how many cranes are rented?", f"SELECT count(*) {M} AND category = 'Cranes' AND source = 'Rental'"),
    ("how many cranes do we have", f"SELECT count(*) {M} AND category = 'Cranes'"),
    ("count of purchases", f"SELECT count(*) {M} AND source = 'Purchase'"),
    ("number of generators on site", f"SELECT count(*) {M} AND category = 'Generators' AND is_actualized"
     " AND actual_end IS NULL"),
    ("how many items are not on site yet", f"SELECT count(*) {M} AND NOT is_actualized"),
    ("how many discontinued records", f"SELECT count(*) {M} AND is_discontinued"),
    ("count active rentals", f"SELECT count(*) {M} AND source = 'Rental' AND NOT is_discontinued"),
    ("how many overhead items", f"SELECT count(*) {M} AND dor = 'BEO'"),
    ("how many project-paid rentals", f"SELECT count(*) {M} AND dor = 'PROJECT' AND source = 'Rental'"),
    ("how many funds transferable records", f"SELECT count(*) {M} AND is_funds_transferable"),
    ("count by category", f"SELECT category, count(*) {M} GROUP BY 1"),
    ("how many records per area", f"SELECT area, count(*) {M} GROUP BY 1"),
    ("number of rentals by manufacturer", f"SELECT manufacturer, count(*) {M} AND source = 'Rental' GROUP BY 1"),
    ("count by source", f"SELECT source, count(*) {M} GROUP BY 1"),
    ("how many per class in Silo 4", f"SELECT class, count(*) {M} AND area = 'Silo 4' GROUP BY 1"),
    ("total forecast cost", f"SELECT sum(forecast_cost) {M}"),
    ("total forecast cost by category", f"SELECT category, sum(forecast_cost) {M} GROUP BY 1"),
    ("total plan cost by area", f"SELECT area, sum(plan_cost) {M} GROUP BY 1"),
    ("sum of actual cost for cranes", f"SELECT sum(actual_cost) {M} AND category = 'Cranes'"),
    ("total variance by category", f"SELECT category, sum(forecast_cost - plan_cost) {M} GROUP BY 1"),
    ("average monthly rate of rentals", f"SELECT avg(monthly_rate) {M} AND source = 'Rental'"),
    ("average rate per category for rentals", f"SELECT category, avg(monthly_rate) {M} AND source = 'Rental' GROUP BY 1"),
    ("average purchase price of vehicles", f"SELECT avg(purchase_price) {M} AND category = 'Vehicles'"),
    ("mean forecast cost by source", f"SELECT source, avg(forecast_cost) {M} GROUP BY 1"),
    ("rentals with a rate over $20k", f"{listed('monthly_rate')} AND source = 'Rental' AND monthly_rate > 20000"),
    ("items with forecast cost above 1 million", f"{LIST} AND forecast_cost > 1000000"),
    ("purchases with a price under 10,000", f"{listed('purchase_price')} AND source = 'Purchase' AND purchase_price < 10000"),
    ("how many rentals have a rate of at least 5k", f"SELECT count(*) {M} AND source = 'Rental' AND monthly_rate >= 5000"),
    ("top 5 most expensive records", f"{LIST} ORDER BY forecast_cost DESC NULLS LAST LIMIT 5"),
    ("top 3 cranes by rate", f"SELECT id, category, class, area, source, forecast_start, forecast_end, forecast_cost,"
     f" monthly_rate {M} AND category = 'Cranes' ORDER BY monthly_rate DESC NULLS LAST LIMIT 3"),  # the measure shown
    ("10 least expensive concrete items", f"{LIST} AND category = 'Concrete' ORDER BY forecast_cost ASC NULLS LAST LIMIT 10"),
    ("equipment arriving in March 2026", f"{LIST} AND forecast_start >= '2026-03-01' AND forecast_start < '2026-04-01'"),
    ("what ends before 2026-01-01", f"{LIST} AND forecast_end < '2026-01-01'"),
    ("how many start after 2027-06-30", f"SELECT count(*) {M} AND forecast_start > '2027-06-30'"),
    ("records starting between 2026-01-01 and 2026-02-15",
     f"{LIST} AND forecast_start >= '2026-01-01' AND forecast_start <= '2026-02-15'"),
    ("how many rentals end in june 2026", f"SELECT count(*) {M} AND source = 'Rental' AND forecast_end >= '2026-06-01' AND forecast_end < '2026-07-01'"),
    ("what starts in the next 6 weeks",
     f"{LIST} AND forecast_start >= CURRENT_DATE AND forecast_start <= CURRENT_DATE + 42"),
    ("how many items end in the next 30 days",
     f"SELECT count(*) {M} AND forecast_end >= CURRENT_DATE AND forecast_end <= CURRENT_DATE + 30"),
    ("count starting this year", f"SELECT count(*) {M} AND forecast_start >= date_trunc('year', CURRENT_DATE)::date"
     " AND forecast_start < date_trunc('year', CURRENT_DATE)::date + interval '1 year'"),
    ("count by month for rentals", f"SELECT date_trunc('month', forecast_start)::date, count(*) {M} AND source = 'Rental' GROUP BY 1"),
    ("list all Liebherr equipment in the Tank Farm",
     f"{listed('manufacturer')} AND manufacturer = 'Liebherr' AND area = 'Tank Farm'"),
    ("show crawler crane 250t records", f"{LIST} AND class = 'Crawler Crane 250T'"),
]


@pytest.fixture(scope="module")
def demo(database_factory):
    urls = database_factory()
    with psycopg.connect(urls.app, autocommit=True) as conn:
        for org in ("ORG_A", "ORG_B"):
            add_org(conn, org)
            add_records(conn, list(demo_data.generate_records(org, 1500)))
        mirror.analyze(conn)
        vocabulary = org_vocabulary(conn, "ORG_A", ("category", "class", "area", "manufacturer"))
    return urls, vocabulary




def test_there_are_at_least_40_cases():
    assert len(CASES) >= 40 and len({q for q, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("question, expected", CASES, ids=[q for q, _ in CASES])
def test_offline_answers(demo, question, expected):
    urls, vocabulary = demo
    sql, explanation = parse_question(question, vocabulary)
    verdict = check(sql, view_columns=VIEW_COLUMNS, org_id="ORG_A", max_rows=100_000)
    assert verdict.allowed, verdict.reasons
    got = run_as_reader(urls.reader, verdict.sql, "ORG_A")
    with psycopg.connect(urls.app) as conn:
        want = conn.execute(expected).fetchall()
    assert len(got) > 0 or len(want) == 0
    assert normal_rows(got) == normal_rows(want), (sql, explanation)


@pytest.mark.parametrize("question, words", [("what is the meaning of life", ["meaning", "life"]),
                                             ("tell me a joke", ["joke"]), ("drop the table", ["drop", "table"]),
                                             ("hello", ["hello"])])
def test_what_it_cannot_parse_it_says_plainly(question, words, demo):
    with pytest.raises(CannotAnswerOffline, match="did not understand") as caught:
        parse_question(question, demo[1])
    assert caught.value.code == "not_understood" and caught.value.details["words"] == words
