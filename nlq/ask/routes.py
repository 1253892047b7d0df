"""POST /api/ai/query: a question in, Server-Sent Events out."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse
from typing_extensions import Annotated

from nlq.ask.service import AskDeps, stream_answer
from nlq.auth.deps import ROLE_RANK, UserDep
from nlq.db import jsonable
from nlq.errors import Forbidden, check_text

router = APIRouter(prefix="/api/ai", tags=["ask"])


def _json_value(value):
    """Numbers as numbers and dates as ISO text; anything else the database returns, as text."""
    converted = jsonable(value)
    return converted if converted is not value else str(value)


def _text(value: str) -> str:
    return check_text(value, "question")


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    question: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_text)]


@router.post("/query")
async def ask(body: AskRequest, user: UserDep, request: Request) -> EventSourceResponse:
    """Stream the answer: `status`, `sql`, `rows` (columns, then batches), `explanation` (deltas, asked
    for once the statement ran), `summary` (row count, truncated, timings, audit id), `done`; or
    `declined` (the model says the records cannot answer; message, its reason, audit id) and `done`;
    or `error` with a code and reasons. `fallback` comes first when the offline parser answered
    for an unavailable model (VANGUARD_LLM_FALLBACK=offline)."""
    role = user.role_in(body.org_id)
    if role is None or ROLE_RANK[role] < ROLE_RANK["viewer"]:
        raise Forbidden(f"This needs the viewer role in organization {body.org_id}.")
    deps: AskDeps = request.app.state.ask

    async def events():
        async for item in stream_answer(deps, body.org_id, user.id, body.question.strip()):
            yield {"event": item["event"], "data": json.dumps(item["data"], default=_json_value)}

    return EventSourceResponse(events(), ping=15)
