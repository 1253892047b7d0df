"""Settings: the only module that reads the environment (prefix VANGUARD_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from store.roles import ReaderLimits


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
        description="URL for the read-only NL query role (e.g. a read replica); default: database_url with user vanguard_reader.",
    )
    app_db_password: SecretStr | None = Field(default=None, description="Password set on the vanguard_app role.")
    reader_db_password: SecretStr | None = Field(default=None, description="Password set on the vanguard_reader role.")
    host: str = Field(default="127.0.0.1", description="Address `vanguard serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `vanguard serve` listens on.")
    reader_statement_timeout: str = Field(default="5s", description="statement_timeout pinned on the reader role.")
    reader_work_mem: str = Field(default="32MB", description="work_mem pinned on the reader role.")
    reader_temp_file_limit: str = Field(default="256MB", description="temp_file_limit pinned on the reader role.")
    demo: bool = Field(default=True, description="Seed demo organizations, records and users into an empty database.")
    demo_orgs: int = Field(default=3, ge=1, le=100, description="Demo organizations to seed.")
    demo_records: int = Field(default=2000, ge=1, le=2_000_000, description="Demo records per organization.")
    log_level: str = Field(default="info", description="Log level: debug, info, warning, error.")

    def reader_limits(self) -> ReaderLimits:
        return ReaderLimits(
            statement_timeout=self.reader_statement_timeout,
            work_mem=self.reader_work_mem,
            temp_file_limit=self.reader_temp_file_limit,
        )

    @staticmethod
    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value else None
