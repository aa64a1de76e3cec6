"""Load a large consortium fast: query-count tests and `benchmarks/pages.py`.

Each table's rows go in with one `INSERT … RETURNING` (SQLAlchemy's
insertmanyvalues), on SQLite and PostgreSQL alike: 500 members with 25,000
facts and 200 offers with their rounds, participants and solo prices load in
a few seconds. Figures come from a seeded `random.Random`, so two runs build
the same consortium.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from costshare.audit.models import AuditEvent
from costshare.auth.models import User
from costshare.db import utcnow
from costshare.members.models import Member, MemberFact
from costshare.offers.models import Offer, Participation, QuoteRound, Resource, SoloPrice, Vendor

#: Fact name → (smallest, largest) value a member gets in the first year.
FACT_RANGES = {
    "fte": (300, 60_000),
    "headcount": (400, 80_000),
    "student_fte": (250, 50_000),
    "fte_research": (10, 6_000),
    "fte_postgrad": (20, 12_000),
    "fte_undergrad": (200, 40_000),
    "budget": (50_000, 9_000_000),
    "materials_budget": (20_000, 4_000_000),
    "income": (1_000_000, 900_000_000),
    "research_income": (100_000, 300_000_000),
    "articles": (5, 9_000),
}
SECTORS = ("university", "college", "research", "health")


def insert_many(session: Session, model: type, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` into `model`'s table at once; return their ids in the order given."""
    if not rows:
        return []
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))


def add_members(
    session: Session,
    count: int,
    *,
    rng: random.Random,
    prefix: str = "B",
    years: Iterable[int] = (),
    facts: Iterable[str] = (),
) -> list[int]:
    """Insert `count` members with every fact for every year (growing ~3 % a year)."""
    years, facts = list(years), list(facts)
    ids = insert_many(
        session,
        Member,
        [
            {
                "code": f"{prefix}{n:04d}",
                "name": f"Bulk Library {n}" if n % 3 else f"第{n}大学图书馆",
                "sector": SECTORS[n % len(SECTORS)],
                "billing_currency": "EUR",
            }
            for n in range(count)
        ],
    )
    rows = []
    for member_id in ids:
        for name in facts:
            low, high = FACT_RANGES.get(name, (100, 10_000))
            value = rng.randint(low, high)
            for year in years:
                rows.append({"member_id": member_id, "year": year, "name": name, "value": value})
                value = value * 103 // 100
    session.execute(insert(MemberFact), rows)
    return ids


def _pricing(n: int, rng: random.Random, term_years: int) -> dict[str, Any]:
    """Return one of four kinds of pricing, in turn: total, list discount, per FTE, uplift."""
    kind = n % 4
    if term_years > 1:
        return {
            "total": f"{rng.randint(40, 400) * 1000}.00",
            "term": {"years": term_years, "uplift": "0.03"},
        }
    if kind == 1:
        return {
            "pricing": {
                "kind": "list_discount",
                "tiers": [
                    {"min_members": 8, "discount": "0.08"},
                    {"min_members": 20, "discount": "0.15"},
                ],
            },
            "surcharge": "0.02",
        }
    if kind == 2:
        return {
            "pricing": {
                "kind": "per_unit",
                "attribute": "fte",
                "rate": "0.34",
                "floor": "700",
                "cap": "11000",
            }
        }
    return {"total": f"{rng.randint(20, 300) * 1000}.00", "surcharge": "0.03"}


@dataclass
class Deals:
    """What `add_offers` inserted: ids, and per offer its rounds and joined members."""

    vendors: list[int]
    resources: list[int]
    offers: list[int]
    #: Offer id → its rounds' ids in order; the last one is the current round.
    rounds: dict[int, list[int]] = field(default_factory=dict)
    #: Offer id → the members who joined it.
    joined: dict[int, list[int]] = field(default_factory=dict)


def add_offers(
    session: Session,
    member_ids: Sequence[int],
    *,
    rng: random.Random,
    vendors: int,
    offers: int,
    joined: tuple[int, int] = (10, 10),
    rounds: tuple[int, int] = (1, 1),
    solo: bool = False,
    prefix: str = "Bulk",
) -> Deals:
    """Insert vendors, one resource per offer and offers with rounds, participants, solo prices.

    Each offer gets between `joined[0]` and `joined[1]` joined members (and two
    invited ones), between `rounds[0]` and `rounds[1]` quote rounds (the last is
    current) and, with `solo`, a solo price per joined member in every round.
    Offers run one year (2024–2027) or three; statuses and pricing kinds vary.
    """
    vendor_ids = insert_many(
        session, Vendor, [{"name": f"{prefix} vendor {n}"} for n in range(vendors)]
    )
    resource_ids = insert_many(
        session,
        Resource,
        [
            {
                "vendor_id": vendor_ids[n % vendors],
                "name": f"{prefix} resource {n}",
                "kind": ("database", "journals", "ebooks")[n % 3],
                "counter_platform": f"{prefix} platform {n % vendors}",
                "counter_title_ids": [],
            }
            for n in range(offers)
        ],
    )
    terms = []
    for n in range(offers):
        start = 2024 + n % 4
        length = 3 if n % 5 == 0 else 1
        terms.append((start, length))
    offer_ids = insert_many(
        session,
        Offer,
        [
            {
                "resource_id": resource_ids[n],
                "title": f"{prefix} offer {n}",
                "term_start": dt.date(start, 1, 1),
                "term_end": dt.date(start + length - 1, 12, 31),
                "currency": "EUR",
                "status": "negotiating" if start >= 2027 else ("accepted", "draft")[n % 7 == 0],
                "deadline": dt.date(2026, 10, 1) + dt.timedelta(days=n),
            }
            for n, (start, length) in enumerate(terms)
        ],
    )
    deals = Deals(vendor_ids, resource_ids, offer_ids)
    round_rows, owners = [], []
    for n, offer_id in enumerate(offer_ids):
        for number in range(1, rng.randint(*rounds) + 1):
            round_rows.append(
                {
                    "offer_id": offer_id,
                    "number": number,
                    "label": f"Round {number}",
                    "pricing": _pricing(n, rng, terms[n][1]),
                }
            )
            owners.append(offer_id)
    for offer_id, round_id in zip(
        owners, insert_many(session, QuoteRound, round_rows), strict=True
    ):
        deals.rounds.setdefault(offer_id, []).append(round_id)
    offers_table = Offer.__table__
    session.execute(
        update(offers_table)
        .where(offers_table.c.id == bindparam("b_offer"))
        .values(current_round_id=bindparam("b_round")),
        [{"b_offer": o, "b_round": deals.rounds[o][-1]} for o in offer_ids],
    )
    participations, solo_prices = [], []
    for offer_id in offer_ids:
        chosen = rng.sample(list(member_ids), rng.randint(*joined) + 2)
        deals.joined[offer_id] = chosen[:-2]
        participations += [
            {
                "offer_id": offer_id,
                "member_id": m,
                "status": "joined",
                "decided_on": dt.date(2026, 5, 1),
            }
            for m in chosen[:-2]
        ] + [{"offer_id": offer_id, "member_id": m, "status": "invited"} for m in chosen[-2:]]
        if solo:
            for round_id in deals.rounds[offer_id]:
                solo_prices += [
                    {
                        "round_id": round_id,
                        "member_id": m,
                        "amount": Decimal(rng.randint(2_000, 60_000)),
                        "source": "typed",
                        "overridden": False,
                    }
                    for m in chosen[:-2]
                ]
    session.execute(insert(Participation), participations)
    if solo_prices:
        session.execute(insert(SoloPrice), solo_prices)
    return deals


def add_users(
    session: Session, count: int, password_hash: str, *, member_ids: Sequence[int] = ()
) -> list[int]:
    """Insert `count` negotiators, then a finance user for each of `member_ids`."""
    rows = [
        {"email": f"bulk{n}@example.org", "password_hash": password_hash, "role": "negotiator"}
        for n in range(count)
    ] + [
        {
            "email": f"finance{n}@bulk.example.org",
            "password_hash": password_hash,
            "role": "member",
            "member_id": m,
        }
        for n, m in enumerate(member_ids)
    ]
    return insert_many(session, User, [{**row, "active": True} for row in rows])


def add_audit_events(
    session: Session, count: int, *, user_id: int, object_type: str, object_ids: Sequence[int]
) -> None:
    """Insert `count` audit events of changes to the given objects, in turn."""
    session.execute(
        insert(AuditEvent),
        [
            {
                "at": utcnow(),
                "user_id": user_id,
                "action": f"{object_type.lower()}.update",
                "object_type": object_type,
                "object_id": object_ids[n % len(object_ids)],
                "summary": f"Bulk change {n}",
                "before": {"title": "a", "notes": None},
                "after": {"title": "b", "notes": "Agreed on the phone"},
            }
            for n in range(count)
        ],
    )
