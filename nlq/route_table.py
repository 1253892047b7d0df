"""Every route of the app with its full path, however this FastAPI version keeps included routers."""

from __future__ import annotations

import fastapi.routing
from fastapi.routing import APIRoute


def all_routes(routes: list) -> list:
    """Route-like objects (`path_format`, `methods`, `matches`, ...) for every route, nested ones included."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:  # older FastAPI copies included routers' routes into app.routes
        return list(routes)
    return list(contexts(routes))


def api_routes(routes: list) -> list:
    """The FastAPI routes among `all_routes`."""
    return [r for r in all_routes(routes) if isinstance(getattr(r, "original_route", r), APIRoute)]
