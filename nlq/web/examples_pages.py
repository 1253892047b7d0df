"""Admin pages for verified examples and the down-rated answers, over the API's own route functions.

A form the API refuses (the guardrails refuse the SQL, a field is too long) is shown again with
the admin's text kept and the reasons beside it: nothing typed is lost.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError as PydanticValidationError

from nlq import examples_routes
from nlq.auth.deps import ROLE_RANK, Admin
from nlq.deps import AppPool
from nlq.errors import NotFound, ValidationFailed
from nlq.examples_routes import ExampleCreate, ExampleUpdate
from nlq.strict import QueryBool, QueryId
from nlq.web.session import render
from store import examples as store

router = APIRouter(include_in_schema=False)
# Longer than the API allows, so that too long text is the form's own error, shown with the text kept.
FormText = Annotated[str, Form(max_length=50_000)]
NOTICES = {"saved": "Verified example saved: similar questions now carry it in the prompt.",
           "retired": "Example retired: no prompt carries it any more."}


def _nav(request: Request, access) -> dict:
    return {"access": access, "user": access.user, "org": access.org_id, "role": access.role,
            "is_editor": ROLE_RANK[access.role] >= ROLE_RANK["editor"], "is_admin": access.role == "admin",
            "orgs": sorted(access.user.memberships.items()), "path": request.url.path}


def _problems(exc: Exception) -> list[str]:
    if isinstance(exc, PydanticValidationError):
        return [f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in exc.errors()]
    reasons = exc.details.get("reasons") or []
    return [exc.message] + [f"{r['code']}: {r['message']}" for r in reasons]


def _examples_url(access, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/o/{quote(access.org_id)}/admin/examples?notice={notice}", status_code=303)


@router.get("/o/{org_id}/admin/examples")
async def examples_page(request: Request, access: Admin, pool: AppPool,
                        retired: QueryBool = False,
                        notice: Annotated[str | None, Query(max_length=40)] = None):
    page = await examples_routes.list_examples(access, pool, include_retired=retired, before_id=None, limit=500)
    return render(request, "examples.html", **_nav(request, access), examples=page["items"], retired=retired,
                  notice=NOTICES.get(notice or ""))


@router.get("/o/{org_id}/admin/examples/new")
async def new_example_page(request: Request, access: Admin, pool: AppPool, audit_id: QueryId):
    async with pool.connection() as conn:
        source = await store.audit_source(conn, access.org_id, audit_id)
    if source is None:
        raise NotFound(f"Audit entry {audit_id} is not in {access.org_id}.")
    return render(request, "example_form.html", **_nav(request, access), example=None, audit_id=audit_id,
                  question=source["question"], sql=store.model_statement(source["attempts"]) or "", problems=[])


@router.post("/o/{org_id}/admin/examples")
async def create_example_submit(request: Request, access: Admin, pool: AppPool, audit_id: Annotated[int, Form()],
                                question: FormText = "", sql: FormText = ""):
    try:
        body = ExampleCreate(audit_id=audit_id, question=question, sql=sql)
        await examples_routes.create_example(body, access, pool)
    except (PydanticValidationError, ValidationFailed) as exc:
        return render(request, "example_form.html", 422, **_nav(request, access), example=None, audit_id=audit_id,
                      question=question, sql=sql, problems=_problems(exc))
    return _examples_url(access, "saved")


@router.get("/o/{org_id}/admin/examples/{example_id}")
async def edit_example_page(request: Request, example_id: QueryId, access: Admin, pool: AppPool):
    example = await examples_routes.get_example(example_id, access, pool)
    return render(request, "example_form.html", **_nav(request, access), example=example,
                  audit_id=example["source_audit_id"], question=example["question"], sql=example["sql"], problems=[])


@router.post("/o/{org_id}/admin/examples/{example_id}")
async def edit_example_submit(request: Request, example_id: QueryId, access: Admin, pool: AppPool,
                              question: FormText = "", sql: FormText = ""):
    example = await examples_routes.get_example(example_id, access, pool)
    try:
        body = ExampleUpdate(question=question, sql=sql)
        await examples_routes.update_example(example_id, body, access, pool)
    except (PydanticValidationError, ValidationFailed) as exc:
        return render(request, "example_form.html", 422, **_nav(request, access), example=example,
                      audit_id=example["source_audit_id"], question=question, sql=sql, problems=_problems(exc))
    return _examples_url(access, "saved")


@router.post("/o/{org_id}/admin/examples/{example_id}/retire")
async def retire_example_submit(example_id: QueryId, access: Admin, pool: AppPool):
    await examples_routes.retire_example(example_id, access, pool)
    return _examples_url(access, "retired")


@router.get("/o/{org_id}/admin/ratings")
async def down_rated_page(request: Request, access: Admin, pool: AppPool):
    page = await examples_routes.down_rated(access, pool, limit=200)
    return render(request, "down_rated.html", **_nav(request, access), items=page["items"])
