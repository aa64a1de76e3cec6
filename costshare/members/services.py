"""Member use cases: create and edit members, and set their yearly facts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, inspect, select, update
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
    The rows are written with bulk statements (an import sets tens of thousands
    of facts), and the facts the session holds are expired afterwards.
    """
    cells = list(cells)
    saved = FactsSaved()
    if not cells:
        return saved
    ids = sorted({c.member_id for c in cells})
    existing: dict[tuple[int, int, str], tuple[int, Decimal]] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(
                MemberFact.id,
                MemberFact.member_id,
                MemberFact.year,
                MemberFact.name,
                MemberFact.value,
            ).where(MemberFact.member_id.in_(chunk))
        )
        existing.update({(m, y, n): (fact_id, v) for fact_id, m, y, n, v in rows})
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    deletes: list[int] = []
    before: dict[int, dict[str, Any]] = defaultdict(dict)
    after: dict[int, dict[str, Any]] = defaultdict(dict)
    for cell in cells:
        key = (cell.member_id, cell.year, cell.name)
        label = f"{cell.name} {cell.year}"
        stored = existing.get(key)
        if stored is None and cell.value is None:
            continue
        if stored is None:
            inserts.append(
                {
                    "member_id": cell.member_id,
                    "year": cell.year,
                    "name": cell.name,
                    "value": cell.value,
                }
            )
            existing[key] = (0, cell.value)
            before[cell.member_id][label] = None
        elif cell.value is None:
            deletes.append(stored[0])
            del existing[key]
            before[cell.member_id][label] = stored[1]
        elif stored[1] != cell.value:
            updates.append({"id": stored[0], "value": cell.value})
            before[cell.member_id][label] = stored[1]
        else:
            continue
        after[cell.member_id][label] = cell.value
    session.flush()
    if inserts:
        session.execute(insert(MemberFact), inserts)
    if updates:
        session.execute(update(MemberFact), updates)
    for chunk in _chunks(deletes):
        session.execute(
            delete(MemberFact).where(MemberFact.id.in_(chunk)),
            execution_options={"synchronize_session": False},
        )
    saved.created, saved.updated, saved.removed = len(inserts), len(updates), len(deletes)
    _forget_facts(session, set(ids), members)
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


def _chunks(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _forget_facts(session: Session, member_ids: set[int], members: dict[int, Member]) -> None:
    """Expire the facts the session holds for these members: the rows changed under them."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, MemberFact) and obj.member_id in member_ids:
            session.expire(obj)
    for member in members.values():
        if "facts" not in inspect(member).unloaded:
            session.expire(member, ["facts"])


def fact_names(session: Session) -> list[str]:
    """Return every fact name in use, alphabetically.

    The names are walked along the (name, year) index, one step per name (a recursive
    query): a DISTINCT read every fact, 5 ms for 500 members on PostgreSQL, which
    cannot skip through an index.
    """
    names = select(func.min(MemberFact.name).label("name")).cte("names", recursive=True)
    following = select(
        select(func.min(MemberFact.name)).where(MemberFact.name > names.c.name).scalar_subquery()
    ).where(names.c.name.is_not(None))
    names = names.union_all(following)
    return list(
        session.scalars(
            select(names.c.name).where(names.c.name.is_not(None)).order_by(names.c.name)
        )
    )


def fact_years(session: Session, name: str | None = None) -> list[int]:
    """Return the years that have facts (of `name`, when given), in order."""
    query = select(MemberFact.year).distinct().order_by(MemberFact.year)
    if name is not None:
        query = query.where(MemberFact.name == name)
    return list(session.scalars(query))
