"""URL converters shared by every blueprint."""

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
