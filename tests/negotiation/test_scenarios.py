"""Saved what-ifs: a name, a note, a shareable address, reopened as saved; offers never change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from costshare.audit.models import AuditEvent
from costshare.offers.models import Participation, Scenario
from tests.factories import create_member, create_offer, create_user
from tests.negotiation.pages import money, table, text_of

PRICING = {"pricing": {"kind": "list_discount", "tiers": [{"min_members": 3, "discount": "0.10"}]}}


@pytest.fixture
def offer(session):
    """Three members with list prices 5,000 / 3,000 / 2,000; 10 % off from 3 members (9,000)."""
    members = [create_member(session, code=c) for c in ("SA", "SB", "SC")]
    prices = dict(zip(members, ("5000.00", "3000.00", "2000.00"), strict=True))
    return create_offer(
        session, pricing=PRICING, joined=members, solo=prices, title="Scenario offer"
    )


def save(client, offer, **fields):
    data = {"whatif": "1", "members": ["SA", "SB"], "name": "Without SC", **fields}
    return client.post_form(f"/negotiation/offers/{offer.id}/scenarios", data)


def test_a_saved_scenario_reopens_at_its_address_for_colleagues(
    app, client, session, world, offer
) -> None:
    client.login(world.negotiator.email)
    response = save(client, offer, note="Ask the vendor to keep 10 % for two.")
    assert response.status_code == 302
    saved = session.scalars(select(Scenario).where(Scenario.offer_id == offer.id)).one()
    assert response.headers["Location"].endswith(f"/negotiation/scenarios/{saved.id}")
    assert saved.data["members"] == ["SA", "SB"]
    assert saved.data["formula"] == "method:proportional_savings"  # the default, kept as shown
    assert saved.created_by_id == world.negotiator.id

    # A coordinator opens the shared address and sees the what-if as saved:
    # SA and SB alone get no discount: 8,000, each at its list price.
    colleague = app.test_client()
    colleague.login(world.coordinator.email)
    html = colleague.get(f"/negotiation/scenarios/{saved.id}").get_data(as_text=True)
    assert "Without SC" in text_of(html, "scenario-banner")
    assert "Ask the vendor to keep 10 % for two." in text_of(html, "scenario-banner")
    assert money(text_of(html, "stat-price")) == Decimal("8000.00")
    assert "Tier lost: 3+ members, 10 % discount → now no discount (fewer than 3 members)." in (
        text_of(html, "tier")
    )
    whatif = table(html, "whatif-table")
    # As joined: 0.9 × 10,000 = 9,000 split in proportion to list prices: 4,500 / 2,700 / 1,800.
    assert [money(c) for c in whatif["rows"]["SA"][2:5]] == [
        Decimal("4500.00"),
        Decimal("5000.00"),
        Decimal("500.00"),
    ]

    # The offer itself is unchanged: all three members still joined.
    statuses = session.scalars(
        select(Participation.status).where(Participation.offer_id == offer.id)
    ).all()
    assert statuses == ["joined"] * 3
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "scenario.create")).one()
    assert event.object_id == saved.id and event.user_id == world.negotiator.id


def test_a_scenario_needs_a_name_and_members_listed_on_the_offer(
    as_negotiator, session, offer
) -> None:
    response = save(as_negotiator, offer, name="  ")
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)
    response = save(as_negotiator, offer, members=["SA", "NOPE"])
    assert response.status_code == 422
    assert "NOPE is not listed on this offer." in response.get_data(as_text=True)
    response = save(as_negotiator, offer, name="x" * 256)
    assert response.status_code == 422
    assert session.scalars(select(Scenario)).all() == []


def test_deleting_a_scenario_leaves_the_offer_alone(as_negotiator, session, offer) -> None:
    save(as_negotiator, offer)
    saved = session.scalars(select(Scenario)).one()
    response = as_negotiator.post_form(f"/negotiation/scenarios/{saved.id}/delete")
    assert response.status_code == 302
    assert session.scalars(select(Scenario)).all() == []
    assert session.get(type(offer), offer.id) is not None
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["scenario.create", "scenario.delete"]
    assert as_negotiator.get(f"/negotiation/scenarios/{saved.id}").status_code == 404


def test_a_scenario_whose_member_left_the_offer_reopens_without_it(
    as_negotiator, session, offer
) -> None:
    gone = create_member(session, code="GONE")
    scenario = Scenario(
        offer_id=offer.id,
        name="Old",
        data={"members": ["SA", "SB", "GONE"], "formula": "preset:vanished"},
        created_by_id=create_user(session, "negotiator").id,
    )
    session.add(scenario)
    session.flush()
    assert gone.id
    html = as_negotiator.get(f"/negotiation/scenarios/{scenario.id}").get_data(as_text=True)
    assert "GONE no longer listed on the offer: left out." in html
    assert "The saved formula no longer applies" in html
    assert money(text_of(html, "stat-price")) == Decimal("8000.00")


def test_member_users_cannot_see_scenarios(as_member, session, world, offer) -> None:
    scenario = Scenario(offer_id=world.own_offer.id, name="Own", data={})
    session.add(scenario)
    session.flush()
    assert as_member.get(f"/negotiation/scenarios/{scenario.id}").status_code == 404
    assert as_member.get(f"/negotiation/offers/{world.own_offer.id}").status_code == 404
