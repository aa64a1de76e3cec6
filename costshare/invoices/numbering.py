"""Gapless invoice numbers per year, safe when two coordinators issue at the same moment.

The counter is one row per year in `invoice_sequence`, bumped with
`UPDATE … SET last_number = last_number + 1 … RETURNING` inside the issuing
transaction: on PostgreSQL the row lock makes a second issuer wait until the
first commits (or rolls back, when its number is given back), so numbers are
unique and no number is skipped. SQLite serialises writers anyway.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from costshare.invoices.models import InvoiceSequence

SEQUENCE = InvoiceSequence.__table__
DIGITS = 4


def _ensure_sequence(session: Session, year: int) -> None:
    """Create `year`'s counter row at 0 unless it exists."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(SEQUENCE)
        .values(year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )


def lock_numbers(session: Session, year: int) -> None:
    """Lock `year`'s counter row until the transaction ends, taking no number.

    Whoever issues invoices numbered in `year` waits for this transaction: issuing
    takes it before checking what is already billed, so two runs billing the same
    shares cannot both pass the check.
    """
    _ensure_sequence(session, year)
    session.execute(select(SEQUENCE.c.id).where(SEQUENCE.c.year == year).with_for_update()).one()


def next_sequence(session: Session, year: int) -> int:
    """Take the next number of `year` (1, 2, …) in the session's transaction."""
    _ensure_sequence(session, year)
    return session.execute(
        update(SEQUENCE)
        .where(SEQUENCE.c.year == year)
        .values(last_number=SEQUENCE.c.last_number + 1)
        .returning(SEQUENCE.c.last_number)
    ).scalar_one()


def format_number(prefix: str, year: int, sequence: int) -> str:
    """Write a number: the prefix with its `{year}` filled in, then the zero-padded sequence.

    A prefix without `{year}` gets the year appended, so numbers stay unique across years.
    """
    text = prefix.replace("{year}", str(year)) if "{year}" in prefix else f"{prefix}{year}-"
    return f"{text}{sequence:0{DIGITS}d}"


def take_number(session: Session, prefix: str, year: int) -> str:
    """Take and format the next invoice number of `year`."""
    return format_number(prefix, year, next_sequence(session, year))
