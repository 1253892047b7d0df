"""Security headers on every response the pages do not already set: API JSON, errors, streams,
/openapi.json, and the /docs and /redoc pages (which must not be framed either).

Pure ASGI (no BaseHTTPMiddleware): it only adds headers to the response start, so streaming
answers (SSE, exports) pass through untouched and the cost per request is a few list operations.
"""

from __future__ import annotations

# JSON and text have no business running scripts or being framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The documentation pages (nlq/docs_assets.py) send their own, stricter policy with the hash of their
# inline script; this is the fallback for anything else under /docs or /redoc. Same origin only:
# Swagger UI and ReDoc are served from the package, never from a CDN.
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; worker-src blob:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
DOCS_PATHS = ("/docs", "/redoc")
ASSET_PATHS = ("/static/", "/docs-assets/")


def _headers_for(path: str) -> list[tuple[bytes, bytes]]:
    if path.startswith(ASSET_PATHS):
        return [(b"x-content-type-options", b"nosniff")]  # cacheable assets, served as their own type
    csp = DOCS_CSP if path.startswith(DOCS_PATHS) else API_CSP
    return [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"),
            (b"content-security-policy", csp.encode()), (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin")]


class SecurityHeadersMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _headers_for(scope.get("path", ""))

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
