"""A PEMS simulator on a loopback port per test, and clients for it.

`pems_factory` serves a quiet PEMS (nothing changes unless the test says so); `sync_pems` is the
default for sync tests: a PEMS whose users change, add and delete records between the pages of
every read (`CHURN`), as the real one does while a sync runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from store.pems.background import BackgroundServer
from store.pems.client import PemsClient, PemsSettings
from store.pems.simulator import Churn, PemsSimulator

CHURN = Churn(changes=2, adds=1, deletes=1, seed=13)


class Pems:
    """A running simulator: its state, its URL, and helpers to drive it over HTTP."""

    def __init__(self, sim: PemsSimulator, url: str) -> None:
        self.sim, self.url = sim, url

    def client(self, **overrides) -> PemsClient:
        settings = {"base_url": self.url, "api_key": self.sim.api_key, "backoff_seconds": 0.01,
                    "page_size": 1000, **overrides}
        return PemsClient(PemsSettings(**settings))

    def control(self, action: str, **body) -> dict:
        response = httpx.post(f"{self.url}/_control/{action}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()


def _factory(default_churn: Churn | None):
    servers: list[BackgroundServer] = []

    def make(orgs: list[str], records: int, seed: int = 7, churn: Churn | None = default_churn) -> Pems:
        sim = PemsSimulator(orgs, records, seed=seed, churn=churn)
        server = BackgroundServer(sim.app(), date_header=False)
        servers.append(server)
        return Pems(sim, server.start())

    return make, servers


@pytest.fixture
def pems_factory() -> Iterator:
    make, servers = _factory(None)
    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def sync_pems() -> Iterator:
    """Like `pems_factory`, with `CHURN` between pages unless a test passes `churn=None`."""
    make, servers = _factory(CHURN)
    yield make
    for server in servers:
        server.stop()
