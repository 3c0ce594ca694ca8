"""The one pagination helper: page/limit in, `{items, total, page, limit}` out; for feeds
read in order (the change log), a cursor: `after` in, `{items, total, after, next_after,
limit}` out; for searches, keys: `cursor` in, `{items, total, limit, next_cursor}` out."""

import base64
from collections.abc import Sequence
from typing import Annotated, Any, Generic, Self, TypeVar

import orjson
from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.changes import Change

MAX_LIMIT = 200


class PageParams(BaseModel):
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


async def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = 50,
) -> PageParams:
    return PageParams(page=page, limit=limit)


PageDep = Annotated[PageParams, Depends(page_params)]


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    page: int
    limit: int

    @classmethod
    def build(cls, items: Sequence[Any], total: int, params: PageParams) -> Self:
        """Validate ORM rows (or dicts) into the page's item model."""
        page = {"items": items, "total": total, "page": params.page, "limit": params.limit}
        return cls.model_validate(page, from_attributes=True)


class CursorPage(BaseModel, Generic[ItemT]):
    """A page of a feed read in order: resume with `after=next_after` (gap-free: nothing is
    ever inserted before a position already read)."""

    items: list[ItemT]
    total: int = Field(description="items after `after` up to the feed's end when read")
    after: int
    next_after: int = Field(description="the cursor to send next (the feed's end when caught up)")
    limit: int
    has_more: bool

    @classmethod
    def build(
        cls,
        items: Sequence[ItemT],
        read: Sequence[Change],
        *,
        total: int,
        after: int,
        end: int,
        limit: int,
    ) -> Self:
        """The page of the changes `read` after `after` (up to `limit`), shown as `items`;
        `end`: the log's end when read, where a reader that caught up resumes."""
        has_more = len(read) == limit and total > limit
        return cls(
            items=list(items),
            total=total,
            after=after,
            next_after=read[-1].position if has_more else max(end, after),
            limit=limit,
            has_more=has_more,
        )


async def fetch_page(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    params: PageParams,
    *,
    scalars: bool = True,
) -> tuple[list[Any], int]:
    """Rows of one page of `statement` (which must carry a total ORDER BY) and the total count:
    the first column of each row, or (`scalars=False`) whole rows."""
    total = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = await session.execute(statement.limit(params.limit).offset(params.offset))
    return list(rows.scalars().all() if scalars else rows.all()), total or 0


class KeysetPage(BaseModel, Generic[ItemT]):
    """A page of a list read by keys (searches): resume with `cursor=next_cursor`. Rows added
    or removed meanwhile never repeat or skip one on the following pages."""

    items: list[ItemT]
    total: int = Field(description="items matching the query when this page was read")
    limit: int
    next_cursor: str | None = Field(description="send as `cursor` for the next page; null: last")


def encode_cursor(keys: Sequence[Any]) -> str:
    """An opaque cursor for the sort keys of a page's last row (JSON, base64url)."""
    return base64.urlsafe_b64encode(orjson.dumps(list(keys), default=str)).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The keys `encode_cursor` wrote; ValueError for anything else (the caller names the
    parameter in its 422)."""
    try:
        keys = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError) as error:
        raise ValueError("not a cursor this list gave") from error
    if not isinstance(keys, list) or len(keys) != arity:
        raise ValueError("not a cursor this list gave")
    return keys
