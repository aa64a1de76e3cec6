"""The demo: saved formulas, final allocations for the 2026 deals, a draft for 2027."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import select

from costshare.allocations.models import Allocation, Formula
from costshare.demo import seed_demo
from costshare.members.models import MemberFact


def test_the_demo_has_formulas_finals_and_a_draft(app, session) -> None:
    with app.app_context():
        seed_demo(session)
    names = set(session.scalars(select(Formula.name)))
    assert {
        "Equal split",
        "90 % FTE, 10 % equal",
        "Per-FTE price, 700 to 11,000",
        "90 % FTE, 10 % equal, capped at the solo price",
        "Orbis Cascade e-books, at most ±5 % a year",
    } <= names
    allocations = {
        a.offer.title: a
        for a in session.scalars(select(Allocation).order_by(Allocation.id))
        if a.offer.title.split()[0] in ("Atlas", "Helix", "Lotus", "Meridian")
    }
    atlas = allocations["Atlas Science Citation Index 2026"]
    helix = allocations["Helix Research Data Navigator 2026"]
    lotus = allocations["Lotus Academic E-books 2026–2028"]
    meridian = allocations["Meridian Journals Complete 2027"]
    assert [a.status for a in (atlas, helix, lotus, meridian)] == ["final"] * 3 + ["draft"]
    assert [a.year for a in (atlas, helix, lotus, meridian)] == [2026, 2026, 2026, 2027]
    # Atlas: a fixed 248,000.00 + 3 % surcharge = 255,440.00, nobody above its solo price.
    assert atlas.total == Decimal("255440.00") and atlas.price == Decimal("248000.00")
    assert sum(line.amount for line in atlas.lines) == Decimal("255440.00")
    assert all(line.amount <= line.solo_price for line in atlas.lines)
    # Lotus year 1: 168,500.00, no surcharge.
    assert lotus.total == Decimal("168500.00") and lotus.term_year == 1
    # Helix (eHLbc): each member pays its own 0.34 × FTE, between 700 and 11,000.
    fte = dict(
        session.execute(
            select(MemberFact.member_id, MemberFact.value).where(
                MemberFact.name == "fte", MemberFact.year == 2026
            )
        ).all()
    )
    for line in helix.lines:
        own = min(max(Decimal("0.34") * fte[line.member_id], Decimal(700)), Decimal(11000))
        assert line.amount == own.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN), line.code
    assert meridian.finalized_at is None and meridian.formula_name.startswith("90 % FTE")
