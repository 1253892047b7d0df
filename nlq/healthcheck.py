"""`python -m nlq.healthcheck`: the container's health check, exit 0 when /health answers 200.

The image is python:*-slim, which has no curl or wget; this needs only the standard library and
the service's own settings (the port it listens on). `degraded` (an organization's sync is stale)
is still healthy for the container: restarting it would not make PEMS answer.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from nlq.config import Settings


def main() -> int:
    url = f"http://127.0.0.1:{Settings().port}/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read(200).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
