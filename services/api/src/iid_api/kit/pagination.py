"""The one pagination helper: page/limit in, `{items, total, page, limit}` out; and for feeds
read in order (the change log), a cursor: `after` in, `{items, total, after, next_after,
limit}` out."""

from collections.abc import Sequence
from typing import Annotated, Any, Generic, Self, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

MAX_LIMIT = 200


class PageParams(BaseModel):
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def page_params(
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
