"""The PEMS client against the simulator over HTTP: paging, parsing, retries and typed errors."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from store.pems import grid_filters, mapping
from store.pems.client import PemsClient, PemsSettings
from store.pems.errors import MalformedRecord, PemsConflict, PemsRejected, PemsUnavailable
from store.pems.simulator import Churn


def all_rows(client, org, **kw):
    return [row for page in client.iter_rows(org, **kw) for row in page]


def test_paging_returns_every_record_once_in_id_order(pems_factory):
    pems = pems_factory(["ORG_A"], 2345)
    rows = all_rows(pems.client(page_size=500), "ORG_A")
    ids = [r.record_id for r in rows]
    assert len(ids) == 2345 and ids == sorted(set(ids))
    snapshot = pems.sim.snapshot("ORG_A")
    assert all((r.record, r.pems_record_id) == snapshot[r.record_id] for r in rows)


def test_incremental_filter_returns_only_later_changes(pems_factory):
    pems = pems_factory(["ORG_A"], 300)
    newest = max(r.modified for r in pems.sim.orgs["ORG_A"].values())
    changed = set(pems.control("change", org="ORG_A", count=7, seed=1)["ids"])
    rows = all_rows(pems.client(), "ORG_A", modified_after=newest)
    assert {r.record_id for r in rows} == changed


def test_basic_auth_works_and_bad_credentials_are_rejected_without_retry(pems_factory):
    pems = pems_factory(["ORG_A"], 10)
    basic = PemsClient(PemsSettings(pems.url, user="vanguard", password=pems.sim.api_key))
    assert len(all_rows(basic, "ORG_A")) == 10
    wrong = PemsClient(PemsSettings(pems.url, api_key="wrong", backoff_seconds=5))
    started = time.monotonic()
    with pytest.raises(PemsRejected, match="Invalid credentials"):
        all_rows(wrong, "ORG_A")
    assert time.monotonic() - started < 2, "an ErrorAlert must not be retried"


def test_wrong_tenant_and_unknown_organization_are_rejected(pems_factory):
    pems = pems_factory(["ORG_A"], 10)
    with pytest.raises(PemsRejected, match="Unknown tenant"):
        all_rows(pems.client(tenant="OTHER"), "ORG_A")
    with pytest.raises(PemsRejected, match="does not exist"):
        all_rows(pems.client(), "NOPE")


def test_error_alert_inside_http_200_is_not_retried(pems_factory):
    pems = pems_factory(["ORG_A"], 10)
    pems.control("faults", error_alert_rate=1.0)
    with pytest.raises(PemsRejected, match="rejected the request"):
        all_rows(pems.client(backoff_seconds=5), "ORG_A")


def test_5xx_and_timeouts_are_retried_then_reported(pems_factory):
    pems = pems_factory(["ORG_A"], 10)
    pems.control("faults", error_rate=1.0)
    with pytest.raises(PemsUnavailable, match="HTTP 503 after 3 attempts"):
        all_rows(pems.client(max_attempts=3), "ORG_A")
    pems.control("faults", error_rate=0.0, timeout_rate=1.0, timeout_seconds=1.0)
    with pytest.raises(PemsUnavailable, match="timed out after 2 attempts"):
        all_rows(pems.client(max_attempts=2, timeout_seconds=0.2), "ORG_A")


def test_unreachable_pems_is_unavailable():
    client = PemsClient(PemsSettings("http://127.0.0.1:1", api_key="x", max_attempts=2, backoff_seconds=0.01))
    with pytest.raises(PemsUnavailable, match="connection failed"):
        all_rows(client, "ORG_A")


def test_update_conflict_and_idempotent_replay(pems_factory):
    pems = pems_factory(["ORG_A"], 10)
    client = pems.client()
    first = client.update_record("ORG_A", "PFA-0000001", 1, {"area": "X"}, "key-1")
    replay = client.update_record("ORG_A", "PFA-0000001", 1, {"area": "X"}, "key-1")
    assert first == replay and first.pems_record_id == 2 and pems.sim.writes == 1
    with pytest.raises(PemsConflict):
        client.update_record("ORG_A", "PFA-0000001", 1, {"area": "Y"}, "key-2")
    with pytest.raises(PemsRejected, match="does not exist"):
        client.update_record("ORG_A", "PFA-9999999", 1, {"area": "Y"}, "key-3")


def test_get_record(pems_factory):
    pems = pems_factory(["ORG_A"], 20)
    row = pems.client().get_record("ORG_A", "PFA-0000012")
    assert row.record_id == "PFA-0000012" and row.record["organization"] == "ORG_A"
    assert pems.client().get_record("ORG_A", "PFA-0000999") is None


def grid(pems, org: str, body: dict) -> httpx.Response:
    return httpx.post(f"{pems.url}/axis/restservices/grids", json=body, timeout=10,
                      headers={"X-API-KEY": pems.sim.api_key, "tenant": "VANGUARD", "organization": org})


def offset_read(pems, org: str, page_size: int) -> list[str]:
    """What a client paging by CURSOR_POSITION (the way the sync once read) gets."""
    ids, cursor = [], 0
    while True:
        body = {"GRID": {"GRID_NAME": "PFA", "NUMBER_OF_ROWS_FIRST_RETURNED": page_size, "CURSOR_POSITION": cursor},
                "ADDON_SORT": {"ALIAS_NAME": "pfs_id", "TYPE": "ASC"}}
        result = grid(pems, org, body).json()["Result"]["ResultData"]
        rows = [dict((f["FIELDNAME"], f["FIELDVALUE"]) for f in r["DATAFIELD"])["pfs_id"] for r in result["DATARECORD"]]
        ids.extend(rows)
        cursor += len(rows)
        if result["MORERECORDPRESENT"] != "+":
            return ids


def test_offset_paging_works_on_a_quiet_grid_and_skips_rows_when_pems_deletes_between_pages(pems_factory):
    """The simulator pages like a real EAM grid: an offset counts into the list as it is now."""
    quiet = pems_factory(["ORG_A"], 500)
    assert offset_read(quiet, "ORG_A", 50) == sorted(quiet.sim.snapshot("ORG_A"))
    busy = pems_factory(["ORG_A"], 500, churn=Churn(deletes=3, seed=2))
    before = set(busy.sim.snapshot("ORG_A"))
    read = offset_read(busy, "ORG_A", 50)
    lived_through = before & set(busy.sim.snapshot("ORG_A"))
    assert lived_through - set(read), "deletions before the cursor shift live rows out of an offset read"


def test_key_paging_returns_every_record_that_lived_through_the_read_once(pems_factory):
    pems = pems_factory(["ORG_A"], 800, churn=Churn(changes=3, adds=2, deletes=3, seed=4))
    before = set(pems.sim.snapshot("ORG_A"))
    ids = [row.record_id for row in all_rows(pems.client(page_size=40), "ORG_A")]
    after = pems.sim.snapshot("ORG_A")
    assert ids == sorted(set(ids)), "each record once, in id order"
    assert before & set(after) <= set(ids)
    assert pems.sim.churned["deletes"] >= 40 and pems.sim.churned["adds"] >= 20


def test_a_read_of_changes_reads_the_last_version_of_records_changed_while_it_reads(pems_factory):
    pems = pems_factory(["ORG_A"], 400)
    since = pems.sim.clock()
    pems.control("clock", advance_seconds=5)
    pems.control("change", org="ORG_A", count=60, seed=8)
    pems.control("churn", changes=4, seconds=7, seed=5)
    rows = all_rows(pems.client(page_size=10), "ORG_A", modified_after=since)
    pems.control("churn")
    final = pems.sim.snapshot("ORG_A")
    last_read = {row.record_id: (row.record, row.pems_record_id) for row in rows}
    changed = {rid for rid, r in pems.sim.orgs["ORG_A"].items() if r.modified > since}
    assert set(last_read) == changed and len(changed) > 60
    assert all(last_read[rid] == final[rid] for rid in changed), "a change made during the read was not read"
    assert len(rows) > len(changed), "records changed after their page come again"


def test_read_records_returns_the_ids_pems_has_in_batches(pems_factory):
    pems = pems_factory(["ORG_A"], 300)
    wanted = [f"PFA-{i:07d}" for i in range(1, 301, 2)] + ["PFA-9999998", "PFA-9999999"]
    pems.control("delete", org="ORG_A", ids=["PFA-0000001", "PFA-0000003"])
    rows = pems.client(page_size=20).read_records("ORG_A", wanted)
    snapshot = pems.sim.snapshot("ORG_A")
    assert sorted(r.record_id for r in rows) == sorted(set(wanted) & set(snapshot))
    assert all((r.record, r.pems_record_id) == snapshot[r.record_id] for r in rows)


def test_hidden_rows_are_missing_from_paged_reads_but_found_by_id(pems_factory):
    pems = pems_factory(["ORG_A"], 100)
    pems.control("faults", hidden={"ORG_A": ["PFA-0000007", "PFA-0000050"]})
    ids = {r.record_id for r in all_rows(pems.client(page_size=30), "ORG_A")}
    assert len(ids) == 98 and "PFA-0000007" not in ids
    assert [r.record_id for r in pems.client().read_records("ORG_A", ["PFA-0000007", "PFA-0000050"])] == [
        "PFA-0000007", "PFA-0000050"]


def test_pages_carry_the_pems_clock(pems_factory):
    pems = pems_factory(["ORG_A"], 10)
    now = datetime.fromisoformat(pems.control("clock", advance_seconds=7200)["now"].replace("Z", "+00:00"))
    page = next(pems.client().iter_pages("ORG_A"))
    assert timedelta(0) <= page.server_time - now < timedelta(seconds=5)
    assert page.server_time - datetime.now(timezone.utc) > timedelta(seconds=7000)


def test_grid_filters_combine_and_before_or_with_parentheses(pems_factory):
    pems = pems_factory(["ORG_A"], 50)
    org = ("pfs_organization", "=", "ORG_A")
    groups = [[org, ("pfs_id", "=", "PFA-0000003")], [org, ("pfs_id", ">", "PFA-0000048")]]
    body = {"GRID": {"NUMBER_OF_ROWS_FIRST_RETURNED": 100}, "MULTIADDON_FILTERS": grid_filters.render(groups)}
    rows = grid(pems, "ORG_A", body).json()["Result"]["ResultData"]["DATARECORD"]
    assert [dict((f["FIELDNAME"], f["FIELDVALUE"]) for f in r["DATAFIELD"])["pfs_id"] for r in rows] == [
        "PFA-0000003", "PFA-0000049", "PFA-0000050"]
    tree = grid_filters.parse(grid_filters.render(groups))
    assert tree.op == "or" and [c.op for c in tree.children] == ["and", "and"]
    flat = grid_filters.parse({"MULTIADDON_FILTER": [  # a AND b OR c: AND binds tighter
        {"SEQNUM": 1, "JOINER": "AND", "ADDON_FILTER": {"ALIAS_NAME": "a", "OPERATOR": "=", "VALUE": "1"}},
        {"SEQNUM": 2, "JOINER": "OR", "ADDON_FILTER": {"ALIAS_NAME": "b", "OPERATOR": "=", "VALUE": "2"}},
        {"SEQNUM": 3, "ADDON_FILTER": {"ALIAS_NAME": "c", "OPERATOR": "=", "VALUE": "3"}}]})
    assert flat.op == "or" and flat.children[0].op == "and"
    assert grid_filters.lower_bound(tree, "pfs_id", str) == ("PFA-0000003", True)


@pytest.mark.parametrize("filters, message", [
    ([{"SEQNUM": 1, "LPAREN": "(", "ADDON_FILTER": {"ALIAS_NAME": "pfs_id", "OPERATOR": "=", "VALUE": "x"}}],
     "unbalanced parentheses"),
    ([{"SEQNUM": 1, "ADDON_FILTER": {"ALIAS_NAME": "pfs_id", "OPERATOR": "LIKE", "VALUE": "x"}}], "not supported"),
    ([{"SEQNUM": 1, "ADDON_FILTER": {"ALIAS_NAME": "pfs_lastmodified", "OPERATOR": ">", "VALUE": "soon"}}],
     "not valid"),
    ([{"SEQNUM": 1, "ADDON_FILTER": {"ALIAS_NAME": "pfs_f_area", "OPERATOR": "=", "VALUE": "x"}}], "cannot filter"),
])
def test_the_simulator_refuses_filters_it_cannot_evaluate(pems_factory, filters, message):
    pems = pems_factory(["ORG_A"], 5)
    response = grid(pems, "ORG_A", {"GRID": {}, "MULTIADDON_FILTERS": {"MULTIADDON_FILTER": filters}})
    assert response.status_code == 400 and response.json()["ErrorAlert"][0]["Name"] == "INVALID_FILTER"
    assert message in response.json()["ErrorAlert"][0]["Message"]


# -- the mapping ------------------------------------------------------------------------------

def test_pems_values_are_parsed_into_registry_values():
    fields = [{"FIELDNAME": "pfs_id", "FIELDVALUE": "P-1"}, {"FIELDNAME": "pfs_f_rental", "FIELDVALUE": "12,500.50"},
              {"FIELDNAME": "pfs_f_purchase", "FIELDVALUE": "1,000,000.00"},
              {"FIELDNAME": "pfs_f_actualized", "FIELDVALUE": "Y"}, {"FIELDNAME": "pfs_f_discontinued", "FIELDVALUE": "N"},
              {"FIELDNAME": "pfs_f_startdate", "FIELDVALUE": "02/29/2024"}, {"FIELDNAME": "pfs_f_eqtag", "FIELDVALUE": ""},
              {"FIELDNAME": "pfs_lastmodified", "FIELDVALUE": "11/23/2026 13:05:09"},
              {"FIELDNAME": "pfs_unknown_column", "FIELDVALUE": "ignored"}, {"FIELDNAME": "recordid", "FIELDVALUE": "7"}]
    record, recordid = mapping.parse_row(fields)
    assert record == {"pfaId": "P-1", "monthlyRate": 12500.5, "purchasePrice": 1000000, "isActualized": True,
                      "isDiscontinued": False, "forecastStart": "2024-02-29", "lastModified": "2026-11-23T13:05:09Z"}
    assert recordid == 7


@pytest.mark.parametrize("alias, value", [("pfs_f_rental", "abc"), ("pfs_f_rental", "NaN"),
                                          ("pfs_f_startdate", "2024-02-30"), ("pfs_f_startdate", "13/01/2024"),
                                          ("pfs_f_actualized", "Yes"), ("pfs_lastmodified", "yesterday"),
                                          ("recordid", "x"), ("pfs_f_area", 5)])
def test_unreadable_values_name_the_record_and_field(alias, value):
    fields = [{"FIELDNAME": "pfs_id", "FIELDVALUE": "P-1"}, {"FIELDNAME": "recordid", "FIELDVALUE": "1"},
              {"FIELDNAME": alias, "FIELDVALUE": value}]
    with pytest.raises(MalformedRecord) as err:
        mapping.parse_row(fields)
    assert "P-1" in err.value.message


@pytest.mark.parametrize("fields", [None, "x", [{"FIELDNAME": "pfs_f_area"}], [{"FIELDNAME": "pfs_f_area", "FIELDVALUE": "A"}]])
def test_rows_without_shape_or_id_are_malformed(fields):
    with pytest.raises(MalformedRecord):
        mapping.parse_row(fields)


def test_every_editable_field_has_a_pems_alias_and_round_trips():
    from store.fields import EDITABLE_KEYS, RECORD_KEYS
    assert set(mapping.ALIASES) == set(RECORD_KEYS)
    changes = {"area": "Silo 9", "monthlyRate": 1234.5, "forecastEnd": "2027-01-31", "isDiscontinued": True, "dor": "BEO"}
    assert mapping.parse_changes(mapping.render_changes(changes)) == changes
    assert EDITABLE_KEYS <= set(mapping.ALIASES)


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"GRID": {"NUMBER_OF_ROWS_FIRST_RETURNED": "many"}}',
                                  b'{"GRID": {"NUMBER_OF_ROWS_FIRST_RETURNED": 0}}'])
def test_the_simulator_answers_malformed_grid_requests_with_an_error_alert(pems_factory, body):
    import httpx
    pems = pems_factory(["ORG_A"], 5)
    response = httpx.post(f"{pems.url}/axis/restservices/grids", content=body,
                          headers={"X-API-KEY": pems.sim.api_key, "tenant": "VANGUARD", "organization": "ORG_A"})
    assert response.status_code == 400
    assert response.json()["ErrorAlert"][0]["Name"] in ("INVALID_REQUEST", "INVALID_PAGE")


def test_the_simulator_is_deterministic_under_a_seed(pems_factory):
    a = pems_factory(["ORG_A"], 200, seed=5)
    b = pems_factory(["ORG_A"], 200, seed=5)
    assert a.sim.snapshot("ORG_A") == b.sim.snapshot("ORG_A")
    assert a.control("change", org="ORG_A", count=5, seed=3)["ids"] == b.control("change", org="ORG_A", count=5, seed=3)["ids"]
    assert a.control("faults", malformed={"ORG_A": 0.05}, seed=2) == b.control("faults", malformed={"ORG_A": 0.05}, seed=2)
