"""Verified examples (admins) under /api/pfa/{org_id}/examples, and answer ratings under
/api/pfa/{org_id}/answers: a user rates their own answers, admins review the down-rated ones."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from nlq.ask.examples import check_example_sql
from nlq.auth.deps import Admin, Viewer
from nlq.db import jsonable
from nlq.deps import AppPool
from nlq.errors import Conflict, NotFound, ValidationFailed, check_text
from nlq.openapi import errors
from nlq.strict import DIGITS, Id, QueryBool, QueryId
from store import examples as store

router = APIRouter(prefix="/api/pfa/{org_id}", tags=["examples"])
MAX_QUESTION = 2000
MAX_SQL = 8000


def _question(value: str) -> str:
    value = check_text(value, "question").strip()
    if not value:
        raise ValueError("must not be blank")
    return value


def _sql(value: str) -> str:
    value = _bare_sql(check_text(value, "sql"))
    if not value:
        raise ValueError("must not be blank")
    return value


def _bare_sql(value: str) -> str:
    """The statement without surrounding blanks and a trailing semicolon (as the model writes it)."""
    return value.strip().rstrip(";").strip()


Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION), AfterValidator(_question)]
Sql = Annotated[str, Field(min_length=1, max_length=MAX_SQL), AfterValidator(_sql)]


class ExampleCreate(BaseModel):
    """An audited answer becomes a verified example; without `question` or `sql`, the entry's own
    question and the statement the model wrote for it are taken."""

    model_config = ConfigDict(extra="forbid", strict=True)
    audit_id: Id
    question: Question | None = None
    sql: Sql | None = None


class ExampleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    question: Question | None = None
    sql: Sql | None = None

    @model_validator(mode="after")
    def _something(self):
        if self.question is None and self.sql is None:
            raise ValueError("send question, sql or both")
        return self


class RatingSet(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    rating: Literal["up", "down"]


def _public(row: dict) -> dict:
    item = {k: jsonable(v) for k, v in row.items()}
    item["active"] = row.get("retired_at") is None
    return item


def _nonempty(value: str | None, field: str) -> str:
    if not value:
        raise ValidationFailed(f"The example needs a {field}.", field=field)
    return value


# -- verified examples (admins) ---------------------------------------------------------------------

@router.get("/examples")
async def list_examples(access: Admin, pool: AppPool, include_retired: QueryBool = False,
                        before_id: QueryId | None = None,
                        limit: Annotated[int, Query(ge=1, le=500), DIGITS] = 100) -> dict:
    """The organization's verified examples, newest first (retired ones only when asked for)."""
    async with pool.connection() as conn:
        rows = await store.list_examples(conn, access.org_id, include_retired=include_retired,
                                         before_id=before_id, limit=limit)
    items = [_public(r) for r in rows]
    return {"items": items, "next_before_id": items[-1]["id"] if len(items) == limit else None}


@router.post("/examples", status_code=201, responses=errors(404, 422))
async def create_example(body: ExampleCreate, access: Admin, pool: AppPool) -> dict:
    """Mark an audited answer of this organization as a verified example. The SQL must pass the
    guardrails for this organization; it is kept as the model writes it (over `pfa_merged`,
    no organization filter)."""
    async with pool.connection() as conn:
        source = await store.audit_source(conn, access.org_id, body.audit_id)
        if source is None:
            raise NotFound(f"Audit entry {body.audit_id} is not in {access.org_id}.")
        if source["kind"] != "query":
            raise ValidationFailed("Only answers to questions can be verified examples, not bulk edits.",
                                   field="audit_id")
        question = body.question if body.question is not None else _nonempty(source["question"].strip(), "question")
        sql = body.sql if body.sql is not None else _nonempty(
            _bare_sql(store.model_statement(source["attempts"]) or ""), "sql")
        if len(sql) > MAX_SQL:
            raise ValidationFailed(f"The statement is longer than {MAX_SQL} characters.", field="sql")
        check_example_sql(sql, access.org_id)
        async with conn.transaction():
            example_id = await store.insert_example(conn, access.org_id, access.user.id, body.audit_id, question, sql)
        row = await store.get_example(conn, access.org_id, example_id)
    return _public(row)


@router.get("/examples/{example_id}", responses=errors(404))
async def get_example(example_id: QueryId, access: Admin, pool: AppPool) -> dict:
    async with pool.connection() as conn:
        row = await store.get_example(conn, access.org_id, example_id)
    if row is None:
        raise NotFound(f"Example {example_id} is not in {access.org_id}.")
    return _public(row)


@router.patch("/examples/{example_id}", responses=errors(404, 409, 422))
async def update_example(example_id: QueryId, body: ExampleUpdate, access: Admin, pool: AppPool) -> dict:
    """Edit the question, the SQL or both; the SQL must pass the guardrails again. Retired
    examples are not edited (409): mark the answer again instead."""
    async with pool.connection() as conn:
        async with conn.transaction():
            retired = await store.lock_example(conn, access.org_id, example_id)
            if retired is None:
                raise NotFound(f"Example {example_id} is not in {access.org_id}.")
            if retired:
                raise Conflict(f"Example {example_id} is retired.")
            current = await store.get_example(conn, access.org_id, example_id)
            question = current["question"] if body.question is None else body.question
            sql = current["sql"] if body.sql is None else body.sql
            check_example_sql(sql, access.org_id)
            await store.update_example(conn, access.org_id, access.user.id, example_id, question, sql)
        row = await store.get_example(conn, access.org_id, example_id)
    return _public(row)


@router.post("/examples/{example_id}/retire", responses=errors(404))
async def retire_example(example_id: QueryId, access: Admin, pool: AppPool) -> dict:
    """Retire the example: no prompt carries it from now on (it stays listed as retired)."""
    async with pool.connection() as conn:
        async with conn.transaction():
            if not await store.retire_example(conn, access.org_id, access.user.id, example_id):
                raise NotFound(f"Example {example_id} is not in {access.org_id}.")
        row = await store.get_example(conn, access.org_id, example_id)
    return _public(row)


# -- ratings ----------------------------------------------------------------------------------------

@router.get("/answers/down-rated")
async def down_rated(access: Admin, pool: AppPool,
                     limit: Annotated[int, Query(ge=1, le=500), DIGITS] = 200) -> dict:
    """Answers their askers rated down, newest rating first: the question, the statement the model
    wrote, who asked and when, and the examples already made from each."""
    async with pool.connection() as conn:
        rows = await store.list_down_rated(conn, access.org_id, limit)
    return {"items": [{k: jsonable(v) for k, v in r.items()} for r in rows]}


@router.put("/answers/{audit_id}/rating", responses=errors(404))
async def rate_answer(audit_id: QueryId, body: RatingSet, access: Viewer, pool: AppPool) -> dict:
    """Rate one of your own answers up or down (the `audit_id` of its `summary` event). One rating
    per user and answer: rating again replaces it. Anyone else's answer is not found."""
    async with pool.connection() as conn:
        async with conn.transaction():
            row = await store.rate_answer(conn, access.org_id, access.user.id, audit_id, body.rating)
    if row is None:
        raise NotFound(f"You asked no question {audit_id} in {access.org_id}.")
    return {"audit_id": audit_id, **{k: jsonable(v) for k, v in row.items()}}


@router.get("/answers/{audit_id}/rating", responses=errors(404))
async def get_rating(audit_id: QueryId, access: Viewer, pool: AppPool) -> dict:
    async with pool.connection() as conn:
        row = await store.get_rating(conn, access.org_id, access.user.id, audit_id)
    if row is None:
        raise NotFound(f"You have not rated answer {audit_id}.")
    return {"audit_id": audit_id, **{k: jsonable(v) for k, v in row.items()}}
