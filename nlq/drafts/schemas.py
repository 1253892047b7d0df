"""Request bodies of the drafts API (unknown keys refused; sizes bounded)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from nlq.strict import Flag, Id
from store.drafts import MAX_BATCH


def _plain_text(value: str) -> str:
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("contains characters that are not allowed")
    return value


RecordId = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_plain_text)]


class DraftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record_id: RecordId
    changes: dict[str, object] = Field(min_length=1, max_length=20)
    change_set_id: Id | None = None


class DraftItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record_id: RecordId
    changes: dict[str, object] = Field(min_length=1, max_length=20)


class DraftBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[DraftItem] = Field(min_length=1, max_length=MAX_BATCH)
    change_set_id: Id | None = None


class DiscardRequest(BaseModel):
    """Exactly one of: all working drafts, one change set, or the given records."""

    model_config = ConfigDict(extra="forbid")
    all: Flag = False
    change_set_id: Id | None = None
    record_ids: list[RecordId] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)

    @model_validator(mode="after")
    def one_scope(self) -> DiscardRequest:
        chosen = [self.all, self.change_set_id is not None, self.record_ids is not None]
        if sum(chosen) != 1:
            raise ValueError("give exactly one of all=true, change_set_id or record_ids")
        return self


class CommitRequest(BaseModel):
    """All working drafts, one change set's, or the given records' (both narrow: only those in it)."""

    model_config = ConfigDict(extra="forbid")
    change_set_id: Id | None = None
    record_ids: list[RecordId] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strategy: Literal["keep_mine", "take_theirs"]
