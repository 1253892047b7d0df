"""Settings: the only module that reads the environment (prefix VANGUARD_)."""

from __future__ import annotations

from pathlib import Path

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nlq.ask.fairshare import ShareLimits
from nlq.forwarded import TrustedProxies
from nlq.setting_checks import check_database_url, check_http_url
from store.pems.client import PemsSettings
from store.reader import ExecutionLimits
from store.roles import ReaderLimits
from store.sync.schedule import Schedule


class Settings(BaseSettings):
    """Every setting has a working default, so `vanguard serve` needs no configuration."""

    model_config = SettingsConfigDict(env_prefix="VANGUARD_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of a superuser (bootstraps roles, runs migrations). Unset: embedded server.",
    )
    data_dir: Path = Field(default=Path(".vanguard"), description="Where the embedded server keeps its data.")
    app_database_url: str | None = Field(
        default=None, description="URL for the app role; default: database_url with user vanguard_app."
    )
    reader_database_url: str | None = Field(
        default=None,
        description="URL for the read-only NL query role; a hot standby here makes NL answers run on it (read-your-drafts checked, primary fallback); default: database_url with user vanguard_reader.",
    )
    app_db_password: SecretStr | None = Field(default=None, description="Password set on the vanguard_app role.")
    reader_db_password: SecretStr | None = Field(default=None, description="Password set on the vanguard_reader role.")
    host: str = Field(default="127.0.0.1", description="Address `vanguard serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `vanguard serve` listens on.")
    reader_statement_timeout: str = Field(default="5s", description="statement_timeout pinned on the reader role.")
    reader_work_mem: str = Field(default="32MB", description="work_mem pinned on the reader role.")
    reader_temp_file_limit: str = Field(default="256MB", description="temp_file_limit pinned on the reader role.")
    demo: bool = Field(default=True, description="Seed demo organizations, records and users into an empty database.")
    demo_public: bool = Field(default=False, description="Allow the demo users (published passwords) when `vanguard serve` listens on a non-loopback address.")
    demo_orgs: int = Field(default=3, ge=1, le=100, description="Demo organizations to seed.")
    demo_records: int = Field(default=2000, ge=1, le=2_000_000, description="Demo records per organization.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="warning", description="Log level of the service and the CLI: debug, info, warning, error (`-v`: info, `-vv`: debug).")
    jwt_secret: SecretStr | None = Field(default=None, description="Key that signs access tokens (32+ characters). Unset: a key generated once and kept in the database.")
    audit_key: SecretStr | None = Field(default=None, min_length=32, description="Key that seals the audit ledger (HMAC-SHA256, 32+ characters), the same for every API process. Unset: a key generated once into `audit.key` in the data directory (mode 0600).")
    token_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60, description="Lifetime of an access token.")
    forwarded_allow_ips: str = Field(
        default="", max_length=2000,
        description="Reverse proxies (addresses or networks, comma-separated; `*` for any) whose X-Forwarded-For "
                    "and X-Forwarded-Proto are believed. Unset: none; the peer's own address is the client.")
    metrics_token: SecretStr | None = Field(
        default=None, min_length=16,
        description="Bearer token that /metrics requires (16+ characters). Unset: /metrics answers 404.")
    llm_provider: Literal["auto", "openai", "offline"] = Field(default="auto", description="`openai`, `offline`, or `auto`: openai when a base URL or key is set, else offline.")
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint (OpenAI, Azure, Ollama, vLLM, llama.cpp), e.g. http://localhost:11434/v1.")
    llm_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("VANGUARD_LLM_API_KEY", "OPENAI_API_KEY"), description="API key for the endpoint (OPENAI_API_KEY is read too).")
    llm_model: str = Field(default="gpt-4o-mini", description="Model name sent to the endpoint.")
    llm_timeout_seconds: float = Field(default=60.0, gt=0, le=600, description="The longest one LLM call may take in all, streaming included.")
    llm_connect_timeout_seconds: float = Field(default=3.0, gt=0, le=60, description="How long opening a connection to the LLM endpoint may take (then: cannot be reached, naming the host).")
    llm_first_token_seconds: float = Field(default=20.0, gt=0, le=600, description="How long the LLM may take to start answering, connection retries on 429 / 5xx included.")
    llm_fallback: Literal["none", "offline"] = Field(default="none", description="`offline`: when the LLM cannot answer, the offline parser answers instead and says so; `none`: the answer is the `llm_unavailable` error.")
    query_timeout_seconds: float = Field(default=5.0, gt=0, le=300, description="statement_timeout of one NL query.")
    query_max_rows: int = Field(default=1000, ge=1, le=100_000, description="Rows an NL answer returns at most (then `truncated`).")
    query_max_cost: float = Field(default=2_000_000.0, gt=0, description="EXPLAIN cost above which an NL query is refused before it runs.")
    query_max_estimated_rows: float = Field(default=5_000_000.0, gt=0, description="Rows any node of an NL query's plan may be estimated at before it is refused (`over_budget`).")
    query_max_per_user: int = Field(default=2, ge=1, le=100, description="NL statements one user may run at once (per API process); more wait, then get `busy`.")
    query_max_per_org: int = Field(default=4, ge=1, le=1000, description="NL statements one organization may run at once (per API process).")
    query_queue_seconds: float = Field(default=3.0, ge=0, le=60, description="How long an NL statement waits for a free slot before `busy`.")
    bulk_max_records: int = Field(default=5000, ge=1, le=50_000, description="A bulk-edit plan matching more records than this is refused with the count.")
    pems_base_url: str | None = Field(default=None, description="PEMS (HxGN EAM) base URL. Unset: the built-in simulator with the demo organizations.")
    pems: Literal["auto", "simulator"] = Field(
        default="auto",
        description="`simulator`: use the built-in PEMS simulator even with an external database (which is refused "
                    "otherwise, see nlq/production_guard.py). `auto`: VANGUARD_PEMS_BASE_URL when set, else the simulator.")
    pems_api_key: SecretStr | None = Field(default=None, description="PEMS API key (sent as X-API-KEY).")
    pems_user: str | None = Field(default=None, description="PEMS user for Basic auth (when no API key is set).")
    pems_password: SecretStr | None = Field(default=None, description="PEMS password for Basic auth.")
    pems_tenant: str = Field(default="VANGUARD", description="PEMS tenant header.")
    pems_timeout_seconds: float = Field(default=30.0, gt=0, le=600, description="Timeout of one PEMS request.")
    pems_page_size: int = Field(default=5000, ge=1, le=10_000, description="Rows per PEMS grid page.")
    sync_interval_minutes: float = Field(default=15, gt=0, le=1440, description="How often each organization is synced.")
    full_sync_hours: float = Field(default=24, gt=0, le=24 * 30, description="How often a sync is a full reconcile (marks deletions).")
    sync_max_delete_share: float = Field(default=0.5, gt=0, le=1, description="A full sync that would mark more than this share deleted fails instead.")
    sync_overlap_seconds: float = Field(default=60, ge=0, le=86_400, description="An incremental sync also reads changes stamped this long before the previous run began (late commits, clock steps).")
    sync_enabled: bool = Field(default=True, description="Run the sync scheduler and write-back inside `vanguard serve`.")
    worker_tick_seconds: float = Field(default=5.0, gt=0, le=3600, description="How often the scheduler (in `vanguard serve` or `vanguard worker`) looks for due syncs and write-backs; a commit or a sync request wakes it at once.")
    writeback_lease_seconds: float = Field(default=120.0, ge=1, le=86_400, description="An outbox row in flight this long without a sign of life from its worker (killed, stalled) is taken over by another worker.")
    sync_lease_seconds: float = Field(default=120.0, ge=1, le=86_400, description="A read sync unfinished this long whose process is gone (its database session ended) is taken over by another process.")
    app_pool_size: int = Field(default=10, ge=1, le=200, description="Connections the app role's pool holds at most (per API process).")
    replica_wait_ms: int = Field(default=500, ge=0, le=10_000, description="When VANGUARD_READER_DATABASE_URL is a hot standby: how long an NL answer waits for it to replay the asker's latest drafts before the primary answers.")
    reader_pool_size: int = Field(default=5, ge=1, le=200, description="Connections the reader (NL query) pool holds at most (per API process).")
    pool_timeout_seconds: float = Field(default=5.0, gt=0, le=120, description="How long a request waits for a pooled connection before it is answered 503 with Retry-After.")

    @field_validator("database_url", "app_database_url", "reader_database_url", "pems_base_url", "llm_base_url",
                     mode="before")
    @classmethod
    def _empty_url_is_unset(cls, value):
        """`VANGUARD_PEMS_BASE_URL=` (as compose files write an unset variable) means unset."""
        return None if value == "" else value

    _database_urls_parse = field_validator("database_url", "app_database_url", "reader_database_url")(
        lambda value: check_database_url(value))  # a malformed URL is a configuration error, not a traceback later
    _http_urls_parse = field_validator("pems_base_url", "llm_base_url")(lambda value: check_http_url(value))
    _log_level_any_case = field_validator("log_level", mode="before")(
        lambda value: value.lower() if isinstance(value, str) else value)

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        TrustedProxies(value)  # a typo here must stop the start, not silently trust nobody (or anybody)
        return value

    def trusted_proxies(self) -> TrustedProxies:
        return TrustedProxies(self.forwarded_allow_ips)

    @field_validator("pems", mode="before")
    @classmethod
    def _empty_pems_is_auto(cls, value):
        """`VANGUARD_PEMS=` (as compose files write an unset variable) means `auto`."""
        return "auto" if value == "" else value

    @field_validator("audit_key", "metrics_token", mode="before")
    @classmethod
    def _empty_audit_key_is_unset(cls, value):
        """`VANGUARD_AUDIT_KEY=` (as compose files write an unset variable) means the key file;
        `VANGUARD_METRICS_TOKEN=` means no /metrics."""
        return None if value == "" else value

    def reader_limits(self) -> ReaderLimits:
        return ReaderLimits(
            statement_timeout=self.reader_statement_timeout,
            work_mem=self.reader_work_mem,
            temp_file_limit=self.reader_temp_file_limit,
        )

    def use_openai(self) -> bool:
        if self.llm_provider == "auto":
            return bool(self.llm_base_url or self.llm_api_key)
        return self.llm_provider == "openai"

    def execution_limits(self) -> ExecutionLimits:
        return ExecutionLimits(statement_timeout_ms=int(self.query_timeout_seconds * 1000),
                               max_rows=self.query_max_rows, max_cost=self.query_max_cost,
                               max_estimated_rows=self.query_max_estimated_rows)

    def share_limits(self) -> ShareLimits:
        return ShareLimits(per_user=self.query_max_per_user, per_organization=self.query_max_per_org,
                           wait_seconds=self.query_queue_seconds)

    def schedule(self) -> Schedule:
        return Schedule(
            interval_seconds=int(self.sync_interval_minutes * 60),
            full_every_seconds=int(self.full_sync_hours * 3600),
            max_delete_share=self.sync_max_delete_share,
            overlap_seconds=self.sync_overlap_seconds,
            writeback_lease_seconds=self.writeback_lease_seconds,
            sync_lease_seconds=self.sync_lease_seconds,
        )

    def pems_settings(self, base_url: str | None = None, api_key: str | None = None) -> PemsSettings:
        """Client settings for the configured PEMS, or for the simulator at `base_url`."""
        return PemsSettings(
            base_url=base_url or self.pems_base_url or "",
            api_key=api_key or self.secret(self.pems_api_key),
            user=self.pems_user,
            password=self.secret(self.pems_password),
            tenant=self.pems_tenant,
            timeout_seconds=self.pems_timeout_seconds,
            page_size=self.pems_page_size,
        )

    @staticmethod
    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value else None
