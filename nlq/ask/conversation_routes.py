"""/api/ai/conversations: the caller's own conversations in one organization, to list, reopen,
rename and delete. Anyone else's conversation is not found (404), whoever asks."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from nlq.ask.conversations import TITLE_CHARS, ConversationNotFound, replay_events
from nlq.auth.deps import ROLE_RANK, UserDep
from nlq.db import jsonable
from nlq.deps import AppPool
from nlq.errors import Forbidden, check_text
from nlq.openapi import errors
from store import conversations as store
from store.conversations import Owner

router = APIRouter(prefix="/api/ai/conversations", tags=["ask"])
OrgParam = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


def _owner(user, org_id: str) -> Owner:
    role = user.role_in(org_id)
    if role is None or ROLE_RANK[role] < ROLE_RANK["viewer"]:
        raise Forbidden(f"This needs the viewer role in organization {org_id}.")
    return Owner(org_id, user.id)


def _public(conversation: dict) -> dict:
    return {k: jsonable(v) for k, v in conversation.items()}


def _title(value: str) -> str:
    value = " ".join(check_text(value, "title").split())
    if not value:
        raise ValueError("must not be blank")
    return value


class ConversationRename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    title: Annotated[str, Field(min_length=1, max_length=TITLE_CHARS), AfterValidator(_title)]


@router.get("")
async def list_conversations(org_id: OrgParam, user: UserDep, pool: AppPool,
                             limit: Annotated[int, Query(ge=1, le=100)] = 50) -> dict:
    """The caller's conversations in the organization, most recently used first (at most `limit`)."""
    owner = _owner(user, org_id)
    async with pool.connection() as conn:
        items = await store.list_conversations(conn, owner, limit=limit)
    return {"items": [_public(c) for c in items]}


@router.get("/{conversation_id}", responses=errors(404))
async def get_conversation(conversation_id: UUID, org_id: OrgParam, user: UserDep, pool: AppPool) -> dict:
    """One conversation with every turn: question, SQL, explanation, summary, the kept rows
    (`rows_kept` of them; `rows_cut` when the answer had more), and `events` that redraw it."""
    owner = _owner(user, org_id)
    async with pool.connection() as conn:
        conversation = await store.get_conversation(conn, owner, str(conversation_id))
        if conversation is None:
            raise ConversationNotFound()
        turns = await store.conversation_turns(conn, str(conversation_id))
    return {**_public(conversation),
            "turns": [{**{k: jsonable(v) for k, v in t.items()}, "events": replay_events(t)} for t in turns]}


@router.patch("/{conversation_id}", responses=errors(404))
async def rename_conversation(conversation_id: UUID, body: ConversationRename, user: UserDep, pool: AppPool) -> dict:
    owner = _owner(user, body.org_id)
    async with pool.connection() as conn:
        conversation = await store.rename_conversation(conn, owner, str(conversation_id), body.title)
    if conversation is None:
        raise ConversationNotFound()
    return _public(conversation)


@router.delete("/{conversation_id}", responses=errors(404))
async def delete_conversation(conversation_id: UUID, org_id: OrgParam, user: UserDep, pool: AppPool) -> dict:
    """The conversation, its turns and their kept rows. The audit entries stay (the ledger is append-only)."""
    owner = _owner(user, org_id)
    async with pool.connection() as conn:
        if not await store.delete_conversation(conn, owner, str(conversation_id)):
            raise ConversationNotFound()
    return {"deleted": str(conversation_id)}
