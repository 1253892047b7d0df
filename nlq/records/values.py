"""GET /api/pfa/{org_id}/values/{field}: an organization's distinct values of a name column, and
the case-insensitive matching of the records' text filters against those same values.

Both read the vocabulary the questions are grounded with (`nlq.ask.vocabulary`): the
organization's stored values plus the caller's own drafts, cached per organization. Matching in
the service rather than with `lower(column)` in SQL keeps the filters on the mirror's indexes:
"cranes" becomes `category = ANY('{cranes,Cranes}')`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from nlq import masking
from nlq.ask.vocabulary import FIXED_COLUMNS, STORED_COLUMNS, VocabularyCache
from nlq.auth.deps import Viewer
from nlq.errors import NotFound, check_text
from nlq.openapi import errors
from nlq.records.query import ListQuery
from store.fields import BY_COLUMN, COST_MASKED_COLUMNS

router = APIRouter(prefix="/api/pfa/{org_id}", tags=["records"])
# Names a person picks from a list; never money, never ids (one value per record is no list).
VALUE_FIELDS = STORED_COLUMNS + FIXED_COLUMNS


def _vocabulary(request: Request) -> VocabularyCache:
    return request.app.state.ask.vocabulary


VocabularyDep = Annotated[VocabularyCache, Depends(_vocabulary)]


async def match_any_case(query: ListQuery, vocabulary: VocabularyCache, org_id: str, user_id: int | None) -> None:
    """Widen each text filter to every spelling of its values that differs only in case.

    The values as given stay in the list, so an exact match never depends on the cache being
    fresh; source and dor are matched against their fixed values without a look-up. With no
    `user_id` only the organization's stored values count: the list's draft half compares in any
    case itself (`query.fold_drafts`), which spares each page a look at the caller's drafts.
    """
    stored = [column for column in query.text if column in STORED_COLUMNS]
    if not stored:
        columns = {}
    elif user_id is None:
        columns = await vocabulary.stored(org_id)
    else:
        columns = (await vocabulary.for_user(org_id, user_id)).columns
    for column, values in query.text.items():
        known = columns.get(column, ()) if column in STORED_COLUMNS else (BY_COLUMN[column].allowed or ())
        wanted = {value.casefold() for value in values}
        query.text[column] = list(dict.fromkeys([*values, *(k for k in known if k.casefold() in wanted)]))


@router.get("/values/{field}", responses=errors(404))
async def list_values(
    field: str, access: Viewer, vocabulary: VocabularyDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 2000,
) -> dict:
    """The distinct values of one name column that the caller can see (with their drafts), sorted
    without regard to case; `q` keeps those containing it, in any case. For the grid's pickers."""
    check_text(field, "field")
    if field in COST_MASKED_COLUMNS and not access.sees_costs:
        raise masking.CostsHidden(f"Cost fields are hidden for your membership in {access.org_id}.", field=field)
    if field not in VALUE_FIELDS:
        raise NotFound(f"There is no list of values for {field[:40]!r}.", field="field", allowed=list(VALUE_FIELDS))
    if q:
        check_text(q, "q")
    known = (await vocabulary.for_user(access.org_id, access.user.id)).columns.get(field, ())
    values = sorted(set(known), key=lambda v: (v.casefold(), v))
    if q:
        values = [v for v in values if q.casefold() in v.casefold()]
    return {"field": field, "label": BY_COLUMN[field].label, "values": values[:limit],
            "truncated": len(values) > limit}
