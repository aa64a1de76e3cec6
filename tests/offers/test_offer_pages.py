"""Offers: create, edit with versions, quote rounds checked by the engine, compare, history."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import select

from costshare.offers.models import Offer, QuoteRound
from tests.factories import create_member, create_offer, create_resource


def test_a_coordinator_creates_an_offer_and_is_sent_to_its_first_round(
    as_coordinator, world, session
) -> None:
    resource = world.own_offer.resource
    response = as_coordinator.post_form(
        "/offers/new",
        {
            "resource_id": str(resource.id),
            "title": "Orchid Journals 2028",
            "term_start": "2028-01-01",
            "term_end": "2028-12-31",
            "currency": "usd",
            "status": "draft",
            "deadline": "2027-11-30",
        },
    )
    assert response.status_code == 302
    offer = session.scalar(select(Offer).where(Offer.title == "Orchid Journals 2028"))
    assert offer.currency == "USD" and offer.term_years == 1
    assert response.headers["Location"].endswith(f"/offers/{offer.id}/rounds/new")


def test_a_term_that_ends_before_it_starts_is_told_beside_the_end(as_coordinator, world) -> None:
    response = as_coordinator.post_form(
        "/offers/new",
        {
            "resource_id": str(world.own_offer.resource_id),
            "title": "Backwards",
            "term_start": "2028-01-01",
            "term_end": "2027-01-01",
            "currency": "EUR",
            "status": "draft",
        },
    )
    assert response.status_code == 422
    assert re.search(
        r'id="term_end-error"[^>]*>The term must end after it starts\.',
        response.get_data(as_text=True),
    )


def test_an_edit_from_a_stale_page_is_refused_with_a_clear_message(
    as_coordinator, world, session
) -> None:
    offer = world.own_offer
    stale = offer.version
    offer.title = "Changed by someone else"
    session.flush()
    response = as_coordinator.post_form(
        f"/offers/{offer.id}/edit",
        {
            "resource_id": str(offer.resource_id),
            "title": "My title",
            "term_start": "2027-01-01",
            "term_end": "2027-12-31",
            "currency": "EUR",
            "status": "negotiating",
            "version": str(stale),
        },
    )
    assert response.status_code == 409
    assert "Someone else saved this offer after you opened it" in response.get_data(as_text=True)
    session.refresh(offer)
    assert offer.title == "Changed by someone else"


def _round_form(**fields: str) -> dict[str, str]:
    return {"label": "Second quote", "received_on": "2026-11-20", "make_current": "y", **fields}


def test_a_list_price_round_is_written_in_the_engines_shape(as_coordinator, world, session) -> None:
    offer = world.own_offer
    response = as_coordinator.post_form(
        f"/offers/{offer.id}/rounds/new",
        _round_form(
            kind="list_discount",
            **{
                "tiers-0-min_members": "2",
                "tiers-0-discount": "10",
                "tiers-1-min_members": "5",
                "tiers-1-discount": "20",
                "surcharge": "2",
            },
        ),
    )
    assert response.status_code == 302
    quote = session.scalar(
        select(QuoteRound).where(QuoteRound.offer_id == offer.id, QuoteRound.number == 2)
    )
    assert quote.pricing == {
        "pricing": {
            "kind": "list_discount",
            "tiers": [
                {"min_members": 2, "discount": "0.1"},
                {"min_members": 5, "discount": "0.2"},
            ],
        },
        "surcharge": "0.02",
    }
    session.refresh(offer)
    assert offer.current_round_id == quote.id  # round 1 stays, for comparison
    # Both members joined but have no solo price yet: saved, with a warning.
    flashed = as_coordinator.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert "Saved, but the engine cannot price it for the joined members yet" in flashed
    assert "Members OTHER and OWN have no attribute &#39;solo_price&#39;" in flashed


def test_the_engines_complaint_is_shown_beside_the_field_and_nothing_is_saved(
    as_coordinator, world, session
) -> None:
    offer = world.own_offer
    cases = [
        # A total off the euro's cent grid.
        ({"kind": "total", "total": "1000.005"}, "total"),
        # Two participation tiers starting at the same count.
        (
            {
                "kind": "list_discount",
                "tiers-0-min_members": "5",
                "tiers-0-discount": "10",
                "tiers-1-min_members": "5",
                "tiers-1-discount": "20",
            },
            None,
        ),
        # A floor above the cap.
        (
            {
                "kind": "per_unit",
                "unit_attribute": "fte",
                "rate": "0.34",
                "unit_floor": "900",
                "unit_cap": "500",
            },
            "unit_floor",
        ),
        # A price-list block of size 0.
        (
            {
                "kind": "total",
                "total": "100",
                "list_attribute": "fte",
                "list_tiers-0-min": "0",
                "list_tiers-0-price": "10",
                "block_above": "10",
                "block_size": "0",
                "block_price": "5",
                "block_round": "nearest",
            },
            "block_size",
        ),
    ]
    for fields, field in cases:
        response = as_coordinator.post_form(f"/offers/{offer.id}/rounds/new", _round_form(**fields))
        assert response.status_code == 422, fields
        body = response.get_data(as_text=True)
        if field:
            assert re.search(rf'id="{field}-error"[^>]*>[^<]+', body), (field, body[:300])
        else:
            assert "Two participation tiers have min_members" in body
    assert (
        session.scalar(
            select(QuoteRound).where(QuoteRound.offer_id == offer.id, QuoteRound.number == 2)
        )
        is None
    )


def test_rounds_are_compared_for_the_joined_members(as_negotiator, session) -> None:
    a = create_member(session, code="AAA")
    b = create_member(session, code="BBB")
    offer = create_offer(
        session,
        pricing={
            "pricing": {"kind": "list_discount", "tiers": [{"min_members": 2, "discount": "0.10"}]}
        },
        joined=[a, b],
        solo={a: "10000.00", b: "5000.00"},
    )
    second = QuoteRound(
        number=2,
        label="Better",
        pricing={
            "pricing": {"kind": "list_discount", "tiers": [{"min_members": 2, "discount": "0.20"}]}
        },
    )
    offer.rounds.append(second)
    session.flush()
    from costshare.offers.models import SoloPrice

    second.solo_prices.extend(
        [
            SoloPrice(member=a, amount=Decimal("10000.00")),
            SoloPrice(member=b, amount=Decimal("5000.00")),
        ]
    )
    offer.current_round = second
    session.flush()
    body = as_negotiator.get(f"/offers/{offer.id}").get_data(as_text=True)
    # Round 1: (1 − 0.10) × 15,000 = 13,500; round 2: (1 − 0.20) × 15,000 = 12,000.
    assert "€13,500.00" in body and "€12,000.00" in body
    assert "−€1,500.00" in body or "-€1,500.00" in body
    assert "Add a quote round" not in body  # negotiators compare, coordinators edit


def test_making_an_earlier_round_current(as_coordinator, world, session) -> None:
    offer = world.own_offer
    first = offer.current_round
    second = QuoteRound(number=2, pricing={"total": "9000.00"})
    offer.rounds.append(second)
    session.flush()
    offer.current_round = second
    session.flush()
    response = as_coordinator.post_form(
        f"/offers/{offer.id}/rounds/{first.id}/current", {"version": str(offer.version)}
    )
    assert response.status_code == 302
    session.refresh(offer)
    assert offer.current_round_id == first.id
    history = as_coordinator.get(f"/offers/{offer.id}/history").get_data(as_text=True)
    assert "Made round 1 current" in history


def test_the_offer_list_filters_and_sorts_by_deadline(as_negotiator, world, session) -> None:
    resource = create_resource(session)
    late = create_offer(
        session, resource=resource, title="Late deadline", deadline=dt.date(2027, 3, 1)
    )
    soon = create_offer(
        session, resource=resource, title="Soon deadline", deadline=dt.date(2026, 12, 1)
    )
    create_offer(session, resource=resource, title="Declined one", status="declined")
    body = as_negotiator.get(f"/offers/?vendor={resource.vendor_id}&status=negotiating").get_data(
        as_text=True
    )
    assert body.index(soon.title) < body.index(late.title)
    assert "Declined one" not in body and world.own_offer.title not in body
    assert late.id
    body = as_negotiator.get("/offers/?year=2031").get_data(as_text=True)
    assert "No offers match." in body


def test_editing_an_earlier_round_leaves_the_current_one_alone(
    as_coordinator, world, session
) -> None:
    offer = world.own_offer
    first = offer.current_round
    second = QuoteRound(number=2, pricing={"total": "9000.00"})
    offer.rounds.append(second)
    session.flush()
    offer.current_round = second
    session.flush()
    page = as_coordinator.get(f"/offers/{offer.id}/rounds/{first.id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="make_current"[^>]*>', page)
    assert "checked" not in re.search(r'<input[^>]*id="make_current"[^>]*>', page).group(0)
