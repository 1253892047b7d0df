"""The web pages: login, chat, records, record edit, change-set review, commits, admin audit and sync.

Pages live under `/o/{org_id}/...`, so the API's role dependencies (Viewer, Editor, Admin) guard
them unchanged, and they call the API's own route functions for their data: one implementation of
every rule, whichever way it is reached. Forms post back here and redirect on success; a refused
form is shown again with the errors next to the fields concerned. The CSRF token of a form is
checked by the role dependency itself (`nlq.auth.deps.current_user`), before anything runs; only
login and logout, which have no session to check, compare it here.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Annotated
from urllib.parse import quote, urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from nlq import audit_routes, sync_routes
from nlq.auth.deps import COOKIE_NAME, ROLE_RANK, Admin, Editor, OrgAccess, Viewer, current_user
from nlq.auth.revocation import revoke_token
from nlq.auth.routes import authenticate
from nlq.bulk import routes as bulk_routes
from nlq.deps import AppPool, SettingsDep
from nlq.drafts import commit_list
from nlq.drafts import routes as drafts_routes
from nlq.drafts.schemas import CommitRequest, DiscardRequest, ResolveRequest
from nlq.errors import NlqError, NotFound, Unauthorized, ValidationFailed, check_text
from nlq.records import routes as records_routes
from nlq.records.routes import Filters
from nlq.web import grid
from nlq.web.session import check_csrf, end_session, render, start_session
from store import queries
from store.drafts import DraftChange, DraftRejected, find_violations, save_drafts
from store.fields import BY_KEY, FIELDS, FieldType

router = APIRouter(include_in_schema=False)
_Q = queries.load("records")
EDITABLE = [f for f in FIELDS if f.editable]
Csrf = Annotated[str, Form(max_length=200)]


def _editable(access) -> list:
    """The record form's fields: without money for a member who may not see costs."""
    return EDITABLE if access.sees_costs else [f for f in EDITABLE if not f.financial]


def _body(model: type[BaseModel], **values) -> BaseModel:
    """An API request body built from form input: what it refuses is the user's 422, not a 500."""
    try:
        return model(**values)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        raise ValidationFailed(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _local(next_url: str | None) -> str | None:
    """Only a path on this site (never //host or a scheme) may be a redirect target after login."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//") and "\\" not in next_url:
        return next_url
    return None


def _nav(request: Request, access) -> dict:
    role = access.role
    return {"access": access, "user": access.user, "org": access.org_id, "role": role,
            "is_editor": ROLE_RANK[role] >= ROLE_RANK["editor"], "is_admin": role == "admin",
            "orgs": sorted(access.user.memberships.items()), "path": request.url.path}


# -- login ------------------------------------------------------------------------------------------

@router.get("/")
async def home(request: Request, pool: AppPool):
    try:
        user = await current_user(request, pool)
    except Unauthorized:
        return _see_other("/login")
    if not user.memberships:
        return render(request, "error.html", 403, status=403, message="Your account belongs to no organization yet.")
    return _see_other(f"/o/{quote(sorted(user.memberships)[0])}/chat")


@router.get("/login")
async def login_page(request: Request, next: Annotated[str | None, Query(max_length=500)] = None):
    return render(request, "login.html", next=_local(next) or "", username="", error=None)


@router.post("/login")
async def login_submit(request: Request, pool: AppPool, csrf: Csrf,
                       username: Annotated[str, Form(max_length=64)] = "",
                       password: Annotated[str, Form(max_length=256)] = "",
                       next: Annotated[str, Form(max_length=500)] = ""):
    check_csrf(request, csrf)
    try:
        if not username or not password:
            raise ValidationFailed("Enter your username and password.")
        check_text(username, "username")
        token = await authenticate(request, pool, username, password)
    except NlqError as exc:
        return render(request, "login.html", exc.status_code, next=_local(next) or "", username=username,
                      error=exc.message)
    response = _see_other(_local(next) or "/")
    return start_session(request, response, token, request.app.state.tokens.lifetime_seconds)


@router.post("/logout")
async def logout(request: Request, pool: AppPool, csrf: Csrf):
    """Ends the session for good: the token is revoked server-side, not only dropped from the cookie."""
    check_csrf(request, csrf)
    token = request.cookies.get(COOKIE_NAME)
    if token:
        try:
            claims = request.app.state.tokens.verify(token)
        except Unauthorized:
            claims = None  # expired or foreign: nothing left to revoke
        if claims is not None:
            await revoke_token(pool, claims)
    return end_session(_see_other("/login"))


# -- chat -------------------------------------------------------------------------------------------

@router.get("/o/{org_id}/chat")
async def chat_page(request: Request, access: Viewer):
    return render(request, "chat.html", **_nav(request, access), sees_costs=access.sees_costs)


# -- records ----------------------------------------------------------------------------------------

@router.get("/o/{org_id}/records")
async def records_page(
    request: Request, access: Viewer, pool: AppPool, settings: SettingsDep, query: Filters,
    sort: Annotated[str, Query(max_length=40)] = "id",
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    notice: Annotated[str | None, Query(max_length=40)] = None,
):
    page = await records_routes.list_records(access, pool, settings, query, sort, 50, cursor)
    ids = [item["id"] for item in page["items"]]
    async with pool.connection() as conn:
        rows = await (await conn.execute(_Q["working_drafts_of_records"], {
            "org": access.org_id, "user_id": access.user.id, "ids": ids})).fetchall()
    drafted = {record_id: {BY_KEY[k].column: base.get(k) for k in delta if k in BY_KEY}
               for record_id, delta, base in rows}
    params = {k: v for k, v in request.query_params.multi_items() if k not in ("cursor", "notice")}
    next_url = f"?{urlencode([*params.items(), ('cursor', page['next_cursor'])])}" if page["next_cursor"] else None
    multi = list(request.query_params.multi_items())
    return render(request, "records.html", **_nav(request, access), page=page,
                  columns=grid.grid_columns(access.sees_costs, multi, sort), pickers=grid.PICKERS,
                  export_url=grid.export_url(access.org_id, multi, sort), cell=grid.format_cell,
                  drafted=drafted, filters=request.query_params, sort=sort, next_url=next_url,
                  first_url=f"?{urlencode(list(params.items()))}", notice=NOTICES.get(notice or ""),
                  synced=_synced(page["meta"]))


NOTICES = {"sync_queued": "A sync of this organization was queued; refresh in a moment.",
           "saved": "Draft saved.", "discarded": "Draft discarded.", "nothing_to_commit": "You have no drafts to commit.",
           "accepted": "Accepted: the changes are now drafts of yours.", "rejected": "Rejected.",
           "resolved": "Conflict resolved."}


def _synced(meta: dict) -> dict:
    last = meta.get("last_synced_at")
    if not last:
        return {"text": "never synced", "stale": True}
    minutes = int((datetime.now(timezone.utc) - datetime.fromisoformat(last)).total_seconds() // 60)
    text = "just now" if minutes < 1 else f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    return {"text": f"last synced {text}", "stale": meta.get("stale", False), "at": last}


@router.post("/o/{org_id}/sync")
async def sync_now(request: Request, access: Admin, pool: AppPool):
    await sync_routes._queue(request, pool, [access.org_id], False)
    return _see_other(f"/o/{quote(access.org_id)}/records?notice=sync_queued")


# -- one record: view and edit ----------------------------------------------------------------------

@router.get("/o/{org_id}/records/{record_id}")
async def record_page(request: Request, record_id: str, access: Viewer, pool: AppPool,
                      notice: Annotated[str | None, Query(max_length=40)] = None,
                      from_commit: Annotated[int | None, Query(alias="from")] = None):
    record = await records_routes.get_record(record_id, access, pool)
    is_draft = bool(record.get("draft") and record["draft"].get("state") == "draft")
    kept = _kept_notice(notice, record_id, from_commit, None) if notice == "kept_draft" and is_draft else None
    return _record_view(request, access, record, errors={}, notice=None if kept else NOTICES.get(notice or ""), kept=kept)


def _record_view(request: Request, access, record: dict, errors: dict, notice=None, status: int = 200, form=None,
                 kept=None, general=()):
    data = record.get("data") or {}
    fields = [{"key": f.key, "column": f.column, "type": f.type.value, "allowed": f.allowed, "meaning": f.meaning,
               "value": (form or {}).get(f.key, data.get(f.key)),
               "pems": (record["draft"] or {}).get("base", {}).get(f.key, data.get(f.key)),
               "drafted": bool(record["draft"] and f.key in record["draft"]["delta"])} for f in _editable(access)]
    return render(request, "record.html", status, **_nav(request, access), record=record, fields=fields,
                  errors=errors, notice=notice, kept=kept, general=general)


@router.post("/o/{org_id}/records/{record_id}")
async def record_save(request: Request, record_id: str, access: Editor, pool: AppPool):
    form = await request.form()
    check_text(record_id, "record_id")
    record = await records_routes.get_record(record_id, access, pool)
    fields = _editable(access)
    submitted = {f.key: str(form.get(f.key, "")) for f in fields}  # too long is the rules' error, never cut
    changes, errors = _changes(submitted, record.get("data") or {}, fields)
    if not errors and not changes:
        return _see_other(f"/o/{quote(access.org_id)}/records/{quote(record_id)}")
    violations = []
    try:
        async with pool.connection() as conn, conn.transaction():
            if errors:  # some fields were refused already: the rules still judge the others
                violations = await find_violations(conn, access.org_id, access.user.id, DraftChange(record_id, changes))
            else:
                await save_drafts(conn, access.org_id, access.user.id, [DraftChange(record_id, changes)])
                return _see_other(f"/o/{quote(access.org_id)}/records/{quote(record_id)}?notice=saved")
    except DraftRejected as exc:
        violations = exc.violations
    for v in violations:
        errors.setdefault(v.field, []).append(v.message)
    shown = {f.key for f in fields}
    general = [m for key, messages in errors.items() if key not in shown for m in messages]
    return _record_view(request, access, record, errors, status=422, form=submitted, general=general)


def _changes(submitted: dict[str, str], current: dict, fields: list) -> tuple[dict, dict[str, list[str]]]:
    """Form text to typed draft changes: only the fields that differ from what the user sees now;
    the errors are a list of messages per field."""
    changes, errors = {}, {}
    for f in fields:
        text = submitted[f.key].strip()
        if text == "" and current.get(f.key) in (None, ""):
            continue  # left empty, and it was empty
        try:
            check_text(text, f.key)
        except NlqError as exc:
            errors[f.key] = [exc.message]
            continue
        if f.type is FieldType.NUMERIC:
            try:
                value = None if text == "" else float(text.replace(",", ""))
            except ValueError:
                errors[f.key] = [f"{f.key} must be a number"]
                continue
            if value is not None and value.is_integer():
                value = int(value)
        elif f.type is FieldType.BOOLEAN:
            if text not in ("true", "false"):
                errors[f.key] = [f"{f.key} must be yes or no"]
                continue
            value = text == "true"
        else:
            value = text
        old = current.get(f.key)
        if value != old and not (f.type is FieldType.NUMERIC and value is not None and old is not None
                                 and _number(old) == value):
            changes[f.key] = value
    return changes, errors


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@router.post("/o/{org_id}/records/{record_id}/discard")
async def record_discard(record_id: str, access: Editor, pool: AppPool):
    await drafts_routes.discard_drafts(_body(DiscardRequest, record_ids=[record_id]), access, pool)
    return _see_other(f"/o/{quote(access.org_id)}/records/{quote(record_id)}?notice=discarded")


# -- commits ----------------------------------------------------------------------------------------

@router.post("/o/{org_id}/commit")
async def commit_submit(request: Request, access: Editor, change_set_id: Annotated[int | None, Form()] = None,
                        record_id: Annotated[str | None, Form(max_length=100)] = None):
    scope = {"change_set_id": change_set_id, "record_ids": [record_id] if record_id else None}
    result = await drafts_routes.commit(_body(CommitRequest, **scope), access, request)
    if result["commit_id"] is None:
        return _see_other(f"/o/{quote(access.org_id)}/records?notice=nothing_to_commit")
    return _see_other(f"/o/{quote(access.org_id)}/commits/{result['commit_id']}")


@router.get("/o/{org_id}/commits")
async def commits_page(request: Request, access: Editor, pool: AppPool,
                       page: Annotated[str, Query(max_length=20)] = "1"):
    """The organization's commits, newest first, 50 a page; a page number that is not one says so."""
    number = _page_number(page)
    listing = await commit_list.commits(access, pool, page=number, per_page=50)
    return render(request, "commits.html", **_nav(request, access), listing=listing,
                  past_end=number > listing["pages"])


def _page_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise ValidationFailed("The page must be a whole number from 1.", field="page")
    return int(text)


@router.get("/o/{org_id}/commits/{commit_id}")
async def commit_page(request: Request, commit_id: int, access: Editor, pool: AppPool,
                      notice: Annotated[str | None, Query(max_length=40)] = None,
                      record: Annotated[str | None, Query(max_length=100)] = None,
                      from_commit: Annotated[int | None, Query(alias="from")] = None):
    status = await drafts_routes.commit_status(commit_id, access, pool)
    pending = status["counts"].get("committed", 0) > 0
    kept = _kept_notice(notice, record, from_commit, status)
    return render(request, "commit.html", **_nav(request, access), status=status, pending=pending,
                  notice=None if kept else NOTICES.get(notice or ""), kept=kept)


def _kept_notice(notice: str | None, record: str | None, from_commit: int | None, status: dict | None) -> dict | None:
    """What "Keep mine" did, said plainly: committed (with the new commit's state) or back to a draft.

    Only what the data bears out: a link naming a record this commit does not hold says nothing."""
    if notice not in ("kept_committed", "kept_draft") or not record:
        return None
    check_text(record, "record")
    state = next((i["state"] for i in (status or {}).get("items", []) if i["record_id"] == record), None)
    if notice == "kept_committed" and state is None:
        return None
    return {"kind": notice, "record": record, "from": from_commit, "state": state,
            "commit_id": (status or {}).get("commit_id")}


@router.post("/o/{org_id}/conflicts/{record_id}")
async def resolve_submit(request: Request, record_id: str, access: Editor, pool: AppPool,
                         strategy: Annotated[str, Form(max_length=20)], commit_id: Annotated[int, Form()]):
    """Keep mine (back to a draft, or committed at once through the normal commit) or take theirs."""
    if strategy not in ("keep_mine", "keep_mine_commit", "take_theirs"):
        raise ValidationFailed("Choose keep mine, keep mine and commit now, or take theirs.", field="strategy")
    check_text(record_id, "record_id")
    kept = strategy.startswith("keep_mine")
    await drafts_routes.resolve_conflict(record_id, _body(ResolveRequest, strategy="keep_mine" if kept else strategy),
                                         access, pool)
    org, about = quote(access.org_id), urlencode({"record": record_id, "from": commit_id})
    if strategy == "keep_mine_commit":
        result = await drafts_routes.commit(_body(CommitRequest, record_ids=[record_id]), access, request)
        if result["commit_id"] is not None:
            return _see_other(f"/o/{org}/commits/{result['commit_id']}?notice=kept_committed&{about}")
    if kept:  # the draft has left the old commit: go where it can still be seen
        try:
            still = bool(await drafts_routes.commit_status(commit_id, access, pool))
        except NotFound:
            still = False
        target = f"/o/{org}/commits/{commit_id}" if still else f"/o/{org}/records/{quote(record_id)}"
        return _see_other(f"{target}?notice=kept_draft&{about}")
    return _see_other(f"/o/{org}/commits/{commit_id}?notice=resolved")


# -- change-set review ------------------------------------------------------------------------------

@router.get("/o/{org_id}/review")
async def review_list(request: Request, access: Editor, pool: AppPool):
    sets = await bulk_routes.list_change_sets(access, pool)
    return render(request, "review_list.html", **_nav(request, access), sets=sets["items"])


REVIEW_PAGE = 500


@router.get("/o/{org_id}/review/{change_set_id}")
async def review_page(request: Request, change_set_id: int, access: Editor, pool: AppPool,
                      notice: Annotated[str | None, Query(max_length=40)] = None,
                      page: Annotated[str, Query(max_length=20)] = "1",
                      n: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
                      skipped: Annotated[int, Query(ge=0, le=1_000_000)] = 0):
    """One page of a change set (500 items by record id); the counts and "all" actions cover every page."""
    number = _page_number(page)
    change_set = await bulk_routes.get_change_set(change_set_id, access, pool, limit=REVIEW_PAGE,
                                                  offset=(number - 1) * REVIEW_PAGE)
    counts = change_set["counts"]
    pages = commit_list.page_count(change_set["total"], REVIEW_PAGE)
    shown = {"first": (number - 1) * REVIEW_PAGE + 1, "last": (number - 1) * REVIEW_PAGE + len(change_set["items"])}
    done = (REVIEW_NOTICES[notice].format(n=f"{n:,}", s="" if n == 1 else "s")
            if notice in REVIEW_NOTICES and n is not None else None)
    if done and skipped:  # accepted ones that now break a rule stay proposed
        done += f" {skipped:,} stay{'s' if skipped == 1 else ''} proposed: {'it breaks' if skipped == 1 else 'they break'} a rule now."
    return render(request, "review.html", **_nav(request, access), cs=change_set, proposed=counts.get("proposed", 0),
                  accepted=counts.get("draft", 0), notice=done or NOTICES.get(notice or ""), page=number,
                  pages=pages, shown=shown, past_end=number > pages)


REVIEW_NOTICES = {"accepted_all": "Accepted {n} change{s} on every page of this change set: now drafts of yours.",
                  "rejected_all": "Rejected {n} change{s} on every page of this change set.",
                  "accepted_some": "Accepted {n} selected change{s}: now drafts of yours.",
                  "rejected_some": "Rejected {n} selected change{s}."}


@router.post("/o/{org_id}/review/{change_set_id}")
async def review_submit(request: Request, change_set_id: int, access: Editor, pool: AppPool):
    form = await request.form()
    action = str(form.get("action") or "")
    selected = [str(v) for v in form.getlist("record_id")][:5000]
    for value in selected:
        check_text(value, "record_id")
    if action in ("accept_selected", "reject_selected") and not selected:
        raise ValidationFailed("Select at least one row first.")
    selection = _body(bulk_routes.Selection, record_ids=selected) if action.endswith("_selected") else None
    which, skipped = ("all" if selection is None else "some"), 0
    if action in ("accept_selected", "accept_all"):
        result = await bulk_routes.accept(change_set_id, access, pool, selection)
        notice, n, skipped = f"accepted_{which}", len(result["accepted"]) + len(result["merged"]), len(result["skipped"])
    elif action in ("reject_selected", "reject_all"):
        notice, n = f"rejected_{which}", len((await bulk_routes.reject(change_set_id, access, pool, selection))["rejected"])
    else:
        raise ValidationFailed("Unknown action.", field="action")
    page = request.query_params.get("page", "1")
    back = urlencode({"notice": notice, "n": n, **({"skipped": skipped} if skipped else {}),
                      **({"page": page} if page.isdigit() and page != "1" else {})})
    return _see_other(f"/o/{quote(access.org_id)}/review/{change_set_id}?{back}")


# -- admin: audit and sync --------------------------------------------------------------------------

@router.get("/o/{org_id}/admin/audit")
async def audit_page(
    request: Request, access: Admin, pool: AppPool,
    verdict: Annotated[str | None, Query(max_length=20)] = None,
    user: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    since: date | None = None, until: date | None = None,
    before_id: int | None = None, conversation: UUID | None = None,
):
    verdict = verdict if verdict in ("allowed", "rejected", "declined", "error") else None
    start = datetime.combine(since, time.min, timezone.utc) if since else None
    end = datetime.combine(until, time.max, timezone.utc) if until else None  # the whole last day
    page = await audit_routes.list_audit(access, pool, verdict=verdict, error_code=None, user=user or None,
                                         since=start, until=end, q=q or None, before_id=before_id, limit=50,
                                         conversation=conversation)
    chain = await audit_routes.verify(access, request)
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "before_id"]
    older = f"?{urlencode([*params, ('before_id', page['next_before_id'])])}" if page["next_before_id"] else None
    return render(request, "audit.html", **_nav(request, access), entries=page["items"], chain=chain,
                  filters={"verdict": verdict or "", "user": user or "", "q": q or "",
                           "since": since.isoformat() if since else "", "until": until.isoformat() if until else "",
                           "conversation": str(conversation) if conversation else ""},
                  older_url=older)


@router.get("/o/{org_id}/admin/audit/{audit_id}")
async def audit_entry_page(request: Request, audit_id: int, access: Admin, pool: AppPool):
    entry = await audit_routes.audit_entry(audit_id, access, pool)
    return render(request, "audit_entry.html", **_nav(request, access), entry=entry)


@router.get("/o/{org_id}/admin/sync")
async def sync_page(request: Request, access: Admin, pool: AppPool, settings: SettingsDep):
    """Every organization the caller administers, this one first."""
    orgs = [access.org_id] + sorted(o for o, r in access.user.memberships.items() if r == "admin" and o != access.org_id)
    statuses = [(org, await sync_routes.sync_status(OrgAccess(access.user, org, "admin"), pool, settings, request))
                for org in orgs]
    return render(request, "sync.html", **_nav(request, access), statuses=statuses)
