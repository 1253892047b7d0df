"""App wiring: `create_app` and its lifespan, which opens and closes every shared resource."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from nlq import audit_routes, examples_routes, health, kpis, metrics, sync_routes
from nlq.audit_key import load_audit_key
from nlq.audit_sealer import AuditSealer
from nlq.ask import conversation_routes, routes as ask_routes
from nlq.bulk import routes as bulk_routes
from nlq.matrix import routes as matrix_routes
from nlq.web import install_pages
from nlq.ask.catalog import build_catalog
from nlq.ask.fairshare import FairShare
from nlq.ask.llm_client import endpoint_host
from nlq.ask.offline import OfflineProvider
from nlq.ask.providers import OpenAIProvider
from nlq.ask.replica import ReplicaReads, is_replica
from nlq.ask.service import AskDeps
from nlq.ask.vocabulary import VocabularyCache
from nlq.metrics import install_request_metrics
from nlq.drafts import routes as drafts_routes
from nlq.drafts import commit_list
from nlq.records import routes as records_routes
from nlq.timeline import routes as timeline_routes
from nlq.records import values as records_values
from nlq.auth import routes as auth_routes
from nlq.auth.ratelimit import LoginLimiter
from nlq.auth.tokens import TokenSigner
from nlq.config import Settings
from nlq.docs_assets import install_docs
from nlq.errors import install_error_handlers
from nlq.forwarded import ForwardedHeadersMiddleware
from nlq.openapi import install_openapi
from nlq.security_headers import SecurityHeadersMiddleware
from nlq.scheduler import SyncScheduler
from nlq.wake import RemoteScheduler
from store.database import DatabaseUrls
from store import queries
from store.reader import reset_reader_connection
from store.pems.client import PemsSettings

_ACCOUNTS = queries.load("accounts")


def create_app(settings: Settings, urls: DatabaseUrls, pems: PemsSettings | None = None, *,
               remote_scheduler: PemsSettings | None = None) -> FastAPI:
    """Build the application for an already migrated database.

    Pools are created closed and opened in the lifespan, so importing or building the app never
    touches the network. With `pems`, the sync scheduler runs in the lifespan too; with
    `remote_scheduler` instead, another process runs it and this one wakes it (nlq/wake.py).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        audit_key = load_audit_key(settings)  # before anything opens: a bad key file stops the start
        # A request that finds every connection busy waits `pool_timeout_seconds`, then gets a 503
        # with Retry-After (nlq/errors.py), never a 500 and never an unbounded queue.
        app_pool = AsyncConnectionPool(urls.app, min_size=1, max_size=settings.app_pool_size, open=False,
                                       name="app", timeout=settings.pool_timeout_seconds)
        reader_pool = AsyncConnectionPool(urls.reader, min_size=1, max_size=settings.reader_pool_size, open=False,
                                          name="reader", timeout=settings.pool_timeout_seconds,
                                          reset=reset_reader_connection)
        await app_pool.open(wait=True, timeout=15)
        await reader_pool.open(wait=True, timeout=15)
        replica = None
        if urls.primary_reader and urls.primary_reader != urls.reader and await is_replica(reader_pool):
            # The reader URL is a hot standby: NL answers run there, everything else (and the
            # fallback) on the reader role of the primary. A standby restarts on its own schedule,
            # so its pool checks a connection before lending it (a dead one is replaced, not used).
            await reader_pool.close()
            replica_pool = AsyncConnectionPool(
                urls.reader, min_size=1, max_size=settings.reader_pool_size, open=False, name="replica",
                timeout=settings.pool_timeout_seconds, reset=reset_reader_connection,
                check=AsyncConnectionPool.check_connection)
            reader_pool = AsyncConnectionPool(
                urls.primary_reader, min_size=1, max_size=settings.reader_pool_size, open=False, name="reader",
                timeout=settings.pool_timeout_seconds, reset=reset_reader_connection)
            await replica_pool.open(wait=True, timeout=15)
            await reader_pool.open(wait=True, timeout=15)
            replica = ReplicaReads(replica_pool=replica_pool, primary_pool=reader_pool, app_pool=app_pool,
                                   wait_seconds=settings.replica_wait_ms / 1000)
        app.state.settings = settings
        app.state.urls = urls
        app.state.tokens = TokenSigner(await _signing_key(settings, app_pool), settings.token_minutes * 60)
        app.state.login_limiter = LoginLimiter(app_pool)
        provider = make_provider(settings, app_pool)
        fallback = OfflineProvider(app_pool) if settings.llm_fallback == "offline" and provider.name != "offline" else None
        app.state.ask = AskDeps(app_pool=app_pool, reader_pool=reader_pool, provider=provider,
                                catalog=build_catalog(), limits=settings.execution_limits(),
                                bulk_max_records=settings.bulk_max_records,
                                fair_share=FairShare(settings.share_limits()), replica=replica,
                                vocabulary=VocabularyCache(app_pool), fallback=fallback)
        app.state.app_pool = app_pool
        app.state.reader_pool = reader_pool
        scheduler_task = None
        if pems is not None and settings.sync_enabled:
            app.state.scheduler = SyncScheduler(urls.app, pems, settings.schedule(),
                                                tick_seconds=settings.worker_tick_seconds)
            scheduler_task = asyncio.create_task(app.state.scheduler.run())
        elif remote_scheduler is not None:
            app.state.scheduler = RemoteScheduler(app_pool, remote_scheduler)
        app.state.audit_key = audit_key
        sealer = AuditSealer(urls.app, audit_key)
        sealer_task = asyncio.create_task(sealer.run())
        try:
            yield
        finally:
            if scheduler_task is not None:
                scheduler_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scheduler_task
            await sealer.stop(sealer_task)
            close = getattr(provider, "close", None)
            if close is not None:
                await close()
            await reader_pool.close()
            if replica is not None:
                await replica.replica_pool.close()
            await app_pool.close()

    app = FastAPI(
        title="PFA Vanguard",
        summary="Natural-language queries, drafts and write-back over a PostgreSQL mirror of PEMS.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # served by install_docs, from the package rather than a CDN
    )
    install_docs(app)
    install_error_handlers(app)
    install_openapi(app)
    install_request_metrics(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(auth_routes.router)
    app.include_router(records_routes.router)
    app.include_router(records_values.router)
    app.include_router(drafts_routes.router)
    app.include_router(commit_list.router)
    app.include_router(kpis.router)
    app.include_router(timeline_routes.router)
    app.include_router(matrix_routes.router)
    app.include_router(sync_routes.router)
    app.include_router(sync_routes.all_router)
    app.include_router(ask_routes.router)
    app.include_router(conversation_routes.router)
    app.include_router(audit_routes.router)
    app.include_router(examples_routes.router)
    app.include_router(bulk_routes.router)
    install_pages(app)
    app.add_middleware(SecurityHeadersMiddleware)
    proxies = settings.trusted_proxies()
    if proxies:  # outermost: every other layer sees the client's address, not the proxy's
        app.add_middleware(ForwardedHeadersMiddleware, proxies=proxies)
    return app


def make_provider(settings: Settings, app_pool: AsyncConnectionPool):
    """`openai` when an endpoint or key is configured (or asked for), else the offline parser."""
    if settings.use_openai():
        return OpenAIProvider(settings.llm_base_url, Settings.secret(settings.llm_api_key), settings.llm_model,
                              timeout_seconds=settings.llm_timeout_seconds,
                              connect_timeout_seconds=settings.llm_connect_timeout_seconds,
                              first_token_seconds=settings.llm_first_token_seconds)
    return OfflineProvider(app_pool)


def describe_llm(settings: Settings) -> str:
    """Which provider and model answer questions, for `vanguard serve` to print: the endpoint by
    its host only (its path or query may carry a key)."""
    fallback = " (falls back to the offline parser when it cannot answer)" if settings.llm_fallback == "offline" else ""
    if settings.use_openai():
        return (f"LLM: model {settings.llm_model} at {endpoint_host(settings.llm_base_url)} "
                f"(OpenAI-compatible){fallback}")
    return "LLM: offline parser (no model endpoint configured: set VANGUARD_LLM_BASE_URL or VANGUARD_LLM_API_KEY)"


async def _signing_key(settings: Settings, pool: AsyncConnectionPool) -> str:
    configured = Settings.secret(settings.jwt_secret)
    if configured:
        return configured
    async with pool.connection() as conn:
        row = await (await conn.execute(_ACCOUNTS["get_secret"], {"name": "jwt_signing_key"})).fetchone()
    return row[0]
