"""POST /api/ai/query: a question in, Server-Sent Events out."""

from __future__ import annotations

import json
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse
from typing_extensions import Annotated

from nlq.ask.conversations import open_turn, stream_in_conversation
from nlq.ask.grounding import MAX_BINDINGS, Binding, check_bindings
from nlq.ask.service import AskDeps
from nlq.auth.deps import ROLE_RANK, UserDep
from nlq.db import jsonable
from nlq.errors import Forbidden, check_text
from nlq.openapi import errors
from store.conversations import Owner

router = APIRouter(prefix="/api/ai", tags=["ask"])


def _json_value(value):
    """Numbers as numbers and dates as ISO text; anything else the database returns, as text."""
    converted = jsonable(value)
    return converted if converted is not value else str(value)


def _text(value: str) -> str:
    return check_text(value, "question")


def _value(value: str) -> str:
    return check_text(value, "binding")


class BindingIn(BaseModel):
    """A clarification answered: the literal `from` compared with `column` means the stored value
    `to` (which must be one of the caller's organization's values of that column)."""

    model_config = ConfigDict(extra="forbid")
    column: str = Field(min_length=1, max_length=64)
    source: Annotated[str, Field(alias="from", min_length=1, max_length=200), AfterValidator(_value)]
    target: Annotated[str, Field(alias="to", min_length=1, max_length=200), AfterValidator(_value)]


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    question: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_text)]
    bindings: list[BindingIn] = Field(default_factory=list, max_length=MAX_BINDINGS)
    conversation_id: UUID | None = Field(default=None, description="continue this conversation; absent: start one")


@router.post("/query", responses=errors(404, 409))
async def ask(body: AskRequest, user: UserDep, request: Request) -> EventSourceResponse:
    """Stream the answer: `status`, `sql`, `grounding` (literals matched to stored values), `rows`
    (columns, then batches), `notice` (the primary answered for the replica), `explanation`
    (deltas, asked for once the statement ran), `summary` (row count, truncated, timings, audit id,
    answered_by), `done`; or `clarify` (choices for a literal, nothing ran) and `done`; or
    `declined` (the model says the records cannot answer; message, its reason, audit id) and
    `done`; or `error` with a code and reasons. `fallback` comes first when the offline parser
    answered for an unavailable model (VANGUARD_LLM_FALLBACK=offline). `bindings` re-run a
    question with the user's choices.

    Every question is a turn of a conversation: the one named by `conversation_id` (the caller's
    own in this organization, else 404) or a new one. The first event carries `conversation`
    (`id`, `title`, `new`, `turn_id`, `position`); earlier questions of the conversation and their
    SQL (never their rows) go with the prompt, so a follow-up can refine them."""
    role = user.role_in(body.org_id)
    if role is None or ROLE_RANK[role] < ROLE_RANK["viewer"]:
        raise Forbidden(f"This needs the viewer role in organization {body.org_id}.")
    deps: AskDeps = request.app.state.ask
    bindings = [Binding(b.column, b.source, b.target) for b in body.bindings]
    if bindings:  # refused before the stream starts: a 422, never a half-answered question
        check_bindings(bindings, await deps.vocabulary.for_user(body.org_id, user.id))
    owner, question = Owner(body.org_id, user.id), body.question.strip()
    conversation_id = str(body.conversation_id) if body.conversation_id else None
    turn, conversation = await open_turn(deps.app_pool, owner, question, conversation_id)

    async def events():
        async for item in stream_in_conversation(deps, owner, question, turn, conversation, bindings=bindings,
                                                 sees_costs=user.sees_costs(body.org_id)):
            yield {"event": item["event"], "data": json.dumps(item["data"], default=_json_value)}

    return EventSourceResponse(events(), ping=15)
