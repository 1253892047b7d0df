"""`vanguard bench --only load --replica`: the load run again with NL reads on a streaming standby,
reported beside the primary-only figures (a small run: it proves the bench code, not speed)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import cli_env


def test_the_replica_load_run_is_reported_beside_the_primary_one(tmp_path):
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, "-m", "nlq.cli", "bench", "--only", "load", "--replica", "--records", "4000",
                           "--orgs", "2", "--drafts", "10", "--clients", "4", "--load-seconds", "3", "--json", str(out)],
                          env=cli_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    results = {r["name"]: r for r in json.loads(out.read_text())["results"]}
    for label in ("load", "load (replica)"):
        assert results[f"{label}: 4 clients for 3 s, errors"]["median"] == 0
        assert f"{label}: NL questions (offline model)" in results
    on_standby = results["load (replica): NL answers read on the standby"]
    assert on_standby["passed"] is True and on_standby["median"] > 0
    assert "0 fell back to the primary" in on_standby["note"]
