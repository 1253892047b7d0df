"""The OpenAPI document: every response a route can give, with the one error body and the SSE media type.

FastAPI declares only a 200 and its own 422 shape. This module declares, for each route, what the
error handlers (`nlq/errors.py`) really send: 401 wherever the caller is authenticated, 403
where a role is needed or a page's CSRF token may be missing (state-changing requests), 422
wherever there is a parameter or a body, 503 everywhere (every route reaches the database, and an exhausted pool answers 503 with
Retry-After), plus what a route names itself with `responses=errors(404, ...)`. Routes that
return an `EventSourceResponse` are declared as `text/event-stream`.
"""

from __future__ import annotations

import json
import typing

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from nlq.auth.deps import SAFE_METHODS, current_user
from nlq.route_table import api_routes


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable code, e.g. `not_found`, `validation_failed`, `service_unavailable`.")
    message: str = Field(description="What went wrong, for a person.")
    details: dict = Field(default_factory=dict, description="Machine-readable particulars (fields, rules, retry_after_seconds).")


class ErrorBody(BaseModel):
    """The one shape of every error answer."""

    error: ErrorDetail


DESCRIPTIONS = {
    401: "Not logged in: the token is missing, expired or invalid (`unauthorized`).",
    403: "No access to this organization or action, or a page request without its CSRF token (`forbidden`).",
    404: "Not found, or not yours (`not_found`).",
    409: "The request conflicts with the current state (`conflict`).",
    422: "The request is malformed (`invalid_request`, `invalid_value`, `invalid_text`) or breaks a rule "
         "(`validation_failed`).",
    429: "Too many attempts (`too_many_attempts`); wait for Retry-After seconds.",
    503: "Busy (every database connection is in use) or a dependency is unavailable (`service_unavailable`); "
         "try again after Retry-After seconds.",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}
SSE_EXAMPLE = 'event: status\ndata: {"stage": "writing_sql"}\n\nevent: done\ndata: {}\n\n'


def errors(*statuses: int) -> dict[int | str, dict]:
    """`responses=` for a route decorator: the error statuses the route itself can raise."""
    return {status: {"model": ErrorBody, "description": DESCRIPTIONS[status]} for status in statuses}


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with one that declares every route's error responses (built once)."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                 description=app.description, routes=app.routes)
            declare_responses(schema, [r for r in api_routes(app.routes) if r.include_in_schema])
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi


def route_error_statuses(route: APIRoute, method: str) -> set[int]:
    """The error statuses a route can answer: inferred from its dependencies and parameters, plus its own."""
    statuses = {503} | {int(s) for s in route.responses if str(s).isdigit() and int(s) >= 400}
    every = [route.dependant, *_dependants(route.dependant)]
    if any(dep.call is current_user for dep in every):
        statuses.add(401)
        # A role in the organization, or (on a state-changing request from a page) the CSRF token.
        if method not in SAFE_METHODS or any(hasattr(dep.call, "minimum_role") for dep in every):
            statuses.add(403)
    if any(d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params for d in every):
        statuses.add(422)
    return statuses


def declare_responses(schema: dict, routes: list[APIRoute]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(body.pop("$defs", {}))
    components["ErrorBody"] = body
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for route in routes:
        for method in route.methods - {"HEAD"}:
            operation = schema["paths"][route.path_format][method.lower()]
            responses = operation.setdefault("responses", {})
            for status in sorted(route_error_statuses(route, method)):
                declared = {"description": DESCRIPTIONS[status], "content": error_content}
                if status in (429, 503):
                    declared["headers"] = RETRY_AFTER
                responses[str(status)] = declared
            if _streams_events(route):
                ok = responses.setdefault("200", {"description": "Successful Response"})
                ok["content"] = {"text/event-stream": {"schema": {"type": "string"}, "example": SSE_EXAMPLE}}
    _drop_unreferenced(schema, ("HTTPValidationError", "ValidationError"))


def _dependants(dependant) -> typing.Iterator:
    for dep in dependant.dependencies:
        yield dep
        yield from _dependants(dep)


def _streams_events(route: APIRoute) -> bool:
    try:
        returned = typing.get_type_hints(route.endpoint).get("return")
    except (NameError, TypeError):
        return False
    return isinstance(returned, type) and issubclass(returned, EventSourceResponse)


def _drop_unreferenced(schema: dict, names: tuple[str, ...]) -> None:
    components = schema["components"]["schemas"]
    for name in names:
        if name in components and f'"#/components/schemas/{name}"' not in json.dumps(
                {k: v for k, v in schema.items() if k != "components"}):
            # FastAPI's own 422 shape, replaced above by ErrorBody; keep it only if something else uses it.
            others = json.dumps({k: v for k, v in components.items() if k not in names})
            if f'"#/components/schemas/{name}"' not in others:
                del components[name]
