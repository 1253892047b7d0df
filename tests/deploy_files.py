"""Read the deployment files the way Docker would: the Dockerfile's instructions, docker compose's
variable interpolation, a service's container environment. No Docker engine is needed, so the
tests can run the app with exactly the environment a container would get."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class MissingVariable(Exception):
    """A `${NAME:?message}` whose variable is unset: docker compose refuses to start."""


def interpolate(text: str, env: dict[str, str]) -> str:
    """docker compose's interpolation: $$, $NAME, ${NAME}, ${NAME:-default}, ${NAME-default},
    ${NAME:?error}, ${NAME?error} (defaults may themselves contain variables)."""

    def replace(match: re.Match) -> str:
        dollar, name, op, arg, bare = match.groups()
        if dollar:
            return "$"
        if bare:
            return env.get(bare, "")
        value = env.get(name)
        empty = value is None or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-"):
            return interpolate(arg, env) if empty else value
        if op in (":?", "?"):
            if empty:
                raise MissingVariable(f"{name}: {arg}")
            return value
        return value or ""

    return _VARIABLE.sub(replace, text)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    instructions, pending = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        keyword, _, rest = text.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def image_env() -> dict[str, str]:
    env = {}
    for keyword, rest in dockerfile():
        if keyword == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def image_cmd() -> list[str]:
    return json.loads([rest for keyword, rest in dockerfile() if keyword == "CMD"][-1])


def copied_paths() -> list[str]:
    """The build-context paths the Dockerfile copies (every COPY's sources)."""
    paths = []
    for keyword, rest in dockerfile():
        if keyword == "COPY":
            paths.extend(rest.split()[:-1])
    return paths


def service_environment(service: str, dotenv: dict[str, str]) -> dict[str, str]:
    """The environment compose sets for `service`: the image's ENV, then the service's
    `environment`, interpolated from `dotenv` (the .env file; nothing else is looked up)."""
    spec = compose()["services"][service]
    env = image_env() if "build" in spec else {}
    for name, value in (spec.get("environment") or {}).items():
        if value is None:  # `NAME:` passes the variable through when it is set
            if name in dotenv:
                env[name] = dotenv[name]
            continue
        env[name] = interpolate(str(value), dotenv)
    return env


def healthcheck(service: str) -> list[str]:
    test = compose()["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD", "an exec-form check, so that no shell is needed in the image"
    return test[1:]
