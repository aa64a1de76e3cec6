"""Ids in requests: the URL converter every blueprint shares, and the bound for other ids.

An id in a URL (`<int:offer_id>`) is bounded by `IdConverter` before any view runs;
an id that arrives in a query string or a JSON body goes through `bounded_id`.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

#: The largest id a database row can have (a 32-bit INTEGER primary key).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:…>` that matches only ids a row can have, so a huge id is a plain 404.

    Without the bound, `/offers/99999999999` reaches PostgreSQL and fails there
    ("integer out of range") instead of being "not found".
    """

    def __init__(
        self,
        url_map: Any,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits, min, MAX_ID if max is None else max, signed)


def bounded_id(value: Any, high: int = MAX_ID) -> int | None:
    """Return `value` when a row's id (or, with `high`, a year) can be it, else None.

    For ids in query strings (`request.args.get("member", type=int)`) and JSON bodies:
    beyond what the database holds, an id is "none", not a database error.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value <= high else None
