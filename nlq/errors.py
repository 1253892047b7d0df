"""Service errors with stable codes, and the one JSON error body: {"error": {code, message, details}}."""

from __future__ import annotations

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from nlq.route_table import all_routes
from store.errors import StoreError


class NlqError(Exception):
    """The request could not be completed."""

    code = "error"
    status_code = 400

    def __init__(self, message: str | None = None, **details: object) -> None:
        self.message = message or (self.__doc__ or "").strip()
        self.details = details
        super().__init__(self.message)


class Unauthorized(NlqError):
    """Log in first: the token is missing, expired or invalid."""

    code = "unauthorized"
    status_code = 401


class Forbidden(NlqError):
    """You do not have access to this organization or action."""

    code = "forbidden"
    status_code = 403


class NotFound(NlqError):
    """Not found."""

    code = "not_found"
    status_code = 404


class Conflict(NlqError):
    """The request conflicts with the current state."""

    code = "conflict"
    status_code = 409


class InvalidRequest(NlqError):
    """The request is malformed."""

    code = "invalid_request"
    status_code = 422


class ValidationFailed(NlqError):
    """The request breaks a rule."""

    code = "validation_failed"
    status_code = 422


class TooManyAttempts(NlqError):
    """Too many attempts; wait and try again."""

    code = "too_many_attempts"
    status_code = 429


def check_text(value: str, field: str) -> str:
    """Refuse text PostgreSQL cannot store: NUL bytes and lone surrogates."""
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValidationFailed(f"{field} contains characters that are not allowed", field=field)
    return value


class ServiceUnavailable(NlqError):
    """A dependency of the service is unavailable; try again shortly."""

    code = "service_unavailable"
    status_code = 503


RETRY_AFTER_BUSY_SECONDS = 2


def error_body(code: str, message: str, details: object = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _reply(request: Request, status: int, body: dict, headers: dict | None = None):
    """The JSON error body, unless the request was for a web page: then the pages' own error page."""
    render = getattr(request.app.state, "page_error", None)
    page = render(request, status, body["error"]) if render is not None else None
    if page is None:
        return JSONResponse(body, status_code=status, headers=headers)
    if headers and page.status_code == status:  # e.g. Retry-After on a busy page; not on a login redirect
        page.headers.update(headers)
    return page


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts at this path (Starlette's own 405 names only the first route's)."""
    methods: set[str] = set()
    for route in all_routes(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to the one body shape; never leak tracebacks or database text."""

    @app.exception_handler(NlqError)
    async def _nlq_error(request: Request, exc: NlqError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if isinstance(exc, TooManyAttempts) and exc.details.get("retry_after_seconds"):
            headers = {"Retry-After": str(exc.details["retry_after_seconds"])}
        return _reply(request, exc.status_code, error_body(exc.code, exc.message, exc.details), headers)

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError):
        return _reply(request, 503, error_body(exc.code, exc.message, exc.details))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        problems = [
            {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return _reply(request, 422, error_body("invalid_request", "The request is malformed.", {"problems": problems}))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400:  # FastAPI could not read the body (e.g. not UTF-8): the caller's input
            return _reply(request, 422, error_body("invalid_request", "The request body cannot be read: send UTF-8 JSON."))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return _reply(request, exc.status_code, error_body(code, str(exc.detail)), headers or None)

    @app.exception_handler(UnicodeEncodeError)
    async def _unstorable_text(request: Request, exc: UnicodeEncodeError):
        return _reply(request, 422, error_body("invalid_text", "The request contains text that is not valid Unicode."))

    @app.exception_handler(psycopg.DataError)
    async def _bad_data(request: Request, exc: psycopg.DataError):
        # Values the database cannot hold (a NUL byte in text, a number out of range): the
        # caller's input, never worth a 500; the database's text is not echoed.
        return _reply(request, 422, error_body("invalid_value", "A value in the request cannot be stored or compared."))

    @app.exception_handler(psycopg_pool.PoolTimeout)
    @app.exception_handler(psycopg_pool.TooManyRequests)
    async def _pool_exhausted(request: Request, exc: psycopg.OperationalError):
        # Every pooled connection stayed busy for the pool's timeout: back-pressure, not a fault.
        body = error_body(ServiceUnavailable.code, "The service is busy; try again in a moment.",
                          {"retry_after_seconds": RETRY_AFTER_BUSY_SECONDS})
        return _reply(request, 503, body, {"Retry-After": str(RETRY_AFTER_BUSY_SECONDS)})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        return _reply(request, 500, error_body("internal_error", "Something went wrong on our side."))
