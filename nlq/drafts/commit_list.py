"""GET /api/pfa/{org_id}/commits: the organization's commits, newest first, paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from nlq.auth.deps import Editor
from nlq.db import jsonable
from nlq.deps import AppPool
from nlq.strict import DIGITS
from store.commits import list_commits

router = APIRouter(prefix="/api/pfa/{org_id}", tags=["drafts"])
MAX_PER_PAGE = 200


def page_count(total: int, per_page: int) -> int:
    """Pages needed for `total` items (at least one, so an empty list still has a first page).

    >>> page_count(1389, 500), page_count(0, 50), page_count(50, 50)
    (3, 1, 1)
    """
    return max(1, -(-total // per_page))


@router.get("/commits")
async def commits(access: Editor, pool: AppPool,
                  page: Annotated[int, Query(ge=1, le=1_000_000), DIGITS] = 1,
                  per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE), DIGITS] = 50) -> dict:
    """Every commit of this organization (anyone's), newest first: who, when, how many drafts, and
    how many of them are pending (on their way to PEMS), delivered, in conflict, failed or discarded
    (taken theirs). A page past the last one is empty, with `total` and `pages` saying where the end is."""
    async with pool.connection() as conn:
        total, rows = await list_commits(conn, access.org_id, per_page, (page - 1) * per_page)
    items = [{"commit_id": r["id"], "user": {"username": r["username"], "display_name": r["display_name"]},
              "mine": r["user_id"] == access.user.id, "change_set_id": r["change_set_id"],
              "created_at": jsonable(r["created_at"]), "updated_at": jsonable(r["updated_at"]), "drafts": r["drafts"],
              "counts": {k: r[k] for k in ("pending", "delivered", "conflict", "failed", "discarded")}}
             for r in rows]
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "pages": page_count(total, per_page)}
