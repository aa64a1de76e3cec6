"""Allocation services: preview, one draft per offer and year, finalize freezes everything.

The small consortium (tests/allocations/helpers.py): A, B, C with FTE 6000,
3000, 1000 (2026 facts; the offer bills 2027); total 10,000.00 plus a 5 %
surcharge, so the members owe 10,500.00 and the surcharge is 500.00.

Half equal, half FTE (worked by hand):
    equal part 10,500 × ½ ÷ 3 = 1,750.00 each
    FTE part   10,500 × ½ × (6000, 3000, 1000) ÷ 10,000 = 3,150.00, 1,575.00, 525.00
    amounts    A 4,900.00   B 3,325.00   C 2,275.00   (Σ 10,500.00, no bound, no rounding)
    surcharge  500 × amount ÷ 10,500 = 233.33…, 158.33…, 108.33… → one cent left over,
               remainders tie, so it goes to the first code: A 233.34, B 158.33, C 108.33
    savings    solo 6,000 / 4,000 / 2,500 → 1,100.00 (0.1833), 675.00 (0.16875 → 0.1688
               half-even), 225.00 (0.0900)
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from costshare.allocations import services
from costshare.allocations.inputs import result_for_year
from costshare.allocations.models import Allocation, AllocationLine
from costshare.audit.models import AuditEvent
from costshare.engine import allocate, to_jsonable
from costshare.errors import ConflictError, ServiceError
from costshare.formulas.services import Problem
from costshare.members.models import MemberFact
from costshare.offers.models import SoloPrice
from tests.allocations.helpers import CAPPED, HALF_FTE_HALF_EQUAL, small_consortium
from tests.factories import create_member, create_offer


def _lines(allocation: Allocation) -> dict[str, AllocationLine]:
    return {line.code: line for line in allocation.lines}


def test_preview_splits_by_hand_and_writes_nothing(session, world) -> None:
    small = small_consortium(session)
    before = session.scalar(select(Allocation.id).limit(1))
    split = services.preview(session, small.offer, 1, HALF_FTE_HALF_EQUAL)
    amounts = {line["code"]: line["amount"] for line in split.result["lines"]}
    assert amounts == {"A": Decimal("4900.00"), "B": Decimal("3325.00"), "C": Decimal("2275.00")}
    assert split.result["total"] == Decimal("10500.00")
    assert split.result["surcharge_amount"] == Decimal("500.00")
    surcharge = {line["code"]: line["surcharge"] for line in split.result["lines"]}
    assert surcharge == {"A": Decimal("233.34"), "B": Decimal("158.33"), "C": Decimal("108.33")}
    pct = {line["code"]: line["savings_pct"] for line in split.result["lines"]}
    assert pct == {"A": Decimal("0.1833"), "B": Decimal("0.1688"), "C": Decimal("0.0900")}
    # The billed year is 2027; A's FTE comes from 2026 (not 2025), the latest year up to 2027.
    assert split.facts_year["A"]["fte"] == 2026
    assert split.scenario["members"][0]["attributes"]["fte"] == Decimal(6000)
    assert session.scalar(select(Allocation.id).limit(1)) == before


def test_a_cap_at_the_solo_price_moves_the_excess_to_the_others(session, world) -> None:
    # C's solo price 2,000 is below its 2,275: capped. λ·(4,900 + 3,325) + 2,000 = 10,500
    # → λ = 8,500 / 8,225 = 1.0334346…; A = 4,900 λ = 5,063.8297… B = 3,325 λ = 3,436.1702…
    # Floors 5,063.82 + 3,436.17 + 2,000.00 = 10,499.99: the cent goes to A (remainder .98).
    small = small_consortium(session, solo_c="2000.00")
    result = services.preview(session, small.offer, 1, CAPPED).result
    lines = {line["code"]: line for line in result["lines"]}
    assert lines["A"]["amount"] == Decimal("5063.83")
    assert lines["B"]["amount"] == Decimal("3436.17")
    assert lines["C"]["amount"] == Decimal("2000.00")
    assert lines["C"]["bound"] == "cap"
    assert result["lambda"] == Decimal("1.033435")
    assert lines["A"]["explanation"]["bound_adjustment"] == Decimal("163.83")
    assert lines["C"]["explanation"]["bound_adjustment"] == Decimal("-275.00")


def test_a_missing_fact_names_the_members_and_the_field(session, world) -> None:
    small = small_consortium(session)
    definition = {
        "formula": {"components": [{"kind": "attribute", "attribute": "budget", "weight": 1}]}
    }
    with pytest.raises(Problem) as caught:
        services.preview(session, small.offer, 1, definition)
    assert caught.value.field == "formula.components[0].attribute"
    assert caught.value.details["members"] == ["A", "B", "C"]
    assert "budget" in caught.value.message


def test_save_draft_keeps_one_draft_and_recomputes_it(session, world) -> None:
    small = small_consortium(session)
    draft = services.save_draft(session, small.offer, 1, HALF_FTE_HALF_EQUAL, name="Half")
    assert draft.status == "draft" and draft.year == 2027
    assert draft.total == Decimal("10500.00") and draft.price == Decimal("10000.00")
    assert _lines(draft)["A"].facts_year == {"fte": 2026}
    # The same offer and year again replaces the draft instead of adding one.
    equal = {"formula": {"components": [{"kind": "equal", "weight": 1}]}}
    again = services.save_draft(session, small.offer, 1, equal, name="Equal")
    assert again.id == draft.id
    # 10,500 ÷ 3 = 3,500.00 each.
    assert {c: line.amount for c, line in _lines(again).items()} == dict.fromkeys(
        "ABC", Decimal("3500.00")
    )
    count = session.scalar(
        select(AllocationLine.id).where(AllocationLine.allocation_id == draft.id).limit(5)
    )
    assert count is not None
    assert (
        len(session.scalars(select(Allocation).where(Allocation.offer_id == small.offer.id)).all())
        == 1
    )
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "Allocation")
    ).all()
    assert actions == ["allocation.draft", "allocation.recompute"]


def test_a_draft_notices_changed_facts_and_recomputes(session, world) -> None:
    small = small_consortium(session)
    draft = services.save_draft(session, small.offer, 1, HALF_FTE_HALF_EQUAL, name="Half")
    assert services.input_changes(session, draft) == []
    assert services.recompute(session, draft) is False
    fact = session.scalar(
        select(MemberFact).where(
            MemberFact.member_id == small.members["B"].id, MemberFact.name == "fte"
        )
    )
    fact.value = Decimal(4000)
    session.flush()
    changes = services.input_changes(session, draft)
    assert changes == ["B: fte 3000 → 4000."]
    # Finalizing stale numbers is refused.
    with pytest.raises(ConflictError):
        services.finalize(session, draft, world.coordinator, draft.version)
    assert services.recompute(session, draft) is True
    # FTE 6000/4000/1000 of 11,000: B = 1,750 + 5,250 × 4/11 = 1,750 + 1,909.0909… = 3,659.09
    assert _lines(draft)["B"].amount == Decimal("3659.09")
    assert services.input_changes(session, draft) == []


def test_finalize_freezes_inputs_and_amounts(session, world) -> None:
    small = small_consortium(session)
    draft = services.save_draft(session, small.offer, 1, HALF_FTE_HALF_EQUAL, name="Half")
    services.finalize(session, draft, world.coordinator, draft.version)
    final = draft
    assert final.status == "final" and final.finalized_by_id == world.coordinator.id
    assert final.finalized_at is not None
    frozen_inputs = dict(final.inputs)
    # The frozen inputs are the exact scenario: running them again gives the frozen result.
    assert to_jsonable(result_for_year(allocate(final.inputs), 1)) == final.result
    # Later changes to facts and solo prices do not touch the final allocation.
    session.execute(
        MemberFact.__table__.update()
        .where(MemberFact.member_id == small.members["A"].id)
        .values(value=Decimal(9999))
    )
    session.execute(SoloPrice.__table__.update().values(amount=Decimal("1.00")))
    session.expire_all()
    again = session.get(Allocation, final.id)
    assert again.inputs == frozen_inputs
    assert {c: line.amount for c, line in _lines(again).items()} == {
        "A": Decimal("4900.00"),
        "B": Decimal("3325.00"),
        "C": Decimal("2275.00"),
    }
    assert _lines(again)["A"].solo_price == Decimal("6000.00")
    assert _lines(again)["A"].attributes["fte"] == "6000"
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "allocation.finalize")
    ).one()
    assert event.object_id == final.id and event.user_id == world.coordinator.id
    assert "€10,500.00" in event.summary


def test_a_final_allocation_cannot_be_recomputed_or_edited(session, world) -> None:
    small = small_consortium(session)
    draft = services.save_draft(session, small.offer, 1, HALF_FTE_HALF_EQUAL, name="Half")
    services.finalize(session, draft, world.coordinator, draft.version)
    session.flush()
    with pytest.raises(services.FinalAllocationError):
        services.recompute(session, draft)
    with pytest.raises(services.FinalAllocationError):
        services.save_draft(session, small.offer, 1, HALF_FTE_HALF_EQUAL, name="Again")
    with pytest.raises(services.FinalAllocationError):
        services.finalize(session, draft, world.coordinator, draft.version)
    # Even a direct change of the ORM objects is refused at flush.
    for change in (
        lambda: setattr(draft, "total", Decimal("1.00")),
        lambda: setattr(draft.lines[0], "amount", Decimal("1.00")),
        lambda: setattr(draft, "status", "draft"),
        lambda: session.delete(draft.lines[0]),
        lambda: session.delete(draft),
    ):
        savepoint = session.begin_nested()
        change()
        with pytest.raises(services.FinalAllocationError):
            session.flush()
        savepoint.rollback()
        session.expire_all()
    assert session.get(Allocation, draft.id).total == Decimal("10500.00")


def test_only_coordinators_finalize_and_only_once(session, world) -> None:
    small = small_consortium(session)
    draft = services.save_draft(session, small.offer, 1, HALF_FTE_HALF_EQUAL, name="Half")
    with pytest.raises(services.ForbiddenError):
        services.finalize(session, draft, world.negotiator, draft.version)
    with pytest.raises(ConflictError):
        services.finalize(session, draft, world.coordinator, draft.version + 7)
    services.finalize(session, draft, world.coordinator, draft.version)
    assert draft.is_final


def test_a_term_year_out_of_range_and_an_offer_without_members_are_refused(session, world) -> None:
    small = small_consortium(session)
    with pytest.raises(ServiceError, match="no year 2"):
        services.save_draft(session, small.offer, 2, HALF_FTE_HALF_EQUAL, name="Half")
    empty = create_offer(session, joined=[])
    with pytest.raises(ServiceError, match="No member has joined"):
        services.preview(session, empty, 1, HALF_FTE_HALF_EQUAL)


def test_a_multi_year_term_allocates_each_year_with_the_uplift(session, world) -> None:
    # 3-year term, 9,000.00 in year 1, 10 % uplift: year 2 = 9,900.00, split equally by
    # three members = 3,300.00 each; the allocation bills 2028.
    import datetime as dt

    members = [create_member(session, code=c) for c in ("X1", "X2", "X3")]
    offer = create_offer(
        session,
        pricing={"total": "9000.00", "term": {"years": 3, "uplift": "0.10"}},
        joined=members,
        term_start=dt.date(2027, 1, 1),
        term_end=dt.date(2029, 12, 31),
    )
    equal = {"formula": {"components": [{"kind": "equal", "weight": 1}]}}
    draft = services.save_draft(session, offer, 2, equal, name="Equal")
    assert draft.year == 2028 and draft.total == Decimal("9900.00")
    assert {line.amount for line in draft.lines} == {Decimal("3300.00")}
    assert draft.inputs["term"] == {"years": 3, "uplift": "0.10"}


def test_inputs_read_at_once_for_many_offers_are_the_ones_read_per_offer(session, world) -> None:
    # The negotiation overview reads every offer's inputs at once (`read_known`); each offer
    # must get what `build_scenario` reads for it alone: A's FTE of 2026 (not 2025, not 2028),
    # the current round's solo prices and, for A, last year's final share of the same resource.
    from costshare.allocations.inputs import build_scenario, read_known
    from tests.factories import create_final_allocation

    small = small_consortium(session)
    a, b = small.members["A"], small.members["B"]
    session.add(MemberFact(member_id=a.id, year=2028, name="fte", value=Decimal(9999)))
    last_year = create_offer(
        session,
        resource=small.offer.resource,
        joined=[a],
        term_start=small.offer.term_start.replace(year=2026),
        term_end=small.offer.term_end.replace(year=2026),
    )
    create_final_allocation(session, last_year, {a: {"amount": "4321.00"}})
    other = create_offer(session, joined=[a, b], solo={b: "777.00"})
    session.flush()
    known = read_known(session, [small.offer, other], 2027)
    for use in (None, known):
        scenario = build_scenario(session, small.offer, HALF_FTE_HALF_EQUAL, known=use).scenario
        attributes = {m["code"]: m["attributes"] for m in scenario["members"]}
        assert attributes["A"]["fte"] == Decimal(6000)
        assert attributes["A"]["solo_price"] == Decimal("6000.00")
        assert attributes["A"]["previous_share"] == Decimal("4321.00")
        assert "previous_share" not in attributes["B"]
        scenario = build_scenario(session, other, HALF_FTE_HALF_EQUAL, known=use).scenario
        attributes = {m["code"]: m["attributes"] for m in scenario["members"]}
        assert "solo_price" not in attributes["A"]
        assert attributes["B"]["solo_price"] == Decimal("777.00")
        assert attributes["B"]["fte"] == Decimal(3000)
