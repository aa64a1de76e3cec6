"""Column helpers shared by the models of every feature."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from costshare.db import utcnow


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def non_negative(column: str) -> CheckConstraint:
    """Return the named check constraint `<column>_non_negative`."""
    return CheckConstraint(f"{column} >= 0", f"{column}_non_negative")


def currency_code(column: str) -> CheckConstraint:
    """Return a check that `column` holds a three-letter upper-case ISO 4217 code."""
    return CheckConstraint(
        f"length({column}) = 3 AND upper({column}) = {column}", f"{column}_iso_code"
    )


def one_of(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    """Return a check that `column` holds one of `values` (an enumeration kept as text)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name or f"{column}_known")
