"""Checks of URL settings, so a malformed one stops the start with its name instead of failing later.

The messages never repeat the value: a database URL carries a password.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from psycopg.conninfo import conninfo_to_dict

POSTGRES_SCHEMES = ("postgresql", "postgres")


def check_database_url(value: str | None) -> str | None:
    """A libpq URL (`postgresql://user:password@host:5432/dbname`) or key=value string, or unset.

    >>> check_database_url("mysql://root@db/app")
    Traceback (most recent call last):
    ...
    ValueError: not a PostgreSQL URL: the scheme is mysql://, expected postgresql://user:password@host:5432/dbname
    """
    if value is None:
        return None
    if "://" in value:
        scheme = value.split("://", 1)[0]
        if scheme.lower() not in POSTGRES_SCHEMES:
            raise ValueError(f"not a PostgreSQL URL: the scheme is {scheme[:20]}://, "
                             "expected postgresql://user:password@host:5432/dbname")
    elif value.strip() and "=" not in value:
        raise ValueError("not a PostgreSQL URL: expected postgresql://user:password@host:5432/dbname "
                         "(or key=value pairs such as 'host=db dbname=vanguard')")
    try:
        conninfo_to_dict(value)
    except Exception:  # psycopg's message quotes the whole value, password included
        raise ValueError("not a valid PostgreSQL URL or connection string "
                         "(expected postgresql://user:password@host:5432/dbname)") from None
    return value


def check_http_url(value: str | None) -> str | None:
    """An http:// or https:// URL with a host, or unset.

    >>> check_http_url("localhost:11434/v1")
    Traceback (most recent call last):
    ...
    ValueError: not an http:// or https:// URL with a host (e.g. https://pems.example.com)
    """
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        valid = False
    if not valid:
        raise ValueError("not an http:// or https:// URL with a host (e.g. https://pems.example.com)")
    return value
