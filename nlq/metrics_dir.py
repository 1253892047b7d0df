"""Where the API processes of one deployment keep their request metrics, so that `/metrics` of any
of them shows all of them (`prometheus_client` multiprocess mode, one file per process).

`prometheus_client` reads PROMETHEUS_MULTIPROC_DIR when it is first imported, so this runs before
that import (`nlq.metrics` imports it first) and before `vanguard serve` starts its workers, which
inherit the variable and so share the directory. Unset, a fresh temporary directory is made for
this process and its children and removed when the process that made it exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import psutil

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def ensure_metrics_dir() -> Path:
    """The shared metrics directory, made (and exported to child processes) when none is set."""
    configured = os.environ.get(VARIABLE)
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    path = Path(tempfile.mkdtemp(prefix="vanguard-metrics-"))
    os.environ[VARIABLE] = str(path)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def clear_metrics_dir() -> Path:
    """Start a deployment's counts at zero: files left by processes of an earlier run are removed.

    `vanguard serve` calls this before it starts its API processes (a counter that went down
    would read as a reset to a scraper anyway; stale files would add the old run's requests).
    A file whose process still runs is kept: that process keeps writing into it, and unlinking it
    would drop its counts from every later scrape (a second `serve`, or this very process).
    """
    path = ensure_metrics_dir()
    for stale in path.glob("*.db"):
        if not _owner_alive(stale):
            stale.unlink(missing_ok=True)
    return path


def _owner_alive(file: Path) -> bool:
    """`histogram_<pid>.db` (prometheus_client's naming): whether process <pid> still runs."""
    pid = file.stem.rpartition("_")[2]
    return pid.isdigit() and psutil.pid_exists(int(pid))
