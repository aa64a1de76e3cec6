"""Import members and their facts from CSV or XLSX, and export them in the same shape.

Two layouts are read (the header row tells them apart):

- **members** (what the export writes): one row per member, a `code` column,
  any of the member columns (`name`, `sector`, `billing_currency`, …), and one
  column per fact and year named `fact:year`, e.g. `fte:2026`;
- **facts**: one row per fact, columns `code`, `year`, `fact`, `value`, for
  members that exist already.

Every row is checked with the rules of the member form before anything is
written; a single bad cell refuses the whole file, and the refusal names every
bad row and column. A member is found by its code (ignoring case), so importing
a file again updates, never duplicates — and changes nothing when nothing
differs. An empty cell leaves the stored value as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from costshare.audit.services import snapshot
from costshare.members.fields import (
    MAX_AMOUNT,
    check_number,
    parse_number,
    plain_number,
    whole_number,
)
from costshare.members.forms import (
    BOOLEAN_FALSE,
    FACT_PLACES,
    MAX_YEAR,
    MEMBER_FIELDS,
    MIN_YEAR,
    MemberForm,
    fact_name_problem,
)
from costshare.members.models import Member, MemberFact
from costshare.members.services import FactCell, create_member, save_facts, update_member
from costshare.members.tabular import header_key

FACT_COLUMN = re.compile(r"^([^:\s]+):(\d{1,4})$")
LONG_COLUMNS = ("code", "year", "fact", "value")
BOOLEAN_TRUE = ("true", "1", "yes", "y", "on")
#: A refusal lists at most this many problems (and says how many more there are).
MAX_PROBLEMS = 1000


@dataclass(frozen=True)
class Problem:
    """One bad cell (or row, or the whole file when `row` is None)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return (", ".join(where).capitalize() + ": " if where else "") + self.message


class ImportRefused(ValueError):
    """The file was refused as a whole; `problems` lists every bad row and column."""

    def __init__(self, problems: list[Problem], more: int = 0) -> None:
        super().__init__("; ".join(str(p) for p in problems[:3]))
        self.problems = problems
        self.more = more

    @property
    def rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row is not None})


@dataclass
class MemberPlan:
    """What importing one member's row(s) would do."""

    row: int
    code: str
    member: Member | None
    values: dict[str, Any] = field(default_factory=dict)
    #: Member fields that change: name → (before, after).
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: Facts that are new or change: (name, year) → (before or None, after).
    facts: dict[tuple[str, int], tuple[Decimal | None, Decimal]] = field(default_factory=dict)

    @property
    def action(self) -> str:
        if self.member is None:
            return "create"
        return "update" if self.changes or self.facts else "unchanged"


@dataclass
class ImportPlan:
    layout: str
    rows: int
    members: list[MemberPlan]

    def count(self, action: str) -> int:
        return sum(1 for m in self.members if m.action == action)

    @property
    def fact_count(self) -> int:
        return sum(len(m.facts) for m in self.members)

    @property
    def changes_anything(self) -> bool:
        return any(m.action != "unchanged" for m in self.members)


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.more = 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(row, column, message))
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.items)

    def refuse(self) -> ImportRefused:
        return ImportRefused(self.items, self.more)


def _fact_value(text: str) -> tuple[Decimal | None, str | None]:
    try:
        value = parse_number(text)
    except ValueError as error:
        return None, str(error)
    problem = check_number(value, Decimal(0), MAX_AMOUNT - 1, FACT_PLACES)
    return (None, problem) if problem else (value, None)


def _read_header(rows: Iterator[tuple[int, list[str]]], problems: _Problems) -> list[str]:
    first = next(rows, None)
    if first is None or not any(first[1]):
        raise ImportRefused([Problem(1, None, "The first row must name the columns (code, …).")])
    header = [header_key(cell) for cell in first[1]]
    while header and not header[-1]:
        header.pop()
    seen: set[str] = set()
    for index, key in enumerate(header):
        if not key:
            problems.add(1, f"#{index + 1}", "This column has no name.")
        elif key in seen:
            problems.add(1, key, "This column appears twice.")
        seen.add(key)
    if "code" not in seen:
        problems.add(1, "code", "The file needs a code column to tell the members apart.")
    return header


def plan_import(
    session: Session, rows: Iterable[tuple[int, list[str]]], currency: str = "EUR"
) -> ImportPlan:
    """Check a whole file and return what importing it would do, or raise ImportRefused.

    `currency` bills new members that the file gives no billing currency.
    """
    problems = _Problems()
    iterator = iter(rows)
    header = _read_header(iterator, problems)
    long = set(LONG_COLUMNS[1:]) <= set(header)
    if long:
        for key in header:
            if key not in LONG_COLUMNS:
                problems.add(1, key, "A facts file has only the columns code, year, fact, value.")
    else:
        for key in header:
            if not key or key in MEMBER_FIELDS:
                continue
            match = FACT_COLUMN.match(key)
            if match is None:
                problems.add(
                    1,
                    key,
                    "Unknown column: use the member columns "
                    f"({', '.join(MEMBER_FIELDS)}) or facts as name:year, e.g. fte:2026.",
                )
                continue
            problem = fact_name_problem(match.group(1))
            year = int(match.group(2))
            if problem:
                problems.add(1, key, problem)
            elif not MIN_YEAR <= year <= MAX_YEAR:
                problems.add(1, key, f"The year must lie between {MIN_YEAR} and {MAX_YEAR}.")
    if problems:
        raise problems.refuse()

    records: list[tuple[int, dict[str, str]]] = []
    for number, cells in iterator:
        if not any(cells):
            continue
        beyond = next((i for i in range(len(header), len(cells)) if cells[i]), None)
        if beyond is not None:  # its column has no name: nothing says what it holds
            problems.add(
                number,
                f"#{beyond + 1}",
                "This cell lies right of the named columns: name its column in row 1, or clear it.",
            )
            continue
        padded = cells + [""] * (len(header) - len(cells))
        records.append((number, {key: padded[i] for i, key in enumerate(header) if key}))
    if not records:
        if problems:
            raise problems.refuse()
        raise ImportRefused([Problem(None, None, "The file has a header but no rows.")])

    by_code = {m.code.upper(): m for m in session.scalars(select(Member))}
    if long:
        plan = _plan_facts(session, records, by_code, problems)
    else:
        plan = _plan_members(session, records, by_code, problems, currency)
    if problems:
        raise problems.refuse()
    return plan


def _existing_facts(session: Session, member_ids: list[int]) -> dict[tuple[int, str, int], Decimal]:
    if not member_ids:
        return {}
    rows = session.execute(
        select(MemberFact.member_id, MemberFact.name, MemberFact.year, MemberFact.value).where(
            MemberFact.member_id.in_(member_ids)
        )
    )
    return {(m, n, y): v for m, n, y, v in rows}


def _form_data(member: Member | None, cells: dict[str, str], currency: str) -> MultiDict:
    data = MultiDict()
    current = snapshot(member, list(MEMBER_FIELDS)) if member is not None else {}
    for name in MEMBER_FIELDS:
        text = cells.get(name, "")
        if not text and member is not None:
            value = current[name]
            if value is None or value is False:
                continue
            text = "y" if value is True else str(value)
        if name == "active" and text:
            text = "y" if text.lower() in BOOLEAN_TRUE or text == "y" else ""
        if text:
            data[name] = text
    if member is not None:
        data["code"] = member.code
    else:
        if not cells.get("active"):
            data["active"] = "y"
        if not cells.get("billing_currency"):
            data["billing_currency"] = currency
    return data


def _plan_members(
    session: Session,
    records: list[tuple[int, dict[str, str]]],
    by_code: dict[str, Member],
    problems: _Problems,
    currency: str,
) -> ImportPlan:
    existing_ids = [m.id for m in by_code.values()]
    stored = _existing_facts(session, existing_ids)
    seen: dict[str, int] = {}
    plans: list[MemberPlan] = []
    for number, cells in records:
        code = cells.get("code", "")
        if not code:
            problems.add(number, "code", "Every row needs the member's code.")
            continue
        if code.upper() in seen:
            problems.add(number, "code", f"The code {code} is also on row {seen[code.upper()]}.")
            continue
        seen[code.upper()] = number
        active = cells.get("active", "").lower()
        if active and active not in BOOLEAN_TRUE and active not in BOOLEAN_FALSE:
            problems.add(number, "active", "Write yes or no.")
        member = by_code.get(code.upper())
        form = MemberForm(formdata=_form_data(member, cells, currency), meta={"csrf": False})
        valid = form.validate()
        for name, errors in form.errors.items():
            if name in MEMBER_FIELDS and errors:
                problems.add(number, name, str(errors[0]))
        plan = MemberPlan(number, member.code if member else form.code.data, member)
        for key, text in cells.items():
            match = FACT_COLUMN.match(key)
            if match is None or not text:
                continue
            value, problem = _fact_value(text)
            if problem:
                problems.add(number, key, problem)
                valid = False
                continue
            name, year = match.group(1), int(match.group(2))
            old = stored.get((member.id, name, year)) if member else None
            if old is None or old != value:
                plan.facts[(name, year)] = (old, value)
        if not valid:
            continue
        values = form.values()
        if member is None:
            plan.values = values
        else:
            # Compared as Python values: Decimal("0.060000") == Decimal("0.06").
            plan.values = {k: values[k] for k in MEMBER_FIELDS if getattr(member, k) != values[k]}
            plan.changes = {k: (getattr(member, k), values[k]) for k in plan.values}
        plans.append(plan)
    return ImportPlan("members", len(records), plans)


def _plan_facts(
    session: Session,
    records: list[tuple[int, dict[str, str]]],
    by_code: dict[str, Member],
    problems: _Problems,
) -> ImportPlan:
    stored = _existing_facts(session, [m.id for m in by_code.values()])
    plans: dict[int, MemberPlan] = {}
    seen: dict[tuple[int, str, int], int] = {}
    for number, cells in records:
        code = cells.get("code", "")
        member = by_code.get(code.upper()) if code else None
        if member is None:
            problems.add(
                number,
                "code",
                f"There is no member with the code {code}: add it first, or import a members file."
                if code
                else "Every row needs the member's code.",
            )
        name = cells.get("fact", "")
        name_problem = fact_name_problem(name) if name else "Name the fact, e.g. fte."
        if name_problem:
            problems.add(number, "fact", name_problem)
        year_text = cells.get("year", "")
        year = whole_number(year_text, 4)
        if year is None or not MIN_YEAR <= year <= MAX_YEAR:
            problems.add(number, "year", f"Give a year between {MIN_YEAR} and {MAX_YEAR}.")
            year = None
        value, value_problem = _fact_value(cells.get("value", "") or "")
        if not cells.get("value"):
            value_problem = "Give the value."
        if value_problem:
            problems.add(number, "value", value_problem)
        if member is None or name_problem or year is None or value is None:
            continue
        key = (member.id, name, year)
        if key in seen:
            problems.add(
                number, "fact", f"{name} {year} of {member.code} is also on row {seen[key]}."
            )
            continue
        seen[key] = number
        plan = plans.setdefault(member.id, MemberPlan(number, member.code, member))
        old = stored.get(key)
        if old is None or old != value:
            plan.facts[(name, year)] = (old, value)
    return ImportPlan("facts", len(records), list(plans.values()))


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    facts: int


def apply_import(session: Session, plan: ImportPlan) -> ImportResult:
    """Write what the plan says (the caller commits once, or nothing at all)."""
    result = ImportResult(
        created=plan.count("create"),
        updated=plan.count("update"),
        unchanged=plan.count("unchanged"),
        facts=plan.fact_count,
    )
    cells: list[FactCell] = []
    members: dict[int, Member] = {}
    for item in plan.members:
        action = item.action
        if action == "create":
            item.member = create_member(session, item.values)
        elif action == "update" and item.values:
            update_member(session, item.member, item.values)
        member = item.member
        assert member is not None
        members[member.id] = member
        cells.extend(
            FactCell(member.id, year, name, after)
            for (name, year), (_, after) in item.facts.items()
        )
    save_facts(session, cells, members)
    return result


def export_table(session: Session) -> tuple[list[str], list[list[Any]]]:
    """Return the members file: member columns, then one column per fact and year."""
    members = list(session.scalars(select(Member).order_by(Member.code)))
    values: dict[tuple[int, str, int], Decimal] = {}
    columns: set[tuple[str, int]] = set()
    for member_id, name, year, value in session.execute(
        select(MemberFact.member_id, MemberFact.name, MemberFact.year, MemberFact.value)
    ):
        values[(member_id, name, year)] = value
        columns.add((name, year))
    fact_columns = sorted(columns)
    headers = [*MEMBER_FIELDS, *(f"{name}:{year}" for name, year in fact_columns)]
    rows = []
    for member in members:
        row: list[Any] = []
        for name in MEMBER_FIELDS:
            value = getattr(member, name)
            row.append(plain_number(value) if isinstance(value, Decimal) else value)
        for name, year in fact_columns:
            fact = values.get((member.id, name, year))
            row.append(None if fact is None else Decimal(plain_number(fact)))
        rows.append(row)
    return headers, rows
