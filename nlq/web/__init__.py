"""Web pages served by the API's own app (DESIGN section 9): Jinja2 templates, static files, no build step."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from nlq.web import examples_pages, matrix_pages, pages, timeline_pages
from nlq.web.session import render

PAGE_PREFIXES = ("/o/", "/login", "/logout")


def is_page(request: Request) -> bool:
    path = request.url.path
    return path == "/" or path.startswith(PAGE_PREFIXES)


def page_error(request: Request, status: int, error: dict):
    """Errors on pages: log in again on 401, otherwise an error page with the message (never JSON)."""
    if not is_page(request):
        return None
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target if request.method == 'GET' else '/')}", status_code=303)
    return render(request, "error.html", status, status=status, code=error.get("code"), message=error.get("message"),
                  problems=(error.get("details") or {}).get("problems", []))


def install_pages(app: FastAPI) -> None:
    app.include_router(pages.router)
    app.include_router(examples_pages.router)
    app.include_router(timeline_pages.router)
    app.include_router(matrix_pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.state.page_error = page_error
