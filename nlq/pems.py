"""Which PEMS the service talks to: the configured one, or the built-in simulator with demo data.

The built-in simulator keeps its state in its own database on the app's server (the embedded one
in the data directory, or VANGUARD_DATABASE_URL's), so the server, a CLI sync and any restart of
either talk to one PEMS that remembers what was written to it (store/pems/sim_store.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from psycopg.conninfo import conninfo_to_dict

from nlq.config import Settings
from store import demo_data
from store.database import DatabaseUrls
from store.pems.background import BackgroundServer
from store.pems.client import PemsSettings
from store.pems.sim_store import SimStore, sim_database_name
from store.pems.simulator import PemsSimulator

DEMO_SEED = 7  # the seed `vanguard serve` and the built-in PEMS generate the demo records from


@dataclass(frozen=True)
class PemsEndpoint:
    settings: PemsSettings
    simulated_organizations: list[str] | None  # None for a real PEMS

    @property
    def name(self) -> str:
        """What logs call it: the built-in simulator of a data directory, or the URL."""
        return self.settings.display_name


def builtin_pems_name(settings: Settings, admin_url: str) -> str:
    """`built-in simulator of <data dir>` on the embedded server; on a configured server, the
    simulator's database there (never a password)."""
    if settings.database_url is None:
        return f"built-in simulator of {settings.data_dir.expanduser().resolve()}"
    params = conninfo_to_dict(admin_url)
    where = params.get("host") or "localhost"
    if params.get("port"):
        where += f":{params['port']}"
    return f"built-in simulator in database {sim_database_name(params.get('dbname') or 'postgres')} on {where}"


@contextlib.contextmanager
def open_builtin_store(settings: Settings, urls: DatabaseUrls) -> Iterator[SimStore]:
    """The built-in PEMS's durable state on the app's server (created and seeded on first use)."""
    store = SimStore.open(urls.admin, builtin_pems_name(settings, urls.admin))
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def open_pems(settings: Settings, urls: DatabaseUrls) -> Iterator[PemsEndpoint]:
    """Yield the PEMS endpoint; without VANGUARD_PEMS_BASE_URL, serve the built-in simulator of
    this data directory (or database server) on loopback meanwhile."""
    if settings.pems_base_url:
        yield PemsEndpoint(settings.pems_settings(), None)
        return
    organizations = demo_data.organization_codes(settings.demo_orgs)
    with open_builtin_store(settings, urls) as store:
        simulator = PemsSimulator(organizations, settings.demo_records, seed=DEMO_SEED, store=store)
        with BackgroundServer(simulator.app(), date_header=False) as url:
            client = dataclasses.replace(settings.pems_settings(base_url=url, api_key=simulator.api_key),
                                         name=store.label)
            yield PemsEndpoint(client, sorted(simulator.orgs))


def serve_builtin_pems(settings: Settings, urls: DatabaseUrls, args) -> int:
    """`vanguard pems-sim --durable` / `--reset`: the built-in PEMS's stored state, reset first
    when asked, then served over HTTP (with --durable) until interrupted."""
    import uvicorn

    organizations = demo_data.organization_codes(args.orgs or settings.demo_orgs)
    records = args.records or settings.demo_records
    with open_builtin_store(settings, urls) as store:
        if args.reset:
            store.reset(organizations, records, seed=args.seed)
            print(f"{store.label}: reset to {len(organizations)} organization(s) x {records:,} records "
                  f"(seed {args.seed})", flush=True)
            if not args.durable:
                return 0
        simulator = PemsSimulator(organizations, records, seed=args.seed, api_key=args.api_key, store=store)
        print(f"PEMS: {store.label} on http://{args.host}:{args.port}  organizations: {', '.join(sorted(simulator.orgs))}  "
              f"API key: {args.api_key}  tenant: {simulator.tenant}", flush=True)
        uvicorn.run(simulator.app(), host=args.host, port=args.port, log_level="warning", date_header=False)
    return 0
