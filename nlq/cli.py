"""The `vanguard` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import psycopg

from nlq.config import Settings
from store.database import DatabaseUrls, open_database
from store.errors import StoreError
from store.migrate import upgrade

log = logging.getLogger("vanguard")
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
    from nlq.seed import seed_demo

    with _open(settings) as urls:
        _upgrade(settings, urls)
        with psycopg.connect(urls.app) as conn:
            codes = seed_demo(
                conn, organizations=args.orgs, records=args.records, seed=args.seed,
                progress=lambda code, n: print(f"  {code}: {n:,} records", flush=True),
            )
    print(f"seeded {len(codes)} organization(s) x {args.records:,} records")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from nlq.app import create_app
    from nlq.seed import DEMO_USERS, database_is_empty, seed_demo

    host = args.host or settings.host
    port = args.port or settings.port
    with _open(settings) as urls:
        _upgrade(settings, urls)
        if settings.demo:
            with psycopg.connect(urls.app) as conn:
                if database_is_empty(conn):
                    print(f"seeding {settings.demo_orgs} demo organization(s) x {settings.demo_records:,} records ...")
                    seed_demo(conn, organizations=settings.demo_orgs, records=settings.demo_records)
        print(f"PFA Vanguard on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
        if settings.demo:
            print("demo logins: " + ", ".join(f"{u.username} / {u.password} ({u.role})" for u in DEMO_USERS))
        uvicorn.run(create_app(settings, urls), host=host, port=port, log_level=settings.log_level)
    return 0


def cmd_guard(settings: Settings, args: argparse.Namespace) -> int:
    """Check SQL from stdin; print the verdict as JSON; exit 0 when allowed, 1 when refused."""
    import json

    from guardrails import check

    sql = sys.stdin.read(MAX_GUARD_INPUT + 1)
    if len(sql) > MAX_GUARD_INPUT:
        print(f"vanguard: the SQL on stdin is longer than {MAX_GUARD_INPUT:,} characters", file=sys.stderr)
        return 2
    verdict = check(sql, org_id=args.org, max_rows=args.max_rows)
    print(json.dumps(verdict.to_dict(), indent=2))
    return 0 if verdict.allowed else 1


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from nlq.bench import run_benchmarks

    return run_benchmarks(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vanguard", description="PFA Vanguard: natural-language queries over PEMS PFA records."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the service (embedded database and demo data by default)")
    serve.add_argument("--host", help="listen address (default: VANGUARD_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: VANGUARD_PORT or 8000)")
    serve.set_defaults(handler=cmd_serve)

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

    guard = commands.add_parser("guard", help="check SQL from stdin against the guardrails; print the verdict")
    guard.add_argument("--org", required=True, help="organization the statement must be confined to")
    guard.add_argument("--max-rows", type=_bounded(1, 1_000_000), default=1000, help="row cap (default 1000)")
    guard.set_defaults(handler=cmd_guard)

    bench = commands.add_parser("bench", help="measure performance and print a table of targets")
    bench.add_argument("--only", choices=["guard"], action="append",
                       help="run only these benchmarks (repeatable); default: all")
    bench.add_argument("--runs", type=_bounded(5, 100_000), default=200, help="timed runs per item (default 200)")
    bench.add_argument("--json", dest="json_path", help="also write the results as JSON to this file")
    bench.set_defaults(handler=cmd_bench)
    return parser


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
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"vanguard: invalid configuration: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.handler(settings, args)
    except StoreError as exc:
        print(f"vanguard: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
