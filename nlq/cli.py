"""The `vanguard` command line."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

import psycopg

from nlq.config import Settings
from store.database import DatabaseUrls, open_database
from store.errors import StoreError
from store.migrate import upgrade

log = logging.getLogger("vanguard")


class UnknownOrganization(StoreError):
    """The organization is not registered."""

    code = "unknown_organization"


class UnknownUser(StoreError):
    """The user does not exist."""

    code = "unknown_user"


class UnknownMembership(StoreError):
    """The user is not a member of that organization."""

    code = "unknown_membership"


class UserExists(StoreError):
    """The user already exists."""

    code = "user_exists"


class PasswordRefused(StoreError):
    """The password is not acceptable."""

    code = "password_refused"

MAX_GUARD_INPUT = 100_000


def _open(settings: Settings):
    return open_database(
        settings.database_url,
        settings.data_dir,
        app_password=Settings.secret(settings.app_db_password),
        reader_password=Settings.secret(settings.reader_db_password),
        app_url=settings.app_database_url,
        reader_url=settings.reader_database_url,
    )


@contextlib.contextmanager
def _app_connection(settings: Settings):
    """A connection as the app role to the configured (migrated) database."""
    with _open(settings) as urls:
        _upgrade(settings, urls)
        with psycopg.connect(urls.app) as conn:
            yield conn


def _upgrade(settings: Settings, urls: DatabaseUrls) -> list[str]:
    result = upgrade(
        urls.admin,
        app_password=Settings.secret(settings.app_db_password),
        reader_password=Settings.secret(settings.reader_db_password),
        limits=settings.reader_limits(),
    )
    return result.applied


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    with _open(settings) as urls:
        applied = _upgrade(settings, urls)
    print(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "database is up to date")
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from nlq import progress
    from nlq.seed import seed_demo

    with _open(settings) as urls:
        _upgrade(settings, urls)
        with psycopg.connect(urls.app) as conn:
            codes = seed_demo(
                conn, organizations=args.orgs, records=args.records, seed=args.seed,
                progress=lambda code, n: print(f"  {code}: {n:,} records", flush=True),
                track=lambda code, records: progress.track(records, f"  {code}: loading", total=args.records),
            )
    print(f"seeded {len(codes)} organization(s) x {args.records:,} records")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from nlq.app import create_app, describe_llm
    from nlq.cli_options import uvicorn_level
    from nlq.lifecycle import claim_port, serve_until_signalled
    from nlq.pems import open_pems
    from nlq import bootstrap, production_guard
    from nlq.metrics_dir import clear_metrics_dir
    from nlq.seed import DEMO_USERS, database_is_empty, seed_demo

    clear_metrics_dir()  # the API processes started below inherit (and share) the directory
    host = args.host or settings.host
    port = args.port or settings.port
    if (status := production_guard.refused(production_guard.check_serve, settings, host)) is not None:
        return status
    # A busy port fails here, before the database, the sync or any output.
    with claim_port(host, port) as sock, _open(settings) as urls, open_pems(settings, urls) as pems:
        _upgrade(settings, urls)
        if settings.demo:
            with psycopg.connect(urls.app) as conn:
                if database_is_empty(conn):
                    print(f"creating {settings.demo_orgs} demo organization(s) and the demo users ...")
                    seed_demo(conn, organizations=settings.demo_orgs, records=settings.demo_records,
                              load_records=False)
        with psycopg.connect(urls.app) as conn:
            if (status := production_guard.refused(production_guard.check_demo_logins, settings, host, conn)) is not None:
                return status
            if hint := bootstrap.first_admin_hint(conn):
                print(hint)
        if pems.simulated_organizations is not None:
            print(f"PEMS: {pems.name} (on {pems.settings.base_url})")
            if not args.no_scheduler:
                _sync_due(urls.app, pems.settings, settings)
        else:
            print(f"PEMS: {pems.settings.base_url}")
        print(describe_llm(settings))
        print(f"PFA Vanguard on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
        if settings.demo:
            print("demo logins: " + ", ".join(f"{u.username} / {u.password} ({u.role}{'' if u.sees_costs else ', costs hidden'})"
                                           for u in DEMO_USERS))

        def on_stop(name: str) -> None:
            print(f"stopping ({name}) ...", flush=True)

        if args.workers == 1:
            app = create_app(settings, urls, None if args.no_scheduler else pems.settings,
                             remote_scheduler=pems.settings if args.no_scheduler else None)
            stopped = serve_until_signalled(app, sock, log_level=uvicorn_level(args.log_level), on_stop=on_stop)
        else:
            from nlq.procs import serve_processes

            print(f"{args.workers} API processes" + ("" if args.no_scheduler else ", one sync scheduler"), flush=True)
            here = None if args.no_scheduler or not settings.sync_enabled else pems.settings
            stopped = serve_processes(settings, urls, sock, workers=args.workers, log_level=uvicorn_level(args.log_level),
                                      scheduler_pems=here, remote_pems=pems.name if args.no_scheduler else None,
                                      on_stop=on_stop)
    print(f"PFA Vanguard stopped ({stopped.name})", flush=True)
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """The sync scheduler and the write-back without HTTP; any number of them share the work."""
    from nlq import production_guard
    from nlq.cli_errors import ConfigurationError
    from nlq.pems import open_pems
    from nlq.procs import run_worker

    if not settings.sync_enabled:
        raise ConfigurationError("VANGUARD_SYNC_ENABLED is false: a worker would have nothing to do")
    if (status := production_guard.refused(production_guard.check_pems, settings)) is not None:
        return status
    with _open(settings) as urls, open_pems(settings, urls) as pems:
        _upgrade(settings, urls)
        print(f"PEMS: {pems.name}")
        print(f"PFA Vanguard worker: syncs every {settings.sync_interval_minutes:g} min, write-back every "
              f"{settings.worker_tick_seconds:g} s (and when an API process asks)", flush=True)
        stopped = run_worker(urls.app, pems.settings, settings,
                             on_stop=lambda name: print(f"stopping ({name}) ...", flush=True))
    print(f"PFA Vanguard worker stopped ({stopped.name})", flush=True)
    return 0


def _sync_all(app_url: str, pems_settings, orgs: list[str] | None, *, full: bool, settings: Settings) -> bool:
    """Sync the given (or all registered) organizations with a progress line; True when all succeeded."""
    from store import accounts
    from store.pems.client import PemsClient
    from store.sync.worker import sync_organization

    with psycopg.connect(app_url) as conn:
        known = [code for code, _ in accounts.list_organizations(conn)]
    unknown = [org for org in orgs or [] if org not in known]
    if unknown:
        raise UnknownOrganization(f"organization(s) not registered: {', '.join(unknown)} (add with: vanguard orgs add CODE)")
    if not (orgs or known):
        print("no organizations registered: add one with `vanguard orgs add CODE` (or run `vanguard serve` for the demo)")
        return True
    ok = True
    print(f"PEMS: {pems_settings.display_name}", flush=True)
    with PemsClient(pems_settings) as client:
        for org in orgs or known:
            result = sync_organization(app_url, client, org, full=full, max_delete_share=settings.sync_max_delete_share,
                                       overlap_seconds=settings.sync_overlap_seconds, progress=_progress_line(org))
            _print_sync_result(result)
            ok = ok and result.status in ("succeeded", "skipped")
    return ok


def _sync_due(app_url: str, pems_settings, settings: Settings) -> None:
    """The start-up sync: only the organizations that the runs recorded in the database say are due."""
    from store.pems.client import PemsClient
    from store.sync.schedule import sync_due_organizations

    with PemsClient(pems_settings) as client:
        results = sync_due_organizations(app_url, client, settings.schedule(), progress=_progress_line,
                                         report=_print_sync_result)
    if not results:
        print("no organization is due for a sync (the recorded runs are recent; `vanguard sync` syncs now)")


def _progress_line(org: str):
    from nlq import progress

    return progress.counter(f"  {org}: reading", unit="records") if progress.enabled() else None


def _print_sync_result(result) -> None:
    from nlq import progress

    progress.clear()
    print(f"  {result.organization_id}: {result.kind} sync {result.status}: {result.fetched:,} read, "
          f"{result.inserted:,} inserted, {result.updated:,} updated, {result.unchanged:,} unchanged, "
          f"{result.deleted:,} deleted, {result.malformed:,} malformed" + (f" ({result.error})" if result.error else ""),
          flush=True)


def cmd_sync(settings: Settings, args: argparse.Namespace) -> int:
    from nlq import production_guard
    from nlq.pems import open_pems

    if (status := production_guard.refused(production_guard.check_pems, settings)) is not None:
        return status
    with _open(settings) as urls, open_pems(settings, urls) as pems:
        _upgrade(settings, urls)
        return 0 if _sync_all(urls.app, pems.settings, args.org, full=args.full, settings=settings) else 1


def cmd_pems_sim(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from store import demo_data
    from store.pems.simulator import PemsSimulator

    if args.durable or args.reset:
        from nlq.pems import serve_builtin_pems

        with _open(settings) as urls:
            return serve_builtin_pems(settings, urls, args)
    args.orgs, args.records = args.orgs or 3, args.records or 20_000
    organizations = demo_data.organization_codes(args.orgs)
    print(f"generating {args.orgs} organization(s) x {args.records:,} records ...", flush=True)
    simulator = PemsSimulator(organizations, args.records, seed=args.seed, api_key=args.api_key)
    print(f"PEMS simulator on http://{args.host}:{args.port}  organizations: {', '.join(organizations)}  "
          f"API key: {args.api_key}  tenant: {simulator.tenant}", flush=True)
    uvicorn.run(simulator.app(), host=args.host, port=args.port, log_level="warning", date_header=False)
    return 0


def cmd_orgs_add(settings: Settings, args: argparse.Namespace) -> int:
    from store import accounts

    with _app_connection(settings) as conn:
        accounts.upsert_organization(conn, args.code, args.name or args.code)
    print(f"organization {args.code} registered")
    return 0


def cmd_orgs_list(settings: Settings, args: argparse.Namespace) -> int:
    from store import accounts

    with _app_connection(settings) as conn:
        for code, name in accounts.list_organizations(conn):
            print(f"{code}\t{name}")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    import getpass

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
    if not 8 <= len(password) <= 256:
        raise PasswordRefused("the password must be 8 to 256 characters long")
    return password


def cmd_users_add(settings: Settings, args: argparse.Namespace) -> int:
    from nlq.auth.passwords import hash_password
    from store import accounts

    password = _read_password(args)
    with _app_connection(settings) as conn:
        if accounts.find_user_by_username(conn, args.username):
            raise UserExists(f"user {args.username} already exists (use `vanguard users set-role`)")
        known = {code for code, _ in accounts.list_organizations(conn)}
        if args.org and args.org not in known:
            raise UnknownOrganization(f"organization {args.org} is not registered")
        user_id = accounts.insert_user(conn, args.username, hash_password(password), args.name or args.username)
        if args.org:
            accounts.upsert_membership(conn, user_id, args.org, args.role)
            if args.costs is not None:
                accounts.set_cost_visibility(conn, user_id, args.org, args.costs == "shown")
    print(f"user {args.username} created" + (f" ({args.role} in {args.org}{_costs_note(args)})" if args.org else ""))
    return 0


def cmd_users_set_password(settings: Settings, args: argparse.Namespace) -> int:
    from nlq.auth.passwords import hash_password
    from store import accounts

    password = _read_password(args)
    with _app_connection(settings) as conn:
        if not accounts.set_password(conn, args.username, hash_password(password)):
            raise UnknownUser(f"user {args.username} does not exist")
    print(f"password of {args.username} changed")
    return 0


def cmd_users_list(settings: Settings, args: argparse.Namespace) -> int:
    from store import accounts

    with _app_connection(settings) as conn:
        for username, display_name, active, roles in accounts.list_users(conn):
            print(f"{username}\t{display_name}\t{'active' if active else 'disabled'}\t{roles}")
    return 0


def cmd_users_set_role(settings: Settings, args: argparse.Namespace) -> int:
    from store import accounts

    with _app_connection(settings) as conn:
        user = accounts.find_user_by_username(conn, args.username)
        if user is None:
            raise UnknownUser(f"user {args.username} does not exist")
        if args.org not in {code for code, _ in accounts.list_organizations(conn)}:
            raise UnknownOrganization(f"organization {args.org} is not registered")
        accounts.upsert_membership(conn, user[0], args.org, args.role)
        if args.costs is not None:
            accounts.set_cost_visibility(conn, user[0], args.org, args.costs == "shown")
    print(f"{args.username} is {args.role} in {args.org}{_costs_note(args)}")
    return 0


def cmd_users_remove_role(settings: Settings, args: argparse.Namespace) -> int:
    from store import accounts

    with _app_connection(settings) as conn:
        user = accounts.find_user_by_username(conn, args.username)
        if user is None:
            raise UnknownUser(f"user {args.username} does not exist")
        if not accounts.remove_membership(conn, user[0], args.org):
            raise UnknownMembership(f"{args.username} is not a member of {args.org}")
    print(f"{args.username} is no longer a member of {args.org}")
    return 0


def cmd_users_end_sessions(settings: Settings, args: argparse.Namespace) -> int:
    from store import accounts

    with _app_connection(settings) as conn:
        if accounts.end_sessions(conn, args.username) is None:
            raise UnknownUser(f"user {args.username} does not exist")
    print(f"every session of {args.username} has ended; they must log in again")
    return 0


def _costs_note(args: argparse.Namespace) -> str:
    return {"hidden": ", costs hidden", "shown": ", costs shown"}.get(args.costs, "")


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    """Ask as a user: the SQL that ran, the explanation, and the rows as a table."""
    import asyncio

    from nlq.app import create_app
    from nlq.ask.service import stream_answer
    from store import accounts

    with _open(settings) as urls:
        _upgrade(settings, urls)
        with psycopg.connect(urls.app) as conn:
            user = accounts.find_user_by_username(conn, args.user)
            roles = {org: sees for org, _, sees in accounts.memberships_of(conn, user[0])} if user else {}
        if user is None:
            raise UnknownUser(f"user {args.user} does not exist")
        if args.org not in roles:
            raise UnknownOrganization(f"{args.user} is not a member of {args.org}")

        async def run_bulk() -> int:
            from nlq.bulk.service import stream_bulk

            app = create_app(settings, urls)
            async with app.router.lifespan_context(app):
                async for item in stream_bulk(app.state.ask, args.org, user[0], args.question,
                                              sees_costs=roles[args.org]):
                    name, data = item["event"], item["data"]
                    if name == "plan":
                        print(f"Target: {data['target']}")
                        for change in data["changes"]:
                            print(f"Change: {change['field']} {change['op']} {change['value']}")
                        print(data["explanation"])
                    elif name == "summary":
                        print(f"\nMatched {data['matched']:,}, proposed {data['proposed']:,}, "
                              f"skipped {len(data['skipped']):,}; change set #{data['change_set_id']} awaits review.\n")
                        _print_table(["record", "field", "before", "after"], [
                            [p["record_id"], k, p["before"].get(k), v] for p in data["preview"] for k, v in p["after"].items()])
                        for skipped in data["skipped"][:20]:
                            print(f"skipped {skipped['record_id']}: {skipped['rule']} ({skipped['message']})")
                    elif name == "error":
                        print(f"vanguard: {data['code']}: {data['message']}", file=sys.stderr)
                        for reason in data.get("reasons", []):
                            print(f"  - {reason}", file=sys.stderr)
                        return 1
                return 0

        async def run() -> int:
            app = create_app(settings, urls)
            async with app.router.lifespan_context(app):
                columns, rows, status = [], [], 0
                async for item in stream_answer(app.state.ask, args.org, user[0], args.question,
                                                sees_costs=roles[args.org]):
                    name, data = item["event"], item["data"]
                    if name == "sql":
                        print(f"SQL: {data['sql']}\n")
                    elif name == "explanation":
                        print(data["delta"], end="", flush=True)
                    elif name == "fallback":
                        print(f"vanguard: {data['message']}", file=sys.stderr)
                    elif name == "declined":
                        print(f"vanguard: declined: {data['message']} {data['reason']}".rstrip(), file=sys.stderr)
                        status = 1
                    elif name == "rows":
                        columns = data.get("columns", columns)
                        rows.extend(data.get("rows", []))
                    elif name == "summary":
                        print("\n")
                        _print_table(columns, rows)
                        count = f"the first {data['row_count']:,} rows of more" if data["truncated"] else (
                            f"{data['row_count']:,} row{'' if data['row_count'] == 1 else 's'}")
                        print(f"\n{count}, audit #{data['audit_id']}")
                    elif name == "error":
                        print(f"\nvanguard: {data['code']}: {data['message']}", file=sys.stderr)
                        for reason in data.get("reasons", []):
                            print(f"  - {reason}", file=sys.stderr)
                        status = 1
                return status

        return asyncio.run(run_bulk() if args.bulk else run())


def _print_table(columns: list[str], rows: list[list]) -> None:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))


def cmd_guard(settings: Settings, args: argparse.Namespace) -> int:
    """Check SQL from stdin; print the verdict as JSON; exit 0 when allowed, 1 when refused."""
    import json

    from nlq.guard import guard

    sql = sys.stdin.read(MAX_GUARD_INPUT + 1)
    if len(sql) > MAX_GUARD_INPUT:
        print(f"vanguard: the SQL on stdin is longer than {MAX_GUARD_INPUT:,} characters", file=sys.stderr)
        return 2
    verdict = guard(sql, org_id=args.org, max_rows=args.max_rows)
    print(json.dumps(verdict.to_dict(), indent=2))
    return 0 if verdict.allowed else 1


def cmd_audit_head(settings: Settings, args: argparse.Namespace) -> int:
    """Seal what is pending and print the signed chain head as one line of JSON, for a monitor to keep."""
    import json

    from nlq.audit_key import load_audit_key
    from store.audit_seal import current_head

    key = load_audit_key(settings)
    with _app_connection(settings) as conn:
        print(json.dumps(current_head(conn, key)))
    return 0


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Verify the ledger (and that it still contains a saved head); exit 0 when intact, 1 when not."""
    import json

    from nlq.audit_key import load_audit_key
    from store.audit import verify_chain
    from store.audit_seal import InvalidHead, check_head, parse_head

    try:
        saved = parse_head(args.head) if args.head is not None else None
    except InvalidHead as exc:
        print(f"vanguard: --head: {exc.message}", file=sys.stderr)
        return 2
    key = load_audit_key(settings)
    with _app_connection(settings) as conn:
        report = verify_chain(conn, key, args.org).to_dict()
        if saved is not None:
            report["head_check"] = check_head(conn, key, saved)
    print(json.dumps(report, indent=2))
    return 0 if report["intact"] and report.get("head_check", {}).get("contained", True) else 1


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from nlq.bench import run_benchmarks

    return run_benchmarks(args)


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from nlq.eval import run_eval

    return run_eval(settings, args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vanguard", description="PFA Vanguard: natural-language queries over PEMS PFA records."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the service (embedded database and demo data by default)")
    serve.add_argument("--host", help="listen address (default: VANGUARD_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: VANGUARD_PORT or 8000)")
    serve.add_argument("--workers", type=_bounded(1, 64), default=1,
                       help="API processes on the one port (default 1); the sync scheduler still runs once")
    serve.add_argument("--no-scheduler", action="store_true",
                       help="no sync scheduler or write-back in this service: `vanguard worker` processes do that")
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser("worker", help="run the sync scheduler and the write-back only (no HTTP); "
                                                "several may run on one database")
    worker.set_defaults(handler=cmd_worker)

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_upgrade = db_commands.add_parser("upgrade", help="create roles and apply pending migrations")
    db_upgrade.set_defaults(handler=cmd_db_upgrade)

    seed = commands.add_parser("seed", help="load deterministic demo organizations, records and users")
    seed.add_argument("--orgs", type=_bounded(1, 100), default=3, help="organizations (1-100, default 3)")
    seed.add_argument("--records", type=_bounded(1, 2_000_000), default=2000,
                      help="records per organization (default 2000)")
    seed.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    seed.set_defaults(handler=cmd_seed)

    sync = commands.add_parser("sync", help="sync organizations from PEMS now (the simulator when none is configured)")
    sync.add_argument("--org", action="append", help="organization to sync (repeatable; default: all registered)")
    sync.add_argument("--full", action="store_true", help="full reconcile: also mark records PEMS no longer returns")
    sync.set_defaults(handler=cmd_sync)

    sim = commands.add_parser("pems-sim", help="run the PEMS simulator on its own (in memory, or the built-in PEMS's state)")
    sim.add_argument("--durable", action="store_true",
                     help="serve the built-in PEMS of the data directory (VANGUARD_DATA_DIR, or VANGUARD_DATABASE_URL's "
                          "server): the one `vanguard serve` and `vanguard sync` use, with what was written to it")
    sim.add_argument("--reset", action="store_true",
                     help="forget the built-in PEMS's records, changes and idempotency keys and seed it afresh "
                          "(then serve it with --durable, else exit)")
    sim.add_argument("--orgs", type=_bounded(1, 100),
                     help="organizations (default 3; --durable/--reset: VANGUARD_DEMO_ORGS, used when seeding)")
    sim.add_argument("--records", type=_bounded(1, 2_000_000),
                     help="records per organization (default 20,000; --durable/--reset: VANGUARD_DEMO_RECORDS, "
                          "used when seeding)")
    sim.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    sim.add_argument("--port", type=_bounded(1, 65535), default=8900, help="listen port (default 8900)")
    sim.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    sim.add_argument("--api-key", default="pems-sim-key", help="API key clients must send (default pems-sim-key)")
    sim.set_defaults(handler=cmd_pems_sim)

    orgs = commands.add_parser("orgs", help="register and list organizations (PEMS organization codes)")
    orgs_commands = orgs.add_subparsers(dest="orgs_command", required=True, metavar="ORGS_COMMAND")
    orgs_add = orgs_commands.add_parser("add", help="register an organization")
    orgs_add.add_argument("code", type=_organization_code, help="PEMS organization code")
    orgs_add.add_argument("--name", help="display name (default: the code)")
    orgs_add.set_defaults(handler=cmd_orgs_add)
    orgs_list = orgs_commands.add_parser("list", help="list registered organizations")
    orgs_list.set_defaults(handler=cmd_orgs_list)

    users = commands.add_parser("users", help="add users, list them, set their role per organization")
    users_commands = users.add_subparsers(dest="users_command", required=True, metavar="USERS_COMMAND")
    users_add = users_commands.add_parser("add", help="create a user (password asked, or read from stdin)")
    users_add.add_argument("username", type=_username)
    users_add.add_argument("--name", help="display name")
    users_add.add_argument("--org", type=_organization_code, help="organization to add the user to")
    users_add.add_argument("--role", choices=["viewer", "editor", "admin"], default="viewer")
    users_add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    users_add.add_argument("--costs", choices=["shown", "hidden"],
                           help="show or hide money (rates, prices, costs, variance) in --org (default: shown)")
    users_add.set_defaults(handler=cmd_users_add)
    users_password = users_commands.add_parser("set-password", help="give a user a new password (asked, or read from stdin); their open sessions end")
    users_password.add_argument("username", type=_username)
    users_password.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    users_password.set_defaults(handler=cmd_users_set_password)
    users_list = users_commands.add_parser("list", help="list users and their roles")
    users_list.set_defaults(handler=cmd_users_list)
    users_role = users_commands.add_parser("set-role", help="set a user's role in an organization")
    users_role.add_argument("username", type=_username)
    users_role.add_argument("org", type=_organization_code)
    users_role.add_argument("role", choices=["viewer", "editor", "admin"])
    users_role.add_argument("--costs", choices=["shown", "hidden"],
                            help="also show or hide money in that organization (default: leave as it is)")
    users_role.set_defaults(handler=cmd_users_set_role)
    users_remove = users_commands.add_parser("remove-role", help="take a user out of an organization")
    users_remove.add_argument("username", type=_username)
    users_remove.add_argument("org", type=_organization_code)
    users_remove.set_defaults(handler=cmd_users_remove_role)
    users_end = users_commands.add_parser("end-sessions", help="log a user out everywhere (every token they hold)")
    users_end.add_argument("username", type=_username)
    users_end.set_defaults(handler=cmd_users_end_sessions)

    ask = commands.add_parser("ask", help="ask a question as a user; prints the SQL, the explanation and the rows")
    ask.add_argument("question", help="the question, in plain words")
    ask.add_argument("--org", required=True, type=_organization_code, help="organization to ask about")
    ask.add_argument("--user", required=True, type=_username, help="who is asking (their drafts are included)")
    ask.add_argument("--bulk", action="store_true",
                     help="a bulk-edit request: print the proposed change set's preview (nothing is changed)")
    ask.set_defaults(handler=cmd_ask)

    guard = commands.add_parser("guard", help="check SQL from stdin against the guardrails; print the verdict")
    guard.add_argument("--org", required=True, help="organization the statement must be confined to")
    guard.add_argument("--max-rows", type=_bounded(1, 1_000_000), default=1000, help="row cap (default 1000)")
    guard.set_defaults(handler=cmd_guard)

    audit = commands.add_parser("audit", help="the NL audit ledger: signed chain head, verification")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="AUDIT_COMMAND")
    audit_head = audit_commands.add_parser("head", help="print the signed chain head (JSON) for a monitor to keep")
    audit_head.set_defaults(handler=cmd_audit_head)
    audit_verify = audit_commands.add_parser("verify", help="verify every entry and seal; exit 1 if anything is broken")
    audit_verify.add_argument("--org", type=_organization_code, help="list only this organization's broken entries")
    audit_verify.add_argument("--head", help="a head saved earlier (the JSON `audit head` printed): is it still there?")
    audit_verify.set_defaults(handler=cmd_audit_verify)

    bench = commands.add_parser("bench", help="measure performance and print a table of targets")
    bench.add_argument("--only", choices=["guard", "sync", "faults", "nlq", "fair", "api", "load", "matrix"], action="append",
                       help="run only these benchmarks (repeatable); default: all")
    bench.add_argument("--runs", type=_bounded(5, 100_000), default=200,
                       help="timed runs per item, and sync runs of the fault campaign (default 200)")
    bench.add_argument("--records", type=_bounded(1000, 5_000_000), default=1_000_000,
                       help="mirror size of the dataset benchmarks (default 1,000,000)")
    bench.add_argument("--orgs", type=_bounded(1, 100), default=20, help="organizations in the dataset (default 20)")
    bench.add_argument("--drafts", type=_bounded(0, 100_000), default=10_000,
                       help="working drafts of the benchmark user in the first organization (default 10,000)")
    bench.add_argument("--sync-records", type=_bounded(1000, 5_000_000), default=200_000,
                       help="records read over HTTP by the sync benchmark (default 200,000)")
    bench.add_argument("--clients", type=_bounded(1, 500), default=50, help="concurrent clients of the load run (default 50)")
    bench.add_argument("--load-seconds", type=_bounded(1, 3600), default=60, help="length of the load run (default 60)")
    bench.add_argument("--replica", action="store_true",
                       help="load: run again with NL reads on a streaming standby, reported beside the primary-only run")
    bench.add_argument("--workers", type=_bounded(1, 16), default=1,
                       help="load: also run the mix against this many API processes (+ a worker), side by side with one")
    bench.add_argument("--json", dest="json_path", help="also write the results as JSON to this file")
    bench.set_defaults(handler=cmd_bench)

    from nlq.eval import add_arguments as add_eval_arguments

    evaluate = commands.add_parser("eval", help="answer accuracy: ask the question set end to end, score the rows")
    add_eval_arguments(evaluate)
    evaluate.set_defaults(handler=cmd_eval)

    from nlq.cli_options import add_output_options

    add_output_options(parser)
    return parser


def _username(text: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", text):
        raise argparse.ArgumentTypeError("use 1-64 letters, digits, '_', '.', '@' or '-'")
    return text


def _organization_code(text: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", text):
        raise argparse.ArgumentTypeError("use 1-64 letters, digits, '_', '.' or '-'")
    return text


def _bounded(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high:,}")
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    from pydantic import ValidationError

    from nlq import cli_errors, lifecycle, progress
    from nlq.cli_options import configure_logging

    args = build_parser().parse_args(argv)
    lifecycle.install_signal_handlers()
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"vanguard: invalid configuration: {cli_errors.describe_settings_error(exc, Settings)}", file=sys.stderr)
        return 2
    args.log_level = configure_logging(settings.log_level, args.verbose)
    progress.configure(args.progress)
    try:
        return args.handler(settings, args)
    except (StoreError, cli_errors.CliError) as exc:
        print(f"vanguard: {exc.message}", file=sys.stderr)
        return getattr(exc, "exit_status", 1)
    except BrokenPipeError:  # the reader of our output went away (`| head`): not an error to report
        cli_errors.silence_broken_stdout()
        return cli_errors.EXIT_BROKEN_PIPE
    except OSError as exc:
        message, status = cli_errors.describe_os_error(exc)
        print(f"vanguard: {message}", file=sys.stderr)
        return status
    except KeyboardInterrupt:
        return lifecycle.exit_status_for(signal.SIGINT)
    except lifecycle.Terminated as exc:
        return lifecycle.exit_status_for(exc.signum)


if __name__ == "__main__":
    sys.exit(main())
