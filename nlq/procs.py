"""Several API processes on one port (`vanguard serve --workers N`) and scheduler-only workers
(`vanguard worker`).

The API processes are uvicorn's own: its `Multiprocess` supervisor spawns N children that accept
on the one socket `serve` bound, pings them and replaces one that dies. Each child builds the app
from `create_process_app` (an import string, as spawned processes need), with the database URLs
the parent resolved (the embedded server and the built-in PEMS run once, in the parent) passed in
the environment. No child runs a scheduler: the parent runs the one scheduler of `serve` in a
thread, or `vanguard worker` processes do, and a child wakes them with a notification
(nlq/wake.py). Everything the children share (login attempts, revoked tokens, the signing key,
sync and outbox claims) lives in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import threading
from collections.abc import Callable

import uvicorn
from uvicorn.supervisors import Multiprocess

from nlq.audit_key import load_audit_key
from nlq.config import Settings
from nlq.lifecycle import GRACEFUL_SHUTDOWN_SECONDS, STOP_SIGNALS, ServiceDidNotStart, Stopped
from nlq.scheduler import SyncScheduler
from store.database import DatabaseUrls
from store.pems.client import PemsSettings

SPEC_ENV = "VANGUARD_PROCESS_SPEC"
APP_FACTORY = "nlq.procs:create_process_app"
HEALTHCHECK_SECONDS = 60


@dataclasses.dataclass(frozen=True)
class ProcessSpec:
    """What an API child needs from its parent: the database URLs, and the name of the PEMS the
    scheduler elsewhere syncs with (None: no scheduler anywhere, sync requests answer 503)."""

    urls: DatabaseUrls
    pems_name: str | None = None

    def to_env(self) -> str:
        return json.dumps({"urls": dataclasses.asdict(self.urls), "pems_name": self.pems_name})

    @classmethod
    def from_env(cls) -> ProcessSpec:
        spec = json.loads(os.environ[SPEC_ENV])
        return cls(urls=DatabaseUrls(**spec["urls"]), pems_name=spec["pems_name"])


def create_process_app():
    """The app of one API child (uvicorn calls this in each spawned process)."""
    from nlq.app import create_app

    spec = ProcessSpec.from_env()
    remote = PemsSettings(base_url="", name=spec.pems_name) if spec.pems_name else None
    return create_app(Settings(), spec.urls, remote_scheduler=remote)


class _Supervisor(Multiprocess):
    """uvicorn's `Multiprocess`, with `vanguard serve`'s signal meanings: SIGINT, SIGTERM and SIGHUP
    all stop (uvicorn restarts the children on SIGHUP), and the first one is reported."""

    def __init__(self, config: uvicorn.Config, sockets: list, stopped: Stopped, on_stop) -> None:
        super().__init__(config, sockets=sockets)
        self.stopped, self.on_stop = stopped, on_stop

    def _stop(self, signum: int) -> None:
        self.stopped.signals.append(signum)
        if self.stopped.signum is None:
            self.stopped.signum = signum
            if self.on_stop is not None:
                self.on_stop(self.stopped.name)
        self.should_exit.set()

    def handle_int(self) -> None:
        self._stop(signal.SIGINT)

    def handle_term(self) -> None:
        self._stop(signal.SIGTERM)

    def handle_hup(self) -> None:
        self._stop(signal.SIGHUP)


def serve_processes(settings: Settings, urls: DatabaseUrls, sock, *, workers: int, log_level: str,
                    scheduler_pems: PemsSettings | None, remote_pems: str | None,
                    on_stop: Callable[[str], None] | None = None) -> Stopped:
    """Serve the app in `workers` processes on the bound `sock` until SIGINT, SIGTERM or SIGHUP.

    With `scheduler_pems`, the one scheduler runs here, in a thread of the parent, for as long as
    the children serve; `remote_pems` names the PEMS a scheduler elsewhere uses.
    """
    load_audit_key(settings)  # a bad key file stops the start here, in one line, before any child starts
    os.environ[SPEC_ENV] = ProcessSpec(urls, scheduler_pems.display_name if scheduler_pems else remote_pems).to_env()
    config = uvicorn.Config(APP_FACTORY, factory=True, workers=workers, log_level=log_level, proxy_headers=False,
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
    # The supervisor pings each child and replaces one that does not answer in time; a child still
    # importing the app on a busy machine is slow, not hung (uvicorn's default of 5 s killed them
    # over and over on a loaded 2-core machine).
    config.timeout_worker_healthcheck = HEALTHCHECK_SECONDS
    stopped = Stopped()
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    scheduler = SchedulerThread(urls.app, scheduler_pems, settings) if scheduler_pems else contextlib.nullcontext()
    try:
        with scheduler:
            _Supervisor(config, [sock], stopped, on_stop).run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sock.close()
        os.environ.pop(SPEC_ENV, None)
    if stopped.signum is None:  # the supervisor gave up: a child failed to start (its error is above)
        raise ServiceDidNotStart()
    return stopped


class SchedulerThread:
    """The sync scheduler on an event loop of its own thread, stopped (cancelled, its current
    pass allowed to end) when the context exits."""

    def __init__(self, app_url: str, pems: PemsSettings, settings: Settings) -> None:
        self.scheduler = SyncScheduler(app_url, pems, settings.schedule(), tick_seconds=settings.worker_tick_seconds)
        self._thread = threading.Thread(target=self._main, name="vanguard-scheduler", daemon=True)
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None

    def __enter__(self) -> SchedulerThread:
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(GRACEFUL_SHUTDOWN_SECONDS + 60)

    def _main(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        self._started.set()
        await self.scheduler.run()


def run_worker(app_url: str, pems: PemsSettings, settings: Settings,
               on_stop: Callable[[str], None] | None = None) -> Stopped:
    """`vanguard worker`: the scheduler (syncs when due, write-back, woken by the API processes)
    in the foreground until SIGINT, SIGTERM or SIGHUP; the current pass ends before it returns."""
    stopped = Stopped()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def on_signal(signum: int) -> None:
            stopped.signals.append(signum)
            if stopped.signum is None:
                stopped.signum = signum
                if on_stop is not None:
                    on_stop(stopped.name)
            stop.set()

        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, on_signal, signum)
        scheduler = SyncScheduler(app_url, pems, settings.schedule(), tick_seconds=settings.worker_tick_seconds)
        task = asyncio.create_task(scheduler.run())
        waiter = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            task.cancel()
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)

    asyncio.run(main())
    return stopped
