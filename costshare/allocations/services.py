"""Allocations: preview a split, keep one draft per offer and term year, finalize it for good.

- `preview` computes a split without writing anything.
- `save_draft` keeps the one draft of an offer's term year (created or recomputed).
- `recompute` brings a draft up to date when the offer's figures changed.
- `finalize` (coordinators) freezes a draft: its inputs (the exact scenario the
  engine was given), its result and its lines never change again — this module
  refuses any flush that would change a final allocation or its lines.

Engine errors reach callers as `Problem` (a ServiceError) carrying the
engine's field (`formula.cap`, `formula.components[1].attribute`, …).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from costshare.allocations.inputs import (
    FORMULA_TOP_KEYS,
    SETTING_KEYS,
    USAGE_KEY,
    ScenarioInput,
    billed_year,
    build_scenario,
    resolve_usage,
    result_for_year,
)
from costshare.allocations.models import Allocation, AllocationLine, Formula
from costshare.audit.services import record
from costshare.auth.models import User
from costshare.db import utcnow
from costshare.engine import AllocationError, allocate, currency_unit, to_jsonable
from costshare.errors import ConflictError, ServiceError, ensure_version
from costshare.formatting import money
from costshare.formulas.services import (
    engine_problem,
    get_formula,
    problems_with,
    usage_problem,
)
from costshare.members.models import Member
from costshare.offers.models import Offer, Participation, Resource
from costshare.urls import bounded_id


class FinalAllocationError(ConflictError):
    """Something tried to change a final allocation."""


class ForbiddenError(ServiceError):
    """The user's role does not allow this."""

    status = 403


FINAL_MESSAGE = "This allocation is final: its inputs, amounts and explanations never change."


@dataclass
class Split:
    """A computed split that is not stored: the scenario, where its facts came from, the result."""

    source: ScenarioInput
    definition: dict[str, Any]
    #: The term year's result (spec section 9), money as Decimal.
    result: dict[str, Any]

    @property
    def scenario(self) -> dict[str, Any]:
        return self.source.scenario

    @property
    def facts_year(self) -> dict[str, dict[str, int]]:
        return self.source.facts_year


def load_offer(session: Session, offer_id: int) -> Offer | None:
    """Return the offer with what a split reads (participants, current round) loaded at once."""
    if bounded_id(offer_id) is None:
        return None
    return session.get(
        Offer,
        offer_id,
        options=[
            selectinload(Offer.participations).selectinload(Participation.member),
            selectinload(Offer.current_round),
            selectinload(Offer.resource).selectinload(Resource.vendor),
        ],
    )


def definition_of(scenario: dict[str, Any]) -> dict[str, Any]:
    """Return the formula definition a scenario (or an allocation's inputs) was computed with.

    An allocation's inputs keep a formula's usage settings beside the engine's scenario
    (`ScenarioInput.stored_inputs`): they are part of the definition too.
    """
    definition = {"formula": scenario.get("formula", {})}
    for key in (*FORMULA_TOP_KEYS, USAGE_KEY):
        if key in scenario:
            definition[key] = scenario[key]
    return definition


def with_definition(
    session: Session, base: ScenarioInput, definition: dict[str, Any]
) -> ScenarioInput:
    """Return `base` with another formula definition (the members and prices stay).

    A definition with `usage` adds each member's uses to its attributes (`base` has none).
    """
    scenario = {k: v for k, v in base.scenario.items() if k not in FORMULA_TOP_KEYS}
    scenario["formula"] = copy.deepcopy(definition.get("formula", {}))
    for key in FORMULA_TOP_KEYS:
        if key in definition:
            scenario[key] = copy.deepcopy(definition[key])
    usage = resolve_usage(session, base.offer, base.members, definition, base.year)
    if usage is not None:
        uses = usage.values(base.members)
        ids = {m.code: m.id for m in base.members}
        members = []
        for member in scenario["members"]:
            attributes = {**member["attributes"], usage.attribute: uses[ids[member["code"]]]}
            members.append({**member, "attributes": attributes})
        scenario["members"] = members
    return ScenarioInput(
        scenario,
        base.offer,
        base.round,
        base.term_year,
        base.year,
        base.members,
        base.facts_year,
        usage,
    )


def base_input(
    session: Session, offer: Offer, term_year: int, members: list[Member] | None = None
) -> ScenarioInput:
    """Return the offer's members and prices for a term year, with no formula yet."""
    return build_scenario(session, offer, {"formula": {}}, term_year=term_year, members=members)


def compute(source: ScenarioInput, definition: dict[str, Any]) -> Split:
    """Run the engine on a scenario; its errors become a Problem naming the field."""
    problems = problems_with(source.scenario)
    if problems:
        raise engine_problem(*problems)
    try:
        result = allocate(source.scenario)
    except AllocationError as error:
        raise engine_problem(error) from None
    return Split(source, definition, result_for_year(result, source.term_year))


def preview(
    session: Session,
    offer: Offer,
    term_year: int,
    definition: dict[str, Any],
    members: list[Member] | None = None,
) -> Split:
    """Compute the split of `offer`'s term year under `definition`, writing nothing."""
    try:
        source = build_scenario(session, offer, definition, term_year=term_year, members=members)
    except ServiceError as error:
        raise usage_problem(error) from None
    return compute(source, definition)


def preview_many(
    session: Session, offer: Offer, term_year: int, definitions: list[dict[str, Any]]
) -> list[Split | ServiceError]:
    """Compute several formulas on the same inputs (read once); a failing one gives its error."""
    base = base_input(session, offer, term_year)
    splits: list[Split | ServiceError] = []
    for definition in definitions:
        try:
            source = with_definition(session, base, definition)
            splits.append(compute(source, definition))
        except ServiceError as error:
            # An engine problem, or usage a member lacks under "refuse".
            splits.append(usage_problem(error))
    return splits


def find(session: Session, offer_id: int, term_year: int, status: str) -> Allocation | None:
    return session.scalar(
        select(Allocation).where(
            Allocation.offer_id == offer_id,
            Allocation.term_year == term_year,
            Allocation.status == status,
        )
    )


def load_allocation(session: Session, allocation_id: int) -> Allocation | None:
    """Return an allocation with its lines, offer and finalizer loaded."""
    if bounded_id(allocation_id) is None:
        return None
    return session.get(
        Allocation,
        allocation_id,
        options=[
            selectinload(Allocation.lines),
            selectinload(Allocation.offer)
            .selectinload(Offer.resource)
            .selectinload(Resource.vendor),
            selectinload(Allocation.finalized_by),
        ],
    )


def _money(amount: Decimal, currency: str) -> str:
    """Write an amount for the audit log, in one locale whatever the app's."""
    return money(amount, currency, "en_GB")


def _store(allocation: Allocation, split: Split) -> None:
    """Write a split into an allocation: inputs, result, totals and one line per member."""
    result = split.result
    allocation.round_id = split.source.round.id
    allocation.year = split.source.year
    allocation.currency = result["currency"]
    allocation.inputs = to_jsonable(split.source.stored_inputs())
    allocation.result = to_jsonable(result)
    allocation.price = result["price"]
    allocation.surcharge_amount = result["surcharge_amount"]
    allocation.subsidy = result["subsidy"]
    allocation.total = result["total"]
    allocation.computed_at = utcnow()
    members = {m.code: m for m in split.source.members}
    attributes = {m["code"]: m["attributes"] for m in allocation.inputs["members"]}
    existing = {line.member_id: line for line in allocation.lines}
    lines = []
    for item in result["lines"]:
        member = members[item["code"]]
        line = existing.pop(member.id, None) or AllocationLine(member_id=member.id)
        line.code = item["code"]
        line.name = item["name"] or member.name
        line.amount = item["amount"]
        line.raw = item["raw"]
        line.surcharge = item["surcharge"]
        line.bound = item["bound"]
        line.solo_price = item["solo_price"]
        line.savings = item["savings"]
        line.savings_pct = item["savings_pct"]
        line.explanation = to_jsonable(item["explanation"])
        line.attributes = attributes[item["code"]]
        line.facts_year = split.facts_year.get(item["code"], {})
        lines.append(line)
    # Lines of members who left are removed (delete-orphan); the others are updated in place,
    # so the unique (allocation, member) constraint never sees two lines of one member.
    allocation.lines = lines


def save_draft(
    session: Session,
    offer: Offer,
    term_year: int,
    definition: dict[str, Any],
    *,
    name: str,
    formula: Formula | None = None,
    version: int | None = None,
    user_id: int | None = None,
) -> Allocation:
    """Compute and keep the one draft of `offer`'s term year (creating or replacing it)."""
    billed_year(offer, term_year)
    if find(session, offer.id, term_year, "final") is not None:
        raise FinalAllocationError(
            f"Year {term_year} of this offer already has a final allocation; it cannot change.",
        )
    split = preview(session, offer, term_year, definition)
    draft = find(session, offer.id, term_year, "draft")
    created = draft is None
    if draft is None:
        draft = Allocation(offer=offer, term_year=term_year, status="draft")
        session.add(draft)
    else:
        ensure_version(draft, version, "allocation")
    draft.formula_id = formula.id if formula is not None else None
    draft.formula_name = (name or "Custom formula").strip()[:255] or "Custom formula"
    _store(draft, split)
    session.flush()
    record(
        session,
        "allocation.draft" if created else "allocation.recompute",
        draft,
        f"Draft allocation of {offer.title}, {draft.year}, with '{draft.formula_name}': "
        f"total {_money(draft.total, draft.currency)}",
        after=_summary(draft),
        user_id=user_id,
    )
    return draft


def _summary(allocation: Allocation) -> dict[str, Any]:
    return {
        "status": allocation.status,
        "offer_id": allocation.offer_id,
        "term_year": allocation.term_year,
        "year": allocation.year,
        "formula": allocation.formula_name,
        "total": allocation.total,
        "lines": {line.code: line.amount for line in allocation.lines},
    }


def fresh_input(
    session: Session, allocation: Allocation, offer: Offer | None = None
) -> ScenarioInput:
    """Return the scenario the draft would get today from the offer's current figures.

    `offer`: the allocation's offer, when the caller has it loaded (as `load_offer` does).
    """
    if offer is None or offer.id != allocation.offer_id:
        offer = load_offer(session, allocation.offer_id)
    assert offer is not None  # an allocation's offer cannot be deleted (foreign key)
    return build_scenario(
        session, offer, definition_of(allocation.inputs), term_year=allocation.term_year
    )


def input_changes(
    session: Session, allocation: Allocation, offer: Offer | None = None
) -> list[str]:
    """Return what changed in the offer's figures since the draft was computed (empty: nothing)."""
    try:
        source = fresh_input(session, allocation, offer)
    except ServiceError as error:
        return [error.message]
    changes = describe_changes(allocation.inputs, to_jsonable(source.scenario))
    if source.round.id != allocation.round_id:
        changes.insert(0, f"The current quote round is now round {source.round.number}.")
    return changes


def describe_changes(old: dict[str, Any], new: dict[str, Any], limit: int = 12) -> list[str]:
    """Return sentences naming the differences between two scenarios."""
    changes = []
    formula_keys = {"members", "formula", *FORMULA_TOP_KEYS, *SETTING_KEYS}
    for key in sorted((old.keys() | new.keys()) - formula_keys):
        if old.get(key) != new.get(key):
            changes.append(f"The offer's {key} changed.")
    before = {m["code"]: m.get("attributes", {}) for m in old.get("members", [])}
    after = {m["code"]: m.get("attributes", {}) for m in new.get("members", [])}
    joined = sorted(after.keys() - before.keys())
    left = sorted(before.keys() - after.keys())
    if joined:
        changes.append("Joined since: " + ", ".join(joined) + ".")
    if left:
        changes.append("No longer taking part: " + ", ".join(left) + ".")
    for code in sorted(before.keys() & after.keys()):
        was, now = before[code], after[code]
        for name in sorted(was.keys() | now.keys()):
            if was.get(name) != now.get(name):
                changes.append(
                    f"{code}: {name.replace('_', ' ')} {was.get(name, '—')} → {now.get(name, '—')}."
                )
    if len(changes) > limit:
        changes = [*changes[:limit], f"… and {len(changes) - limit} more changes."]
    return changes


def recompute(
    session: Session, allocation: Allocation, version: int | None = None, user_id: int | None = None
) -> bool:
    """Recompute a draft from the offer's current figures; return False when nothing changed."""
    if allocation.is_final:
        raise FinalAllocationError(FINAL_MESSAGE)
    ensure_version(allocation, version, "allocation")
    if not input_changes(session, allocation):
        return False
    offer = load_offer(session, allocation.offer_id)
    formula = get_formula(session, allocation.formula_id)
    save_draft(
        session,
        offer,
        allocation.term_year,
        definition_of(allocation.inputs),
        name=allocation.formula_name,
        formula=formula,
        user_id=user_id,
    )
    return True


def finalize(session: Session, allocation: Allocation, user: User, version: int | None) -> None:
    """Make a draft final (coordinators): its inputs, result and lines are frozen from now on."""
    if not user.is_coordinator:
        raise ForbiddenError("Only a coordinator can finalize an allocation.")
    if allocation.is_final:
        raise FinalAllocationError(FINAL_MESSAGE)
    ensure_version(allocation, version, "allocation")
    if find(session, allocation.offer_id, allocation.term_year, "final") is not None:
        raise FinalAllocationError("This offer already has a final allocation for this year.")
    changes = input_changes(session, allocation)
    if changes:
        raise ConflictError(
            "The offer's figures changed since this draft was computed "
            f"({' '.join(changes[:3])}). Recompute the draft and check the split, then finalize.",
            details={"changes": changes},
        )
    allocation.status = "final"
    allocation.finalized_at = utcnow()
    allocation.finalized_by_id = user.id
    session.flush()
    record(
        session,
        "allocation.finalize",
        allocation,
        f"Allocation of {allocation.offer.title}, {allocation.year}, finalized: "
        f"total {_money(allocation.total, allocation.currency)}",
        before={"status": "draft"},
        after=_summary(allocation) | {"finalized_by": user.email},
        user_id=user.id,
    )


def quantum(allocation: Allocation) -> Decimal:
    """Return the step money of this allocation is shown to (its rounding unit's decimals)."""
    rounding = (allocation.inputs or {}).get("formula", {}).get("rounding") or {}
    try:
        unit = Decimal(str(rounding["unit"])) if "unit" in rounding else None
    except ArithmeticError:
        unit = None
    if unit is None or not unit.is_finite() or unit <= 0:
        unit = currency_unit(allocation.currency)
    places = max(0, -unit.normalize().as_tuple().exponent)
    return Decimal(1).scaleb(-places)


def member_lines(allocation: Allocation, member_id: int | None) -> list[AllocationLine]:
    """Return the lines a user may see: all of them for staff, its own for a member user."""
    if member_id is None:
        return list(allocation.lines)
    return [line for line in allocation.lines if line.member_id == member_id]


def visible_to_member(allocation: Allocation, member_id: int) -> bool:
    """A member user sees a final allocation in which it has a line, and nothing else."""
    return allocation.is_final and any(line.member_id == member_id for line in allocation.lines)


# ---------------------------------------------------------------------------------------------
# A final allocation never changes: refuse any flush that would update or delete one, or its lines.


def _final_ids(session: Session, allocation_ids: set[int]) -> set[int]:
    """Return which of these allocations are final in the database (what was committed)."""
    if not allocation_ids:
        return set()
    return set(
        session.scalars(
            select(Allocation.id).where(
                Allocation.id.in_(allocation_ids), Allocation.status == "final"
            )
        )
    )


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_final(session: Session, flush_context: Any, instances: Any) -> None:
    touched: set[int] = set()
    # `session.new` and friends build a fresh set on every access: read each once,
    # and look only at allocations and their lines (a big import flushes thousands of facts).
    added_or_deleted = [*session.new, *session.deleted]
    candidates = [
        (obj, True) for obj in added_or_deleted if isinstance(obj, Allocation | AllocationLine)
    ] + [(obj, False) for obj in session.dirty if isinstance(obj, Allocation | AllocationLine)]
    for obj, added in candidates:
        if not added and not session.is_modified(obj):
            continue
        if isinstance(obj, Allocation) and obj.id is not None:
            touched.add(obj.id)
        elif isinstance(obj, AllocationLine) and obj.allocation_id is not None:
            touched.add(obj.allocation_id)
    if not touched:
        return
    with session.no_autoflush:
        if _final_ids(session, touched):
            raise FinalAllocationError(FINAL_MESSAGE)
