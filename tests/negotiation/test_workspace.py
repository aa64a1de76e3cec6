"""The workspace: bad input gets a sentence, queries do not grow with the members, formats agree."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from tests.factories import QueryCounter, create_member, create_offer
from tests.negotiation.pages import money, table, text_of

PRICING = {"pricing": {"kind": "list_discount", "tiers": [{"min_members": 5, "discount": "0.10"}]}}


def offer_with(session, n, prefix="Q", **extra):
    members = [create_member(session, code=f"{prefix}{i:02d}") for i in range(n)]
    solo = {m: f"{1000 + 37 * i}.50" for i, m in enumerate(members)}
    return create_offer(session, pricing=PRICING, joined=members, solo=solo, **extra)


@pytest.mark.parametrize(
    ("query", "field", "sentence"),
    [
        ("members=NOPE", "members", "NOPE is not listed on this offer."),
        ("formula=preset:nope", "formula", "Choose a formula from the list."),
        ("max_change=150", "max_change", "The phase-in limit must lie between 0 % and 100 %."),
        ("max_change=abc", "max_change", "Not a valid decimal value."),
        ("uplift=3", "uplift", "price does not rise by a yearly uplift"),
    ],
)
def test_bad_what_ifs_get_a_sentence_beside_the_field(
    as_negotiator, session, query, field, sentence
) -> None:
    offer = offer_with(session, 3)
    response = as_negotiator.get(f"/negotiation/offers/{offer.id}?whatif=1&members=Q00&{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert sentence in html
    # The page still shows the offer as joined.
    assert table(html, "solo-table")["rows"].keys() == {"Q00", "Q01", "Q02"}


def test_ticking_nobody_asks_for_a_member(as_negotiator, session) -> None:
    offer = offer_with(session, 3)
    response = as_negotiator.get(f"/negotiation/offers/{offer.id}?whatif=1")
    assert response.status_code == 422
    assert "Keep at least one member in the deal." in response.get_data(as_text=True)


def test_a_member_without_a_list_price_is_named(as_negotiator, session) -> None:
    offer = offer_with(session, 2)
    newcomer = create_member(session, code="NEW")
    from costshare.offers.models import Participation

    offer.participations.append(Participation(member=newcomer, status="invited"))
    session.flush()
    html = as_negotiator.get(
        f"/negotiation/offers/{offer.id}?whatif=1&members=Q00&members=Q01&members=NEW"
    ).get_data(as_text=True)
    assert "NEW" in text_of(html, "ws-error")
    # On the page as joined, NEW cannot be ticked: the list price is the vendor's price basis.
    page = as_negotiator.get(f"/negotiation/offers/{offer.id}").get_data(as_text=True)
    assert re.search(r'value="NEW"[^>]*disabled', page)
    assert "no list price" in page
    assert "solo_price" in text_of(html, "ws-error") or "solo price" in text_of(html, "ws-error")


def test_an_offer_nobody_joined_shows_a_sentence(as_negotiator, session) -> None:
    offer = create_offer(session, pricing=PRICING, title="Nobody yet")
    html = as_negotiator.get(f"/negotiation/offers/{offer.id}").get_data(as_text=True)
    assert "No member has joined this offer yet" in text_of(html, "ws-empty")
    assert as_negotiator.get("/negotiation/offers/999999").status_code == 404


def test_the_page_issues_as_many_queries_for_30_members_as_for_3(app, as_negotiator, session):
    small, large = offer_with(session, 3, "S"), offer_with(session, 30, "L")
    counts = []
    for offer in (small, large):
        as_negotiator.get(f"/negotiation/offers/{offer.id}")  # warm caches
        with QueryCounter(app) as counter:
            response = as_negotiator.get(
                f"/negotiation/offers/{offer.id}?whatif=1&members={offer.participations[0].member.code}"
            )
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_the_year_overview_adds_offers_up_per_member(as_negotiator, session) -> None:
    a = create_member(session, code="YA")
    b = create_member(session, code="YB")
    # Offer 1: list prices 100 and 300, no discount: proportional savings, each pays its price.
    create_offer(
        session, pricing={"total": "300.00"}, joined=[a, b], solo={a: "100.00", b: "300.00"}
    )
    # Offer 2: total 500 for list prices 400 and 600 (Σ 1,000): each pays half its list price.
    create_offer(
        session, pricing={"total": "500.00"}, joined=[a, b], solo={a: "400.00", b: "600.00"}
    )
    html = as_negotiator.get("/negotiation/?year=2027").get_data(as_text=True)
    members = table(html, "members-EUR")
    # Offer 1: 300 for 400 of list prices: 75 % each → YA 75, YB 225. Offer 2: YA 200, YB 300.
    # YA: solo 500, joint 275, saving 225 (45.0 %); YB: solo 900, joint 525, saving 375 (41.7 %).
    assert [money(c) for c in members["rows"]["YA"][3:6]] == [
        Decimal("500.00"),
        Decimal("275.00"),
        Decimal("225.00"),
    ]
    assert members["rows"]["YA"][6] == "45.0 %"
    assert [money(c) for c in members["rows"]["YB"][3:6]] == [
        Decimal("900.00"),
        Decimal("525.00"),
        Decimal("375.00"),
    ]
    # The world's two offers (10,000 each, no solo prices) add to what OWN and OTHER pay,
    # but not to the savings: 1,400 solo; 800 + 20,000 joint; 600 saved.
    assert [money(c) for c in members["foot"][0][1:4]] == [
        Decimal("1400.00"),
        Decimal("20800.00"),
        Decimal("600.00"),
    ]
    assert members["rows"]["OWN"][4].endswith("*")


def test_the_year_overview_reads_a_fixed_number_of_queries_however_many_offers(
    app, as_negotiator, session
):
    # The facts, solo prices and previous shares of every offer are read at once: the count
    # grows neither with the offers nor with their members.
    counts = []
    for n in (1, 2, 3):
        offer_with(
            session,
            3 if n < 3 else 25,
            prefix=f"O{n}",
            term_start=dt.date(2031, 1, 1),
            term_end=dt.date(2031, 12, 31),
        )
        with QueryCounter(app) as counter:
            assert as_negotiator.get("/negotiation/?year=2031").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] == counts[2], counts
