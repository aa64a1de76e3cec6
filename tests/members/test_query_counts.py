"""Every list and detail page issues the same number of SQL queries with 2 or 500 members.

The large consortium: 500 members with 5 years of 5 facts each (12,500 facts),
200 offers from 20 vendors, one offer with all 500 members joined, their solo
prices in 5 rounds, a member in 200 deals, 100 users and 1,000 audit events —
inserted in bulk (`tests/bulk.py`, as `benchmarks/pages.py` loads its data).
Each page is read once with the small world and once with the large one; the
counts must not differ.
"""

from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import insert, select

from costshare.members.models import MemberFact
from costshare.offers.models import Participation, QuoteRound, Resource, SoloPrice
from tests import bulk
from tests.factories import PASSWORD_HASH, QueryCounter

MEMBERS, OFFERS, VENDORS, YEARS = 500, 200, 20, (2022, 2023, 2024, 2025, 2026)
FACTS = ("fte", "budget", "income", "headcount", "articles")


def _grow(session, world) -> None:
    """Insert the large consortium around the world's objects."""
    rng = random.Random(500)
    ids = bulk.add_members(session, MEMBERS, rng=rng, years=YEARS, facts=FACTS)
    session.execute(
        insert(MemberFact),
        [
            {"member_id": world.own.id, "year": y, "name": f, "value": Decimal(1000)}
            for y in YEARS
            for f in FACTS
            if not (f in ("fte", "budget") and y in (2025, 2026))
        ],
    )
    deals = bulk.add_offers(session, ids, rng=rng, vendors=VENDORS, offers=OFFERS)
    # A few more resources for the target vendor, so its page lists many.
    session.execute(
        insert(Resource),
        [
            {
                "vendor_id": world.own_offer.resource.vendor_id,
                "name": f"Extra {n}",
                "kind": "ebooks",
                "counter_title_ids": [],
            }
            for n in range(30)
        ],
    )
    # The own member is in every deal.
    session.execute(
        insert(Participation),
        [{"offer_id": o, "member_id": world.own.id, "status": "joined"} for o in deals.offers],
    )
    # The target offer: everyone joins; five more rounds with everyone's solo price.
    target = world.own_offer
    session.execute(
        insert(Participation),
        [{"offer_id": target.id, "member_id": m, "status": "joined"} for m in ids],
    )
    session.execute(
        insert(QuoteRound),
        [
            {"offer_id": target.id, "number": n, "pricing": {"total": "90000.00"}}
            for n in range(2, 7)
        ],
    )
    round_ids = list(session.scalars(select(QuoteRound.id).where(QuoteRound.offer_id == target.id)))
    session.execute(
        insert(SoloPrice),
        [
            {
                "round_id": r,
                "member_id": m,
                "amount": Decimal("500.00"),
                "source": "typed",
                "overridden": False,
            }
            for r in round_ids
            for m in [*ids, world.own.id, world.other.id]
        ],
    )
    bulk.add_users(session, 100, PASSWORD_HASH)
    bulk.add_audit_events(
        session, 1000, user_id=world.coordinator.id, object_type="Offer", object_ids=[target.id]
    )
    session.flush()
    session.expire_all()


def _pages(world) -> list[str]:
    offer = world.own_offer
    quote = offer.current_round_id
    vendor = offer.resource.vendor_id
    return [
        "/members/",
        f"/members/{world.own.id}",
        f"/members/{world.own.id}/facts",
        "/members/facts?fact=fte",
        "/vendors/",
        f"/vendors/{vendor}",
        f"/vendors/resources/{offer.resource_id}",
        "/offers/",
        f"/offers/{offer.id}",
        f"/offers/{offer.id}/participants",
        f"/offers/{offer.id}/history",
        f"/offers/{offer.id}/rounds/{quote}/solo",
        f"/offers/{offer.id}/rounds/{quote}/edit",
        "/users/",
        "/audit/",
    ]


def _api(world) -> list[str]:
    offer = world.own_offer
    return [
        "/api/v1/members",
        f"/api/v1/members/{world.own.id}",
        f"/api/v1/members/{world.own.id}/facts",
        "/api/v1/vendors",
        "/api/v1/resources",
        "/api/v1/offers",
        f"/api/v1/offers/{offer.id}",
        f"/api/v1/offers/{offer.id}/rounds",
        f"/api/v1/offers/{offer.id}/participations",
    ]


def _count(app, client, url: str, headers=None) -> int:
    with QueryCounter(app) as counter:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200, (url, response.status_code)
    return counter.count


def test_pages_and_api_issue_a_fixed_number_of_queries(app, as_coordinator, world, session) -> None:
    headers = {"Authorization": f"Bearer {world.tokens['coordinator']}"}
    as_coordinator.get("/api/v1/members", headers=headers)  # records the token's first use
    pages, apis = _pages(world), _api(world)
    small = {url: _count(app, as_coordinator, url) for url in pages}
    small.update({url: _count(app, as_coordinator, url, headers) for url in apis})

    _grow(session, world)
    large = {url: _count(app, as_coordinator, url) for url in pages}
    large.update({url: _count(app, as_coordinator, url, headers) for url in apis})

    grew = {url: (small[url], large[url]) for url in small if small[url] != large[url]}
    assert not grew, f"queries grew with the rows (small, large): {grew}"
    # A sanity check that the large world is really there: the offer has 502 joined members.
    page = as_coordinator.get(f"/offers/{world.own_offer.id}/participants").get_data(as_text=True)
    assert 'id="count-joined">502<' in page
