"""Constructions the offline parser used to read in part: now declined by rule, or read in full.

Every phrasing here is this file's own (other values, words and order than any question set's).
Declines are `not_understood` naming the construction's words; the readings that are answered equal
a hand-written query on the mirror, as in test_semantic_parser.
"""

from __future__ import annotations

import pytest

from tests.test_semantic_classes import assert_same_answer
from tests.test_semantic_parser import TODAY, M, assert_declines, demo  # noqa: F401  (the shared demo fixture)

DECLINED = [
    # a second step that refers back to the first
    ("among those, which ones are rentals", ["among those"]),
    ("plan cost of the generators in Silo 2 and the share of that which is rented", ["of that"]),
    # two questions one after the other
    ("count the pumps in Silo 3, then list their rates", ["then list"]),
    ("total plan cost of cranes; what is it for generators", [";"]),
    # a superlative that picks a group, said so that it is not read as a ranking
    ("the class with the highest monthly rate", ["with the highest"]),
    ("the manufacturer with the lowest plan cost", ["with the lowest"]),
    # a ranking inside a per-group frame the grammar does not take as 'within each'
    ("in all categories, what class has the highest plan cost", ["all categories"]),
    ("by area, which category has the most items", ["most"]),
    # a set of values named by the column's own word: a subset, not a grouping
    ("how many items are in the zones", ["in the zones"]),
    ("forecast cost of rentals at the zones", ["at the zones"]),
    # a superlative with nothing to rank by
    ("which class is cancelled the most", ["most"]),
    # a count of different values that is also the grouping ('make' is a word for manufacturer)
    ("how many different manufacturers make generators", ["distinct manufacturer"]),
    # a ranking of records next to figures over all of them
    ("count of cranes and the top rate", ["top"]),
    # a rate, price or length per group with no word for total or average
    ("purchase price of generators by area", ["purchase price"]),
    ("rental length per category", ["length"]),
    # a figure over the groups' own figures
    ("average number of rentals per class", ["average number of"]),
    ("the median total plan cost by area", ["median total"]),
    # a condition on every record of a group, not a filter on the records
    ("manufacturers where every crane is rented", ["every crane"]),
    ("which classes have all items on site", ["all items"]),
    ("categories that have only purchases", ["that have only"]),
    # groups that have some records and lack others: the filter would empty the absence
    ("areas that have pumps but no cranes", ["no"]),
    # 'late' after a date word: late against which date
    ("which rentals finished late", ["finished late"]),
    # 'what is the <figure> of ...': each record's figure or their total
    ("what is the plan cost of generators in Silo 5", ["plan cost"]),
    # a changed letter in a short word is another word, not a close spelling ('made' is not 'make')
    ("how many rentals were made in 2027", ["made"]),
    # a ranking of groups by a count nobody asked for, next to another figure
    ("average monthly rate of the top 3 classes", ["top"]),
    # a condition said of whole groups, not of their records
    ("categories that are under budget", ["categories under budget"]),
]


@pytest.mark.parametrize("question, words", DECLINED, ids=[q for q, _ in DECLINED])
def test_constructions_it_does_not_hold_decline(demo, question, words):  # noqa: F811
    declined = assert_declines(demo, question, words)
    assert "does not answer rather than guess" in declined.message
    assert declined.message.count('"') == 6  # three phrasings it does read


ANSWERED = [
    # 'never' / 'no' before a flag, when the rows are groups: the groups with no such record
    ("which models were never cancelled",
     f"SELECT model, count(*) {M} GROUP BY 1 HAVING count(*) FILTER (WHERE is_discontinued) = 0"),
    ("areas with no overdue purchases",
     f"SELECT area, count(*) {M} GROUP BY 1 HAVING count(*) FILTER (WHERE is_actualized AND actual_end IS NULL"
     f" AND forecast_end < '{TODAY}' AND source = 'Purchase') = 0"),
    # a count per group of records that meet a condition on their own figure
    ("how many purchases per area have slipped more than 2 weeks",
     f"SELECT area, count(*) {M} AND source = 'Purchase' AND forecast_end - plan_end > 14 GROUP BY 1"),
    ("for each class, how many rentals cost more than 150k",
     f"SELECT class, count(*) {M} AND source = 'Rental' AND forecast_cost > 150000 GROUP BY 1"),
    # the measure of an amount said after it
    ("which manufacturers add up to more than 3m in purchase price",
     f"SELECT manufacturer, sum(purchase_price) {M} GROUP BY 1 HAVING sum(purchase_price) > 3000000"),
    # a bare date in a question bucketed by a date: that date
    ("rentals per month of plan end, 2027 only",
     f"SELECT date_trunc('month', plan_end)::date, count(*) {M} AND source = 'Rental'"
     " AND plan_end >= '2027-01-01' AND plan_end < '2028-01-01' GROUP BY 1"),
    # 'total number of' is the count
    ("total number of generators in Silo 1",
     f"SELECT count(*) {M} AND category = 'Generators' AND area = 'Silo 1'"),
    # a range with its year said once: both ends in that year
    ("how many purchases start between April and June 2027",
     f"SELECT count(*) {M} AND source = 'Purchase' AND forecast_start >= '2027-04-01'"
     " AND forecast_start < '2027-07-01'"),
    # a rank 'within each' group ranks inside that group
    ("rank the classes by plan cost within each area",
     "SELECT area, class, sum(plan_cost), rank() OVER (PARTITION BY area ORDER BY sum(plan_cost) DESC NULLS LAST)"
     f" {M} GROUP BY 1, 2"),
    # 'rental period' is the length of rentals
    ("average rental period by manufacturer",
     f"SELECT manufacturer, avg(forecast_end - forecast_start) {M} AND source = 'Rental' GROUP BY 1"),
    # 'across every' / 'at each' is 'within each'; ties at the cut-off are all shown
    ("across every area, which category has the most rentals",
     "SELECT area, category, n FROM (SELECT area, category, count(*) AS n, rank() OVER (PARTITION BY area"
     f" ORDER BY count(*) DESC) AS r {M} AND source = 'Rental' GROUP BY 1, 2) s WHERE r = 1"),
    ("the 2 cheapest purchases at each manufacturer by purchase price",
     "SELECT manufacturer, id, purchase_price FROM (SELECT manufacturer, id, purchase_price, rank() OVER"
     f" (PARTITION BY manufacturer ORDER BY purchase_price NULLS LAST) AS r {M} AND source = 'Purchase') s"
     " WHERE r <= 2"),
]


@pytest.mark.parametrize("question, expected", ANSWERED, ids=[q for q, _ in ANSWERED])
def test_answers_equal_a_hand_written_query(demo, question, expected):  # noqa: F811
    assert_same_answer(demo, question, expected)

