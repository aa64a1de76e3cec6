"""The demo: saved formulas, final allocations for the 2026 deals, a draft for 2027."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import select

from costshare.allocations.models import Allocation, Formula
from costshare.demo import seed_demo
from costshare.members.models import MemberFact
from costshare.usage.models import UsageImport, UsageItem, UsageRecord


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
        (a.offer.title, a.term_year): a
        for a in session.scalars(select(Allocation).order_by(Allocation.id))
        if a.offer.title.split()[0] in ("Atlas", "Helix", "Lotus", "Meridian")
    }
    atlas = allocations[("Atlas Science Citation Index 2026", 1)]
    helix = allocations[("Helix Research Data Navigator 2026", 1)]
    lotus = allocations[("Lotus Academic E-books 2026–2028", 1)]
    meridian = allocations[("Meridian Journals Complete 2027", 1)]
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


def test_the_demo_splits_the_e_books_second_year_half_by_usage(app, session) -> None:
    with app.app_context():
        seed_demo(session)
    formula = session.scalar(select(Formula).where(Formula.name.startswith("50 % FTE, 50 % usage")))
    assert formula.definition["usage"]["missing"] == "refuse"
    draft = session.scalar(
        select(Allocation).where(Allocation.formula_id == formula.id, Allocation.term_year == 2)
    )
    assert draft.status == "draft" and draft.year == 2027
    # The uses, counted here from the stored records: Total_Item_Requests of the Lotus
    # resource in 2026 from each member's TR master report (SYSU's TR_B1 view of Q1 2026
    # counts the same requests again and must be left out).
    uses: dict[int, int] = defaultdict(int)
    rows = session.execute(
        select(UsageImport.member_id, UsageRecord.count)
        .join(UsageItem, UsageItem.id == UsageRecord.item_id)
        .join(UsageImport, UsageImport.id == UsageItem.import_id)
        .where(
            UsageItem.resource_id == draft.offer.resource_id,
            UsageImport.report_id == "TR",
            UsageRecord.metric == "Total_Item_Requests",
            UsageRecord.month >= dt.date(2026, 1, 1),
            UsageRecord.month <= dt.date(2026, 12, 1),
        )
    )
    for member_id, count in rows:
        uses[member_id] += count
    figures = draft.inputs["usage_figures"]
    assert {line.code: int(line.attributes["usage"]) for line in draft.lines} == {
        line.code: uses[line.member_id] for line in draft.lines
    }
    assert {code: m["uses"] for code, m in figures["members"].items()} == {
        line.code: uses[line.member_id] for line in draft.lines
    }
    assert figures["window"] == {"begin": "2026-01", "end": "2026-12"}
    # The usage half of the total goes by uses: within a cent of total / 2 × uses / Σ uses.
    half = draft.total / 2
    whole = sum(uses[line.member_id] for line in draft.lines)
    for line in draft.lines:
        expected = half * uses[line.member_id] / whole
        assert abs(Decimal(line.explanation["Usage"]) - expected) <= Decimal("0.01")
