"""The PEMS client against the simulator over HTTP: paging, parsing, retries and typed errors."""

from __future__ import annotations

import time

import pytest

from store.pems import mapping
from store.pems.client import PemsClient, PemsSettings
from store.pems.errors import MalformedRecord, PemsConflict, PemsRejected, PemsUnavailable


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
