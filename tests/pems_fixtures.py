"""A PEMS simulator on a loopback port per test, and clients for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from store.pems.background import BackgroundServer
from store.pems.client import PemsClient, PemsSettings
from store.pems.simulator import PemsSimulator


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


@pytest.fixture
def pems_factory() -> Iterator:
    servers: list[BackgroundServer] = []

    def make(orgs: list[str], records: int, seed: int = 7) -> Pems:
        sim = PemsSimulator(orgs, records, seed=seed)
        server = BackgroundServer(sim.app())
        servers.append(server)
        return Pems(sim, server.start())

    yield make
    for server in servers:
        server.stop()
