"""Refusals checked before `vanguard serve` or `vanguard sync` does any work: a production site that
would silently mirror the built-in simulator, or demo logins with published passwords reachable
from the network.

"Production" is recognised by an external database (VANGUARD_DATABASE_URL set): the embedded
server is for one machine, and every real deployment (the compose file included) names its
database. No extra flag is needed, so none can be forgotten. The zero-configuration start
(embedded server, built-in simulator, demo users on 127.0.0.1) passes every check.

Each refusal is one line that names the setting to change; the CLI prints it and exits with 2.
"""

from __future__ import annotations

import ipaddress
import sys

from nlq.config import Settings


class Refusal(Exception):
    """A start the configuration does not allow; `message` names the setting that would allow it."""

    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SimulatorInProduction(Refusal):
    code = "simulator_in_production"


class DemoOnNetwork(Refusal):
    code = "demo_on_network"


class ConflictingPems(Refusal):
    code = "conflicting_pems"


def is_production(settings: Settings) -> bool:
    return bool(settings.database_url)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, `localhost`).

    Any other name is taken as reachable from the network: a name may resolve anywhere.

    >>> [is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost", "0.0.0.0", "::", "10.0.0.5", "app")]
    [True, True, True, True, False, False, False, False]
    """
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_pems(settings: Settings) -> None:
    """A production site must name its PEMS, or say that it wants the simulator."""
    if settings.pems == "simulator" and settings.pems_base_url:
        raise ConflictingPems("VANGUARD_PEMS=simulator and VANGUARD_PEMS_BASE_URL are both set: unset one of them")
    if is_production(settings) and not settings.pems_base_url and settings.pems != "simulator":
        raise SimulatorInProduction(
            "refusing to mirror the built-in PEMS simulator into the external database (VANGUARD_DATABASE_URL): "
            "set VANGUARD_PEMS_BASE_URL (and its credentials), or VANGUARD_PEMS=simulator to mean it")


def check_demo(settings: Settings, host: str) -> None:
    """Demo users have passwords printed in the README: only on loopback, unless asked for."""
    if settings.demo and not is_loopback(host) and not settings.demo_public:
        raise DemoOnNetwork(
            f"refusing to create the demo users (published passwords) on {host}, reachable from the network: "
            "set VANGUARD_DEMO=false, or VANGUARD_DEMO_PUBLIC=true to mean it")


def check_demo_logins(settings: Settings, host: str, conn) -> None:
    """After the database is open: demo users left by an earlier demo start count as demo users too."""
    if is_loopback(host) or settings.demo_public:
        return
    from nlq.bootstrap import demo_logins_present

    if present := demo_logins_present(conn):
        raise DemoOnNetwork(
            f"refusing to serve on {host}: the demo users {', '.join(present)} still have their published passwords: "
            "give them new ones (vanguard users set-password NAME), or set VANGUARD_DEMO_PUBLIC=true to mean it")


def check_serve(settings: Settings, host: str) -> None:
    check_pems(settings)
    check_demo(settings, host)


def refused(check, *args) -> int | None:
    """Run a check for the CLI: on a refusal print its one line to stderr and return exit status 2."""
    try:
        check(*args)
    except Refusal as exc:
        print(f"vanguard: {exc.message}", file=sys.stderr)
        return 2
    return None
