"""Pages of query results: one COUNT and one LIMIT/OFFSET query per page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_PER_PAGE = 200


@dataclass
class Page(Generic[T]):
    items: list[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def page_args(default_per_page: int = 50) -> tuple[int, int]:
    """Return (page, per_page) from the query string, clamped to sane values."""
    page = request.args.get("page", 1, type=int) or 1
    per_page = request.args.get("per_page", default_per_page, type=int) or default_per_page
    return max(1, min(page, 10**6)), max(1, min(per_page, MAX_PER_PAGE))


def paginate(session: Session, query: Select[Any], number: int, per_page: int) -> Page[Any]:
    """Run `query` for one page of ORM objects; `total` counts every row it matches."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.limit(per_page).offset((number - 1) * per_page)))
    return Page(items=items, number=number, per_page=per_page, total=total)
