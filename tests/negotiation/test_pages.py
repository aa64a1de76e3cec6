"""The Negotiation pages show the figures a negotiator would work out by hand.

Every expected number below is computed in the comments, from the offer's
list prices, tiers and the formula — never taken from the code under test.
The pages are read as rendered HTML.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from costshare.allocations.services import finalize, load_offer, save_draft
from tests.factories import create_member, create_offer, create_resource, create_user
from tests.negotiation.pages import money, table, text_of

D = Decimal
TIERS = {
    "pricing": {
        "kind": "list_discount",
        "tiers": [{"min_members": 3, "discount": "0.10"}, {"min_members": 4, "discount": "0.20"}],
    }
}
SOLO = {"NA": "10000.00", "NB": "6000.00", "NC": "3000.00", "ND": "1000.00"}


@pytest.fixture
def four(session):
    """Four members with list prices 10,000 / 6,000 / 3,000 / 1,000 (Σ 20,000), all joined.

    Tiers: 3+ members 10 % off, 4+ members 20 % off. With all four the vendor's
    price is 0.8 × 20,000 = 16,000.00; no surcharge.
    """
    members = {code: create_member(session, code=code, name=f"Library {code[1]}") for code in SOLO}
    offer = create_offer(
        session,
        pricing=TIERS,
        joined=list(members.values()),
        solo={members[c]: amount for c, amount in SOLO.items()},
        title="Hand-checked list price offer",
    )
    return offer


def amounts(rows, column):
    return {code: money(cells[column]) for code, cells in rows.items()}


def test_solo_vs_joint_under_proportional_savings(as_negotiator, four) -> None:
    html = as_negotiator.get(f"/negotiation/offers/{four.id}").get_data(as_text=True)
    solo = table(html, "solo-table")
    # Every solo price is known, no allocation exists: the default split is proportional
    # savings, so each pays 16,000/20,000 = 80 % of its list price and saves 20 %.
    assert amounts(solo["rows"], 2) == {
        "NA": D("10000.00"),
        "NB": D("6000.00"),
        "NC": D("3000.00"),
        "ND": D("1000.00"),
    }
    assert amounts(solo["rows"], 3) == {
        "NA": D("8000.00"),
        "NB": D("4800.00"),
        "NC": D("2400.00"),
        "ND": D("800.00"),
    }
    assert amounts(solo["rows"], 4) == {
        "NA": D("2000.00"),
        "NB": D("1200.00"),
        "NC": D("600.00"),
        "ND": D("200.00"),
    }
    assert {code: cells[5] for code, cells in solo["rows"].items()} == dict.fromkeys(SOLO, "20.0 %")
    # Totals: solo 20,000, joint 16,000, cost avoidance 4,000 = 20 % of solo.
    foot = solo["foot"][0]
    assert [money(c) for c in foot[1:4]] == [D("20000.00"), D("16000.00"), D("4000.00")]
    assert foot[4] == "20.0 %"
    assert "pays more than alone" not in str(solo["body"])
    assert "Discount tier: 4+ members, 20 % discount." in text_of(html, "tier")


def test_dropping_a_member_loses_the_tier_and_raises_the_others(as_negotiator, four) -> None:
    url = f"/negotiation/offers/{four.id}?whatif=1&members=NA&members=NB&members=NC"
    html = as_negotiator.get(url).get_data(as_text=True)
    # Without ND: 3 members, 10 % off: 0.9 × 19,000 = 17,100.00. Proportional savings:
    # each pays 90 % of its list price: 9,000 / 5,400 / 2,700.
    assert "Tier lost: 4+ members, 20 % discount → now 10 % (3+ members)." in text_of(html, "tier")
    whatif = table(html, "whatif-table")
    assert amounts(whatif["rows"], 2) == {
        "NA": D("8000.00"),
        "NB": D("4800.00"),
        "NC": D("2400.00"),
        "ND": D("800.00"),
    }
    assert amounts(whatif["rows"], 3) == {
        "NA": D("9000.00"),
        "NB": D("5400.00"),
        "NC": D("2700.00"),
        "ND": None,
    }
    # Differences: +1,000 / +600 / +300; ND is dropped.
    assert amounts(whatif["rows"], 4) == {
        "NA": D("1000.00"),
        "NB": D("600.00"),
        "NC": D("300.00"),
        "ND": None,
    }
    assert "dropped" in whatif["rows"]["ND"][0]
    # Together the members pay 17,100 instead of 16,000: 1,100 more.
    assert [money(c) for c in whatif["foot"][0][1:4]] == [
        D("16000.00"),
        D("17100.00"),
        D("1100.00"),
    ]
    assert money(text_of(html, "stat-price")) == D("17100.00")


def test_the_fetch_toggle_answers_the_same_numbers_as_a_fragment(as_negotiator, four) -> None:
    response = as_negotiator.post(
        f"/negotiation/offers/{four.id}/what-if",
        data={"whatif": "1", "members": ["NA", "NB", "NC"]},
        headers={"X-CSRFToken": as_negotiator.csrf(), "X-Requested-With": "fetch"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html  # a fragment, not a page
    assert amounts(table(html, "whatif-table")["rows"], 3)["NA"] == D("9000.00")
    assert "Tier lost: 4+ members, 20 % discount → now 10 % (3+ members)." in text_of(html, "tier")


def test_shapley_split_and_the_core_check(as_negotiator, four) -> None:
    html = as_negotiator.get(f"/negotiation/offers/{four.id}").get_data(as_text=True)
    # g(k) = 1 − d(k): 1, 1, 0.9, 0.8 for k = 1..4; n = 4, P = 20,000.
    # A = (1 + 1 + 0.9 + 0.8)/4 = 0.925;
    # B = (1/4)·[(g2−g1)·1/3 + (g3−g2)·2/3 + (g4−g3)·3/3] = (1/4)·(0 − 0.2/3 − 0.1) = −1/24.
    # φ_i = p_i·(A − B) + P·B = p_i·29/30 − 2,500/3:
    #   NA 26,500/3 = 8,833.333…  NB 14,900/3 = 4,966.666…  NC 6,200/3 = 2,066.666…  ND 400/3
    # Largest remainder to the cent: 2 cents left over go to NB and NC (remainders .666…).
    fairness = table(html, "fairness-table")
    assert amounts(fairness["rows"], 3) == {
        "NA": D("8833.33"),
        "NB": D("4966.67"),
        "NC": D("2066.67"),
        "ND": D("133.33"),
    }
    # Formula − Shapley: 8,000 − 8,833.33 = −833.33; 4,800 − 4,966.67 = −166.67; …
    assert amounts(fairness["rows"], 4) == {
        "NA": D("-833.33"),
        "NB": D("-166.67"),
        "NC": D("333.33"),
        "ND": D("666.67"),
    }
    # Proportional savings: every group pays 80 % of its list prices, and alone it would pay
    # 100 % (1–2 members), 90 % (3) or 80 % (all 4): no group does better alone.
    assert "in the core" in text_of(html, "core-formula")
    assert "in the core" in text_of(html, "core-shapley")


def test_an_equal_split_fails_the_core_check_and_names_the_group(as_negotiator, four) -> None:
    html = as_negotiator.get(
        f"/negotiation/offers/{four.id}?whatif=1&members=NA&members=NB&members=NC&members=ND"
        "&formula=preset:equal"
    ).get_data(as_text=True)
    solo = table(html, "solo-table")
    # Equal split: 16,000 / 4 = 4,000 each. NC pays 1,000 more than its 3,000 list price,
    # ND 3,000 more than its 1,000.
    assert amounts(solo["rows"], 3) == dict.fromkeys(SOLO, D("4000.00"))
    assert "pays more than alone" in solo["rows"]["NC"][6]
    assert "pays more than alone" in solo["rows"]["ND"][6]
    assert "pays more than alone" not in solo["rows"]["NB"][6]
    # Worst group: {NC, ND} pay 8,000 but alone (2 members, no discount) 4,000: excess 4,000.
    # (ND alone: 4,000 vs 1,000 → 3,000; {NB, NC, ND}: 12,000 vs 0.9 × 10,000 → 3,000.)
    verdict = text_of(html, "core-formula")
    assert "not in the core" in verdict
    assert "NC, ND would pay the vendor €4,000.00 on their own" in verdict
    assert "pay €8,000.00 toward the vendor's price here — €4,000.00 more" in verdict


def test_a_three_year_offer_is_projected_with_the_phase_in_limit(as_negotiator, session) -> None:
    # Last year (2026) NA paid 9,000 and NB 3,000 for the same resource (a final allocation).
    # (Weights 3 : 1 split last year's 12,000 as 9,000 and 3,000.)
    a = create_member(session, code="NA", name="Library A", facts={(2026, "w"): 3})
    b = create_member(session, code="NB", name="Library B", facts={(2026, "w"): 1})
    resource = create_resource(session)
    last = create_offer(
        session,
        resource=resource,
        pricing={"total": "12000.00"},
        joined=[a, b],
        term_start=dt.date(2026, 1, 1),
        term_end=dt.date(2026, 12, 31),
    )
    by_weight = {"formula": {"components": [{"kind": "attribute", "attribute": "w", "weight": 1}]}}
    previous = save_draft(
        session, load_offer(session, last.id), 1, by_weight, name="Last year's split"
    )
    finalize(session, previous, create_user(session, "coordinator"), previous.version)
    offer = create_offer(
        session,
        resource=resource,
        pricing={"total": "12000.00", "term": {"years": 3, "uplift": "0.10"}},
        joined=[a, b],
        solo={a: "10000.00", b: "5000.00"},
        term_start=dt.date(2027, 1, 1),
        term_end=dt.date(2029, 12, 31),
        title="Three-year deal",
    )
    html = as_negotiator.get(
        f"/negotiation/offers/{offer.id}?whatif=1&members=NA&members=NB&max_change=15"
    ).get_data(as_text=True)
    years = table(html, "years-table")
    assert years["head"][0] == ["Code", "2027", "2028", "2029", "Whole term"]
    # Proportional savings: raw shares 2/3 and 1/3 of each year's price. Phase-in 15 %:
    # 2027 (12,000): NB ≤ 3,000 × 1.15 = 3,450 holds; NA pays 12,000 − 3,450 = 8,550
    #   (within 9,000 × [0.85, 1.15]).
    # 2028 (13,200): NB ≤ 3,450 × 1.15 = 3,967.50; NA 13,200 − 3,967.50 = 9,232.50.
    # 2029 (14,520): NB ≤ 3,967.50 × 1.15 = 4,562.625 → 4,562.62 (snapped down to the cent);
    #   NA 14,520 − 4,562.62 = 9,957.38.
    assert [money(c) for c in years["rows"]["NA"][1:]] == [
        D("8550.00"),
        D("9232.50"),
        D("9957.38"),
        D("27739.88"),
    ]
    assert [money(c) for c in years["rows"]["NB"][1:]] == [
        D("3450.00"),
        D("3967.50"),
        D("4562.62"),
        D("11980.12"),
    ]
    assert "▲" in years["rows"]["NB"][1]  # held by the phase-in limit, going up
    # Members pay 12,000 + 13,200 + 14,520 = 39,720; solo prices rise by the uplift too:
    # 15,000 + 16,500 + 18,150 = 49,650.
    assert [money(c) for c in years["foot"][0][1:]] == [
        D("12000.00"),
        D("13200.00"),
        D("14520.00"),
        D("39720.00"),
    ]
    assert [money(c) for c in years["foot"][1][1:]] == [
        D("15000.00"),
        D("16500.00"),
        D("18150.00"),
        D("49650.00"),
    ]


def test_quote_rounds_side_by_side(as_negotiator, session, four) -> None:
    from costshare.offers.models import QuoteRound, SoloPrice

    # Round 2: 25 % off for all four, NA's list price down to 9,000 (Σ 19,000).
    second = QuoteRound(
        number=2,
        label="Second quote",
        pricing={
            "pricing": {"kind": "list_discount", "tiers": [{"min_members": 4, "discount": "0.25"}]}
        },
    )
    four.rounds.append(second)
    for solo in four.rounds[0].solo_prices:
        amount = Decimal("9000.00") if solo.member.code == "NA" else solo.amount
        second.solo_prices.append(SoloPrice(member=solo.member, amount=amount))
    session.flush()
    four.current_round = second
    session.flush()
    html = as_negotiator.get(f"/negotiation/offers/{four.id}").get_data(as_text=True)
    rounds = table(html, "rounds-table")
    assert rounds["head"][0][1].startswith("Round 1") and rounds["head"][0][2].startswith("Round 2")
    # Round 1: 0.8 × 20,000 = 16,000 (NA 8,000). Round 2: 0.75 × 19,000 = 14,250; proportional
    # savings: each pays 75 % of its round-2 list price (NA 6,750; NB 4,500; NC 2,250; ND 750).
    assert [money(c) for c in rounds["rows"]["NA"][1:]] == [D("8000.00"), D("6750.00")]
    assert [money(c) for c in rounds["rows"]["ND"][1:]] == [D("800.00"), D("750.00")]
    foot = {row[0]: row[1:] for row in rounds["foot"]}
    assert [money(c) for c in foot["Vendor price"]] == [D("16000.00"), D("14250.00")]
    assert [money(c) for c in foot["Solo prices"]] == [D("20000.00"), D("19000.00")]
    assert [money(c) for c in foot["Savings"]] == [D("4000.00"), D("4750.00")]
    assert [money(c) for c in foot["Gained on the round before"]] == [None, D("-1750.00")]


def test_a_toggle_without_the_csrf_header_is_refused(as_negotiator, four) -> None:
    response = as_negotiator.post(
        f"/negotiation/offers/{four.id}/what-if",
        data={"whatif": "1", "members": ["NA"]},
        headers={"X-Requested-With": "fetch"},
    )
    assert response.status_code == 400
