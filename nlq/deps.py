"""Typed dependencies handed to routes; everything here was created in the lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool

from nlq.config import Settings


def _app_pool(request: Request) -> AsyncConnectionPool:
    return request.app.state.app_pool


def _reader_pool(request: Request) -> AsyncConnectionPool:
    return request.app.state.reader_pool


def _settings(request: Request) -> Settings:
    return request.app.state.settings


AppPool = Annotated[AsyncConnectionPool, Depends(_app_pool)]
ReaderPool = Annotated[AsyncConnectionPool, Depends(_reader_pool)]
SettingsDep = Annotated[Settings, Depends(_settings)]
