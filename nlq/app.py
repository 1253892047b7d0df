"""App wiring: `create_app` and its lifespan, which opens and closes every shared resource."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from nlq import health
from nlq.config import Settings
from nlq.errors import install_error_handlers
from store.database import DatabaseUrls


def create_app(settings: Settings, urls: DatabaseUrls) -> FastAPI:
    """Build the application for an already migrated database.

    Pools are created closed and opened in the lifespan, so importing or building the app never
    touches the network.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app_pool = AsyncConnectionPool(urls.app, min_size=1, max_size=10, open=False, name="app")
        reader_pool = AsyncConnectionPool(urls.reader, min_size=1, max_size=5, open=False, name="reader")
        await app_pool.open(wait=True, timeout=15)
        await reader_pool.open(wait=True, timeout=15)
        app.state.settings = settings
        app.state.app_pool = app_pool
        app.state.reader_pool = reader_pool
        try:
            yield
        finally:
            await reader_pool.close()
            await app_pool.close()

    app = FastAPI(
        title="PFA Vanguard",
        summary="Natural-language queries, drafts and write-back over a PostgreSQL mirror of PEMS.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    return app
