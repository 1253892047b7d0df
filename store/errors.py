"""Errors raised by the store package; each docstring is the default message."""


class StoreError(Exception):
    """A storage operation failed."""

    code = "store_error"

    def __init__(self, message: str | None = None, **details: object) -> None:
        super().__init__(message or self.__doc__)
        self.message = message or (self.__doc__ or "").strip()
        self.details = details


class DatabaseUnavailable(StoreError):
    """The database could not be reached or started."""

    code = "database_unavailable"


class MigrationError(StoreError):
    """The database schema could not be brought up to date."""

    code = "migration_error"


class MigrationDrift(MigrationError):
    """An applied migration file was changed after it ran; restore it or add a new migration."""

    code = "migration_drift"


class BootstrapNeedsSuperuser(MigrationError):
    """Creating the roles and hardening the catalog needs a superuser connection the first time."""

    code = "bootstrap_needs_superuser"
