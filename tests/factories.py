"""`create_<model>(session, **overrides)` helpers and the two-member `World` fixture data."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from costshare.auth.models import User
from costshare.auth.services import create_token
from costshare.members.models import Member, MemberFact
from costshare.offers.models import Offer, Participation, QuoteRound, Resource, SoloPrice, Vendor

PASSWORD = "correct horse battery"
#: Hashed once, cheaply: the tests check logins, not the strength of the hash.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def create_member(session: Session, **overrides: Any) -> Member:
    n = _n()
    values = {
        "code": f"M{n:04d}",
        "name": f"Member Library {n}",
        "sector": "university",
        "billing_currency": "EUR",
        "billing_address": f"{n} Library Road\nCity",
        "tax_id": f"TAX-{n:05d}",
        "finance_contact_email": f"finance{n}@example.org",
    }
    facts = overrides.pop("facts", {})
    values.update(overrides)
    member = Member(**values)
    session.add(member)
    for (year, name), value in facts.items():
        member.facts.append(MemberFact(year=year, name=name, value=Decimal(str(value))))
    session.flush()
    return member


def create_user(
    session: Session, role: str = "coordinator", member: Member | None = None, **overrides: Any
) -> User:
    n = _n()
    values = {
        "email": f"user{n}@example.org",
        "name": f"User {n}",
        "password_hash": PASSWORD_HASH,
        "role": role,
        "member": member,
    }
    values.update(overrides)
    user = User(**values)
    session.add(user)
    session.flush()
    return user


def create_vendor(session: Session, **overrides: Any) -> Vendor:
    n = _n()
    vendor = Vendor(**{"name": f"Vendor {n}", **overrides})
    session.add(vendor)
    session.flush()
    return vendor


def create_resource(session: Session, vendor: Vendor | None = None, **overrides: Any) -> Resource:
    n = _n()
    resource = Resource(
        **{
            "vendor": vendor or create_vendor(session),
            "name": f"Resource {n}",
            "kind": "database",
            "counter_platform": f"Platform {n}",
            **overrides,
        }
    )
    session.add(resource)
    session.flush()
    return resource


def create_offer(
    session: Session,
    resource: Resource | None = None,
    pricing: dict[str, Any] | None = None,
    joined: list[Member] = (),
    solo: dict[Member, Decimal] | None = None,
    **overrides: Any,
) -> Offer:
    """Create an offer with one current round and the given members joined."""
    n = _n()
    values = {
        "resource": resource or create_resource(session),
        "title": f"Offer {n}",
        "term_start": dt.date(2027, 1, 1),
        "term_end": dt.date(2027, 12, 31),
        "currency": "EUR",
        "status": "negotiating",
    }
    values.update(overrides)
    offer = Offer(**values)
    session.add(offer)
    quote = QuoteRound(number=1, label="First quote", pricing=pricing or {"total": "10000.00"})
    offer.rounds.append(quote)
    for member, amount in (solo or {}).items():
        quote.solo_prices.append(SoloPrice(member=member, amount=Decimal(amount)))
    for member in joined:
        offer.participations.append(
            Participation(member=member, status="joined", decided_on=dt.date(2026, 10, 1))
        )
    session.flush()
    offer.current_round = quote
    session.flush()
    return offer


@dataclass
class World:
    """Member A (`own`, whose user logs in) and member B (`other`), with what belongs to each."""

    own: Member
    other: Member
    coordinator: User
    negotiator: User
    member_user: User
    other_member_user: User
    own_offer: Offer
    other_offer: Offer
    tokens: dict[str, str] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)


def build_world(session: Session) -> World:
    facts = {(2025, "fte"): 12000, (2026, "fte"): 12500, (2026, "budget"): 400000}
    own = create_member(session, code="OWN", name="Own University Library", facts=facts)
    other = create_member(session, code="OTHER", name="Other College Library", facts=facts)
    coordinator = create_user(session, "coordinator", email="coordinator@example.org")
    negotiator = create_user(session, "negotiator", email="negotiator@example.org")
    member_user = create_user(session, "member", member=own, email="finance@own.example.org")
    other_member_user = create_user(
        session, "member", member=other, email="finance@other.example.org"
    )
    resource = create_resource(session)
    own_offer = create_offer(session, resource=resource, joined=[own, other], title="Shared offer")
    other_offer = create_offer(session, resource=resource, joined=[other], title="Other's offer")
    world = World(
        own, other, coordinator, negotiator, member_user, other_member_user, own_offer, other_offer
    )
    for key, user in (
        ("coordinator", coordinator),
        ("negotiator", negotiator),
        ("member", member_user),
        ("other_member", other_member_user),
    ):
        _, secret = create_token(session, user, "test")
        world.tokens[key] = secret
    session.flush()
    return world


def create_final_allocation(
    session: Session,
    offer: Offer,
    lines: dict[Member, dict[str, Any]],
    *,
    term_year: int = 1,
    year: int | None = None,
    formula_name: str = "Test formula",
    formula: dict[str, Any] | None = None,
    surcharge: str | None = None,
    subsidy: str = "0",
) -> Any:
    """Create a FINAL allocation with hand-computed lines (no engine involved).

    `lines` maps a member to its figures as strings: `amount` (required; the
    surcharge part included), and optionally `surcharge`, `solo_price`,
    `bound` and `explanation` (parts adding up to `amount`; default: one
    `equal` part). `total` is the sum of the amounts, `price` what the vendor
    charges (total − surcharge amount + subsidy), savings = solo − amount.
    """
    from costshare.allocations.models import Allocation, AllocationLine
    from costshare.db import utcnow

    formula = formula or {"components": [{"kind": "equal", "weight": 1}]}
    total = sum((Decimal(v["amount"]) for v in lines.values()), Decimal(0))
    surcharge_amount = sum((Decimal(v.get("surcharge", "0")) for v in lines.values()), Decimal(0))
    inputs: dict[str, Any] = {"currency": offer.currency, "formula": formula, "members": []}
    if surcharge is not None:
        inputs["surcharge"] = surcharge
    if Decimal(subsidy):
        inputs["subsidy"] = subsidy
    allocation = Allocation(
        offer=offer,
        round=offer.current_round,
        term_year=term_year,
        year=year or offer.term_start.year + term_year - 1,
        formula_name=formula_name,
        status="final",
        currency=offer.currency,
        inputs=inputs,
        result={},
        price=total - surcharge_amount + Decimal(subsidy),
        surcharge_amount=surcharge_amount,
        subsidy=Decimal(subsidy),
        total=total,
        computed_at=utcnow(),
        finalized_at=utcnow(),
    )
    for member, figures in sorted(lines.items(), key=lambda item: item[0].code):
        amount = Decimal(figures["amount"])
        solo = Decimal(figures["solo_price"]) if figures.get("solo_price") else None
        savings = solo - amount if solo is not None else None
        inputs["members"].append(
            {"code": member.code, "name": member.name, "attributes": figures.get("attributes", {})}
        )
        allocation.lines.append(
            AllocationLine(
                member=member,
                code=member.code,
                name=member.name,
                amount=amount,
                raw=amount,
                surcharge=Decimal(figures.get("surcharge", "0")),
                bound=figures.get("bound"),
                solo_price=solo,
                savings=savings,
                savings_pct=(savings / solo).quantize(Decimal("0.0001")) if solo else None,
                explanation=figures.get("explanation", {"equal": figures["amount"]}),
                attributes=figures.get("attributes", {}),
            )
        )
    session.add(allocation)
    session.flush()
    return allocation


class QueryCounter:
    """Count the SQL statements an app runs while the block is open (query-count tests)."""

    def __init__(self, app: Any) -> None:
        from costshare.db import get_engine

        self.engine = get_engine(app)
        self.count = 0

    def _before(self, *args: Any) -> None:
        self.count += 1

    def __enter__(self) -> QueryCounter:
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc: Any) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._before)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    """Return an XLSX workbook whose first sheet holds `rows` (import tests)."""
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
