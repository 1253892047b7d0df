"""/docs (Swagger UI) and /redoc (ReDoc) with no internet: their scripts and styles come from the
`fastapi-offline` package (a PyPI distribution of swagger-ui-dist and ReDoc's standalone bundle),
served from this app instead of a CDN, so the pages work on an air-gapped site.

Each page carries its own Content-Security-Policy: same-origin only, and the one inline script of
the Swagger UI page allowed by its hash rather than by 'unsafe-inline'.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
DOCS_PATH, REDOC_PATH, OAUTH2_REDIRECT_PATH = "/docs", "/redoc", "/docs/oauth2-redirect"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
# Swagger UI and ReDoc style themselves with inline styles, draw icons as data: images, and ReDoc
# searches in a worker made from a blob.
_POLICY = ("default-src 'none'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src blob:; "
           "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def assets_directory() -> str:
    """Where the installed package keeps swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js."""
    return str(resources.files("fastapi_offline") / "static")


def page_policy(html: str) -> str:
    """The page's CSP: same-origin, plus the SHA-256 of each inline script the page itself contains."""
    hashes = "".join(f" 'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                     for s in _INLINE_SCRIPT.findall(html))
    return _POLICY.format(hashes=hashes)


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    page.headers["content-security-policy"] = page_policy(page.body.decode())
    return page


def install_docs(app: FastAPI) -> None:
    """Serve the documentation pages and their assets (build the app with docs_url=None, redoc_url=None)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=assets_directory()), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _with_policy(get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_PATH}",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png"))

    @app.get(OAUTH2_REDIRECT_PATH, include_in_schema=False)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return _with_policy(get_swagger_ui_oauth2_redirect_html())

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _with_policy(get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png", with_google_fonts=False))
