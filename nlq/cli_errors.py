"""How the command line fails: one line on stderr and a stable exit status, never a traceback.

Exit statuses: 1 when the work failed (an unreachable database, a failed sync), 2 when the command
could not start as configured (bad arguments, a bad setting, a busy port, a file it cannot use),
128 + N when signal N stopped it (130 for Ctrl-C, 143 for SIGTERM), 141 when the reader of its
output went away (`vanguard ask ... | head`).
"""

from __future__ import annotations

import os
import sys

from pydantic import SecretStr, ValidationError

EXIT_FAILED = 1
EXIT_CONFIGURATION = 2
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a process killed by SIGPIPE
ECHO_LIMIT = 80  # a rejected value longer than this is not repeated back


class CliError(Exception):
    """The command failed."""

    code = "cli_error"
    exit_status = EXIT_FAILED

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip()
        super().__init__(self.message)


class ConfigurationError(CliError):
    """The configuration is invalid."""

    code = "invalid_configuration"
    exit_status = EXIT_CONFIGURATION


def describe_settings_error(exc: ValidationError, settings_class) -> str:
    """One line naming each bad environment variable and what is wrong with it.

    The rejected value is repeated only for settings that cannot hold a secret (not keys,
    passwords or URLs, which may carry a password).
    """
    problems = []
    for error in exc.errors(include_url=False):
        where = str(error["loc"][0]) if error["loc"] else ""
        name, echo = _variable(where, settings_class)
        message = error["msg"].removeprefix("Value error, ")
        value = error.get("input")
        if echo and isinstance(value, str) and len(value) <= ECHO_LIMIT:
            message += f" (got {value!r})"
        problems.append(f"{name}: {message}" if name else message)
    return "; ".join(problems)


def _variable(where: str, settings_class) -> tuple[str, bool]:
    fields = settings_class.model_fields
    prefix = settings_class.model_config.get("env_prefix", "")
    field_name = where if where in fields else next(
        (n for n, f in fields.items() if f.validation_alias is not None and where in str(f.validation_alias)), None)
    if field_name is None:
        return where, False
    info = fields[field_name]
    secret = SecretStr in getattr(info.annotation, "__args__", (info.annotation,)) or field_name.endswith("_url")
    return f"{prefix}{field_name}".upper(), not secret


def describe_os_error(exc: OSError) -> tuple[str, int]:
    """A file the command cannot use is a configuration problem (2); other OS errors a failure (1)."""
    reason = exc.strerror or str(exc)
    if exc.filename is not None:
        return f"cannot use {exc.filename}: {reason}", EXIT_CONFIGURATION
    return reason, EXIT_FAILED


def silence_broken_stdout() -> None:
    """After the reader of stdout went away: point stdout at /dev/null so the interpreter's final
    flush does not print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
