"""The built-in PEMS's durable state: simulators over one store are one PEMS, over HTTP.

Each `durable_pems()` is a simulator with its own store connection and its own HTTP server, as a
separate process (the server, a CLI sync) has; they share only the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from store.pems.background import BackgroundServer
from store.pems.errors import PemsConflict
from store.pems.sim_store import SimStore, sim_database_name
from store.pems.simulator import PemsSimulator
from tests.pems_fixtures import Pems

ORG = "ORG_A"


@pytest.fixture
def durable_pems(db) -> Iterator:
    """Make simulators over the built-in PEMS's store of the test database."""
    servers: list[BackgroundServer] = []
    stores: list[SimStore] = []

    def make(orgs: list[str] = [ORG], records: int = 30, admin_url: str | None = None) -> Pems:
        store = SimStore.open(admin_url or db.admin, "test PEMS")
        stores.append(store)
        sim = PemsSimulator(orgs, records, store=store)
        server = BackgroundServer(sim.app(), date_header=False)
        servers.append(server)
        return Pems(sim, server.start())

    yield make
    for server in servers:
        server.stop()
    for store in stores:
        store.close()


def grid(pems: Pems, org: str = ORG) -> dict[str, tuple[dict, int]]:
    """Everything a full read through `pems`'s HTTP grid returns."""
    with pems.client() as client:
        return {row.record_id: (row.record, row.pems_record_id) for page in client.iter_rows(org) for row in page}


def test_seeded_once_with_the_records_of_the_in_memory_simulator(durable_pems):
    first = durable_pems(records=30)
    assert first.sim.snapshot(ORG) == PemsSimulator([ORG], 30).snapshot(ORG)
    first.control("edit", org=ORG, id="PFA-0000002", changes={"area": "Silo 4"})
    again = durable_pems(records=50)  # a later process asking for more does not reseed
    held = again.sim.snapshot(ORG)
    assert len(held) == 30 and held["PFA-0000002"][0]["area"] == "Silo 4" and held["PFA-0000002"][1] == 2
    assert grid(again) == grid(first)
    both = durable_pems(orgs=[ORG, "ORG_B"], records=10)  # a new organization is seeded beside the old one
    assert len(both.sim.snapshot(ORG)) == 30 and len(both.sim.snapshot("ORG_B")) == 10


def test_a_write_through_one_simulator_is_read_through_the_other(durable_pems):
    server, cli = durable_pems(), durable_pems()
    with server.client() as client:
        written = client.update_record(ORG, "PFA-0000003", 1, {"area": "Silo 4", "forecastEnd": "2029-06-30"},
                                       idempotency_key="k-1")
    assert written.pems_record_id == 2
    record, recordid = grid(cli)["PFA-0000003"]
    assert (record["area"], record["forecastEnd"], recordid) == ("Silo 4", "2029-06-30", 2)
    cli.control("add", org=ORG, count=2)
    cli.control("delete", org=ORG, ids=["PFA-0000004"])
    cli.control("change", org=ORG, count=3, seed=5)
    assert grid(server) == grid(cli) and len(grid(server)) == 31
    assert server.sim.snapshot(ORG) == cli.sim.snapshot(ORG)
    with cli.client() as client, pytest.raises(PemsConflict):  # the other one's write moved the recordid on
        client.update_record(ORG, "PFA-0000003", 1, {"area": "Mine"}, idempotency_key="k-2")


def test_an_idempotency_key_is_answered_by_every_simulator_with_the_first_answer(durable_pems):
    one, two = durable_pems(), durable_pems()
    with one.client() as client:
        first = client.update_record(ORG, "PFA-0000005", 1, {"area": "Tank Farm"}, idempotency_key="same")
    with two.client() as client:
        replay = client.update_record(ORG, "PFA-0000005", 1, {"area": "Tank Farm"}, idempotency_key="same")
    assert replay == first and replay.pems_record_id == 2
    assert one.sim.snapshot(ORG)["PFA-0000005"][1] == 2 == two.sim.snapshot(ORG)["PFA-0000005"][1]  # applied once


def test_concurrent_writes_through_two_simulators_stay_atomic_and_versions_monotonic(durable_pems):
    """Two processes writing one record at once: each recordid is won by exactly one write, the
    recordid ends at 1 + the writes won, and no read ever sees it go back."""
    pems = [durable_pems(), durable_pems()]
    rid, rounds, writers = "PFA-0000007", 4, 4
    won: list[int] = []
    seen: list[list[int]] = [[], []]
    lock = threading.Lock()
    stop = threading.Event()

    def write(worker: int, recordid: int) -> None:
        with pems[worker % 2].client(max_attempts=1) as client:
            try:
                row = client.update_record(ORG, rid, recordid, {"area": f"Area {worker}"},
                                           idempotency_key=f"w{worker}-r{recordid}")
            except PemsConflict:
                return
        with lock:
            won.append(row.pems_record_id)

    def watch(side: int) -> None:
        with pems[side].client() as client:
            while not stop.is_set():
                seen[side].append(client.get_record(ORG, rid).pems_record_id)
                stop.wait(0.01)

    watchers = [threading.Thread(target=watch, args=(side,)) for side in (0, 1)]
    for thread in watchers:
        thread.start()
    churn = threading.Thread(target=lambda: [pems[1].control("change", org=ORG, count=5, seed=s) for s in range(5)])
    churn.start()
    for _ in range(rounds):
        current = pems[0].sim.snapshot(ORG)[rid][1]
        threads = [threading.Thread(target=write, args=(w, current)) for w in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    churn.join()
    stop.set()
    for thread in watchers:
        thread.join()
    final = pems[1].sim.snapshot(ORG)[rid][1]
    assert len(won) == len(set(won)) >= rounds, "two writes won the same recordid"
    assert final == pems[0].sim.snapshot(ORG)[rid][1] >= 1 + rounds
    for side in seen:
        assert side == sorted(side), "a read saw the recordid go back"
    with psycopg.connect(durable_pems_url(pems[0])) as conn:
        assert conn.execute("SELECT recordid FROM pems.records WHERE id = %s", (rid,)).fetchone()[0] == final


def durable_pems_url(pems: Pems) -> str:
    return pems.sim.store.url


def test_the_clock_is_one_clock(durable_pems):
    one, two = durable_pems(), durable_pems()
    moved = one.sim.advance_clock(3600)
    two.sim.refresh()
    assert abs((two.sim.clock() - moved).total_seconds()) <= 1


def test_reset_forgets_every_change_and_other_processes_load_the_new_state(durable_pems):
    one, two = durable_pems(records=20), durable_pems(records=20)
    one.control("edit", org=ORG, id="PFA-0000002", changes={"area": "Silo 4"})
    with one.client() as client:
        client.update_record(ORG, "PFA-0000003", 1, {"area": "Tank Farm"}, idempotency_key="before-reset")
    assert grid(two)["PFA-0000002"][0]["area"] == "Silo 4"
    one.sim.store.reset([ORG], 20, seed=7)
    assert grid(two) == grid(one) == {rid: (rec, n) for rid, (rec, n) in PemsSimulator([ORG], 20).snapshot(ORG).items()}
    with two.client() as client:  # the key was forgotten too: the same request is a new write
        assert client.update_record(ORG, "PFA-0000003", 1, {"area": "Tank Farm"},
                                    idempotency_key="before-reset").pems_record_id == 2


def test_the_app_and_reader_roles_cannot_reach_the_pems_database(db, durable_pems):
    durable_pems()
    name = sim_database_name(psycopg.conninfo.conninfo_to_dict(db.admin)["dbname"])
    for url in (db.app, db.reader):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(psycopg.conninfo.make_conninfo(url, dbname=name)).close()
    with psycopg.connect(db.app) as conn:  # and it is not in the app's database either
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'pems'").fetchone()[0] == 0


def test_a_simulator_whose_connection_dropped_reconnects(db, durable_pems):
    pems = durable_pems()
    with psycopg.connect(db.admin, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                     (sim_database_name(psycopg.conninfo.conninfo_to_dict(db.admin)["dbname"]),))
    response = httpx.get(f"{pems.url}/_control/records", params={"org": ORG}, timeout=10)
    assert response.status_code == 200 and len(response.json()) == 30
