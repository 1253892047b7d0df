"""Starting and stopping `vanguard serve`: the port claimed before any work, SIGTERM treated like Ctrl-C.

Python dies on SIGTERM (what `kill`, Docker and systemd send) without running `finally` blocks or
context exits, so the embedded PostgreSQL server would be left running. `install_signal_handlers`
turns SIGTERM and SIGHUP into a `Terminated` exception (as SIGINT is a KeyboardInterrupt), so every
command unwinds and stops what it started. While the HTTP server runs, `serve_until_signalled`
takes the signals over instead: the first asks uvicorn for a graceful shutdown, a second Ctrl-C
forces it. uvicorn runs in a worker thread there because, in the main thread, it re-raises the
signal after its own shutdown (SIGTERM's default action then kills the process before cleanup, and
SIGINT goes through asyncio's handler a second time and logs the shutdown twice).
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from dataclasses import dataclass, field

from nlq.cli_errors import CliError, ConfigurationError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SERVER_THREAD = "vanguard-http"
GRACEFUL_SHUTDOWN_SECONDS = 10  # open answer streams get this long before they are cut


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM or SIGHUP); a BaseException, like KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class PortInUse(ConfigurationError):
    """The port is already in use."""

    code = "port_in_use"


class ServiceDidNotStart(CliError):
    """The HTTP server did not start (its error is logged above)."""

    code = "service_did_not_start"


def _raise_terminated(signum, frame) -> None:
    raise Terminated(signum)


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP unwind the program like Ctrl-C does, so cleanup code runs."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_terminated)


def exit_status_for(signum: int) -> int:
    """What a shell reports for a command stopped by this signal: 128 + its number."""
    return 128 + signum


def claim_port(host: str, port: int) -> socket.socket:
    """Bind the listening socket now, so a busy port fails before migrations, sync or any output."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restart past TIME_WAIT
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno in (98, 48):  # EADDRINUSE on Linux, macOS
            raise PortInUse(f"port {port} on {host} is already in use (another `vanguard serve`?); "
                            "choose another with --port or VANGUARD_PORT") from None
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


class _OnlyThisServer(logging.Filter):
    """uvicorn's loggers are shared by every uvicorn server in the process, and the one level set
    last applies to all: the built-in PEMS simulator's start and stop lines would appear as the
    service's own (its "Shutting down" printed beside ours). Its warnings and errors still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.threadName == SERVER_THREAD


_ONLY_THIS_SERVER = _OnlyThisServer()


@dataclass
class Stopped:
    """How the HTTP server ended: the signal that stopped it (None if it ended on its own)."""

    signum: int | None = None
    signals: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else "its own end"


def serve_until_signalled(app, sock: socket.socket, *, log_level: str, on_stop=None) -> Stopped:
    """Serve `app` on the bound `sock` until SIGINT, SIGTERM or SIGHUP; return which one stopped it.

    `on_stop(name)` is called once, in the main thread, when the first signal arrives.
    Raises ServiceDidNotStart when the app's lifespan failed.
    """
    import uvicorn

    # proxy_headers off: the app believes X-Forwarded-* only from VANGUARD_FORWARDED_ALLOW_IPS (nlq/forwarded.py).
    config = uvicorn.Config(app, log_level=log_level, proxy_headers=False,
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
    server = uvicorn.Server(config)
    stopped = Stopped()

    def on_signal(signum, frame) -> None:
        stopped.signals.append(signum)
        if stopped.signum is None:
            stopped.signum = signum
            server.should_exit = True
        elif signum == signal.SIGINT:
            server.force_exit = True  # a second Ctrl-C: stop waiting for open connections

    worker = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=SERVER_THREAD)
    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    # Kept for the rest of the process: the simulator stops after this server does.
    logging.getLogger("uvicorn.error").addFilter(_ONLY_THIS_SERVER)
    try:
        worker.start()
        announced = False
        while worker.is_alive():
            worker.join(0.2)
            if stopped.signum is not None and not announced:
                announced = True
                if on_stop is not None:
                    on_stop(stopped.name)
    finally:
        if worker.is_alive():  # the main thread failed: never leave a non-daemon server thread behind
            server.should_exit = True
            worker.join(GRACEFUL_SHUTDOWN_SECONDS + 5)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sock.close()
    if not server.started:
        raise ServiceDidNotStart()
    return stopped
