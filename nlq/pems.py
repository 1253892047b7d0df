"""Which PEMS the service talks to: the configured one, or the built-in simulator with demo data."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from nlq.config import Settings
from store import demo_data
from store.pems.background import BackgroundServer
from store.pems.client import PemsSettings
from store.pems.simulator import PemsSimulator


@dataclass(frozen=True)
class PemsEndpoint:
    settings: PemsSettings
    simulated_organizations: list[str] | None  # None for a real PEMS


@contextlib.contextmanager
def open_pems(settings: Settings) -> Iterator[PemsEndpoint]:
    """Yield the PEMS endpoint; without VANGUARD_PEMS_BASE_URL, serve the simulator on loopback meanwhile."""
    if settings.pems_base_url:
        yield PemsEndpoint(settings.pems_settings(), None)
        return
    organizations = demo_data.organization_codes(settings.demo_orgs)
    simulator = PemsSimulator(organizations, settings.demo_records)
    with BackgroundServer(simulator.app(), date_header=False) as url:
        yield PemsEndpoint(settings.pems_settings(base_url=url, api_key=simulator.api_key), organizations)
