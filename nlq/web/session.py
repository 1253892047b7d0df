"""Browser sessions: the API's JWT in an HttpOnly cookie, and a double-submit CSRF token.

The session cookie is HttpOnly (scripts cannot read it) and SameSite=Lax. Every state-changing
request a page makes carries the CSRF token, either as the form field `csrf` or as the
`X-CSRF-Token` header of a fetch; the server compares it with the `vanguard_csrf` cookie, which
another site can neither read nor set.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from nlq.auth.deps import COOKIE_NAME, CSRF_COOKIE, csrf_matches
from nlq.errors import Forbidden

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _when(value) -> str:
    """An ISO timestamp as people read it: to the second, in UTC."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if moment.tzinfo else "")


def _pretty(value) -> str:
    """JSON for people (autoescaping still applies when it is rendered)."""
    return "—" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


CLIP_AT = 40


def _clip(value) -> Markup:
    """A value in a table cell: data of any size is text, not layout. Long text is cut short by
    the stylesheet (`.clip`: one line, an ellipsis) and shown whole on hover (its title)."""
    if value is None:
        return Markup("")
    text = str(value)
    if len(text) <= CLIP_AT:
        return escape(text)
    return Markup('<span class="clip" title="{0}">{0}</span>').format(text)


TEMPLATES.env.filters.update(when=_when, pretty=_pretty, clip=_clip)
# Scripts and styles only from our own static files (no inline code), no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def csrf_token(request: Request) -> str:
    """The browser's CSRF token, made on its first page view."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) < 32:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    if not csrf_matches(request, submitted):
        raise Forbidden("The form has expired or did not come from this site; reload the page and try again.",
                        reason="csrf")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def remember_csrf(request: Request, response: Response) -> Response:
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict", secure=_secure(request), path="/")
    return response


def start_session(request: Request, response: Response, token: str, lifetime_seconds: int) -> Response:
    response.set_cookie(COOKIE_NAME, token, max_age=lifetime_seconds, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")
    # A fresh CSRF token with each session, so one seen before login is worthless after it.
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), httponly=True, samesite="strict",
                        secure=_secure(request), path="/")
    return response


def end_session(response: Response) -> Response:
    response.delete_cookie(COOKIE_NAME, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    context.setdefault("csrf", csrf_token(request))
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return remember_csrf(request, response)
