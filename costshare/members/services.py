"""Member use cases: create and edit members, and set their yearly facts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from costshare.audit.services import changes, record, snapshot
from costshare.errors import ConflictError
from costshare.members.forms import MEMBER_FIELDS
from costshare.members.models import Member, MemberFact


def code_taken(session: Session, code: str, member_id: int | None = None) -> Member | None:
    """Return the other member whose code equals `code` ignoring case, if any."""
    query = select(Member).where(func.upper(Member.code) == code.upper())
    if member_id is not None:
        query = query.where(Member.id != member_id)
    return session.scalar(query.limit(1))


def _check_code(session: Session, code: str, member_id: int | None = None) -> None:
    # Mirrors uq_member_code, and also refuses codes that differ only in case.
    other = code_taken(session, code, member_id)
    if other is not None:
        raise ConflictError(f"Another member already has the code {other.code}.", field="code")


def create_member(session: Session, values: dict[str, Any]) -> Member:
    """Add a member from validated form values."""
    _check_code(session, values["code"])
    member = Member(**{k: v for k, v in values.items() if k in MEMBER_FIELDS})
    session.add(member)
    session.flush()
    record(session, "member.create", member, f"Added member {member.code}", after=snapshot(member))
    return member


def update_member(session: Session, member: Member, values: dict[str, Any]) -> bool:
    """Change a member's fields; return whether anything changed."""
    if "code" in values and values["code"] != member.code:
        _check_code(session, values["code"], member.id)
    return apply_changes(
        session, member, values, MEMBER_FIELDS, "member.update", f"Edited member {member.code}"
    )


def apply_changes(
    session: Session,
    obj: Any,
    values: dict[str, Any],
    fields: Iterable[str],
    action: str,
    summary: str,
) -> bool:
    """Set the given fields of `obj`; audit what changed; return whether anything did."""
    before = snapshot(obj)
    for key in fields:
        if key in values:
            setattr(obj, key, values[key])
    old, new = changes(before, snapshot(obj))
    if not new:
        return False
    session.flush()
    record(session, action, obj, summary, old, new)
    return True


@dataclass(frozen=True)
class FactCell:
    """One value to set: None removes the fact."""

    member_id: int
    year: int
    name: str
    value: Decimal | None


@dataclass
class FactsSaved:
    created: int = 0
    updated: int = 0
    removed: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.removed


def save_facts(
    session: Session, cells: Iterable[FactCell], members: dict[int, Member]
) -> FactsSaved:
    """Set, change or remove facts; one audit event per member whose facts changed.

    `members` maps the id of every member the cells name to the member (the
    caller has checked they exist). Values equal to the stored ones change nothing.
    """
    cells = list(cells)
    saved = FactsSaved()
    if not cells:
        return saved
    ids = sorted({c.member_id for c in cells})
    existing = {
        (f.member_id, f.year, f.name): f
        for f in session.scalars(select(MemberFact).where(MemberFact.member_id.in_(ids)))
    }
    before: dict[int, dict[str, Any]] = defaultdict(dict)
    after: dict[int, dict[str, Any]] = defaultdict(dict)
    for cell in cells:
        key = (cell.member_id, cell.year, cell.name)
        label = f"{cell.name} {cell.year}"
        fact = existing.get(key)
        if fact is None and cell.value is None:
            continue
        if fact is None:
            fact = MemberFact(
                member_id=cell.member_id, year=cell.year, name=cell.name, value=cell.value
            )
            session.add(fact)
            existing[key] = fact
            saved.created += 1
            before[cell.member_id][label] = None
        elif cell.value is None:
            before[cell.member_id][label] = fact.value
            session.delete(fact)
            del existing[key]
            saved.removed += 1
        elif fact.value != cell.value:
            before[cell.member_id][label] = fact.value
            fact.value = cell.value
            saved.updated += 1
        else:
            continue
        after[cell.member_id][label] = cell.value
    session.flush()
    for member_id in sorted(after):
        member = members[member_id]
        count = len(after[member_id])
        record(
            session,
            "member.facts",
            member,
            f"Changed {count} fact{'s' if count != 1 else ''} of {member.code}",
            before[member_id],
            after[member_id],
        )
    return saved


def fact_names(session: Session) -> list[str]:
    """Return every fact name in use, alphabetically."""
    return list(session.scalars(select(MemberFact.name).distinct().order_by(MemberFact.name)))


def fact_years(session: Session, name: str | None = None) -> list[int]:
    """Return the years that have facts (of `name`, when given), in order."""
    query = select(MemberFact.year).distinct().order_by(MemberFact.year)
    if name is not None:
        query = query.where(MemberFact.name == name)
    return list(session.scalars(query))
