"""SQL corpora shipped with guardrails: attacks that must be refused, analytic queries that must pass.

Used by the test suite and by `vanguard bench`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_DIRECTIVE = re.compile(r"^-- (class|title|expect): ?(.*)$")


@dataclass(frozen=True)
class Case:
    title: str
    sql: str
    expect: str
    group: str


def load(name: str) -> list[Case]:
    """Cases of `corpus/<name>.sql`: blocks of `-- class:`, `-- title:`, `-- expect:` and the SQL."""
    text = (resources.files("guardrails") / "corpus" / f"{name}.sql").read_text(encoding="utf-8")
    cases: list[Case] = []
    current: dict[str, str] = {}
    body: list[str] = []

    def flush() -> None:
        if "title" in current:
            cases.append(Case(current["title"], "\n".join(body).strip(), current.get("expect", "allowed"),
                              current.get("class", "")))
        body.clear()

    for line in text.splitlines():
        match = _DIRECTIVE.match(line)
        if match:
            key, value = match.groups()
            if key == "class":
                flush()
                current = {}
            elif key == "title" and "title" in current:
                flush()
                current = {"class": current.get("class", "")}
            current[key] = value.strip()
        elif "title" in current:
            body.append(line)
    flush()
    return cases
