"""Offer use cases: offers, quote rounds checked by the engine, solo prices, participation.

Every change writes an audit event; changes to participation and solo prices
are recorded on the offer (so its History tab shows them) and bump the
offer's or the round's version, so a form opened before them is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from costshare.allocations.inputs import PRICE_KEYS, build_scenario, latest_facts, participants
from costshare.audit.models import AuditEvent
from costshare.audit.services import record, snapshot
from costshare.db import utcnow
from costshare.engine import AllocationError, allocate
from costshare.errors import ServiceError, ensure_version
from costshare.members.fields import (
    MAX_AMOUNT,
    check_number,
    clean_text,
    parse_number,
    plain_number,
)
from costshare.members.importing import ImportRefused, Problem
from costshare.members.models import Member
from costshare.members.services import apply_changes
from costshare.members.tabular import header_key
from costshare.offers.models import (
    PARTICIPATION_STATUSES,
    Offer,
    Participation,
    QuoteRound,
    Resource,
    SoloPrice,
)

#: A number written as text, as the engine reads one (spec section 1).
DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
OFFER_FIELDS = (
    "resource_id",
    "title",
    "term_start",
    "term_end",
    "currency",
    "status",
    "deadline",
    "notes",
)
ROUND_FIELDS = ("label", "received_on", "notes", "pricing")
#: The formula the checks run a round with: an equal split, which needs no member fact.
EQUAL_SPLIT = {"formula": {"components": [{"kind": "equal", "weight": 1}]}}
SOLO_AMOUNT_COLUMNS = ("amount", "solo_price", "price")


def load_offer(session: Session, offer_id: int) -> Offer | None:
    """Return the offer with its resource, vendor, rounds and participants loaded."""
    return session.get(
        Offer,
        offer_id,
        options=[
            # Many-to-one in the same query (joined), collections one query each:
            # a fixed number of queries however many members joined.
            joinedload(Offer.resource).joinedload(Resource.vendor),
            joinedload(Offer.current_round),
            selectinload(Offer.rounds),
            selectinload(Offer.participations).joinedload(Participation.member),
        ],
    )


def _touch(obj: Offer | QuoteRound) -> None:
    """Bump the version of `obj` (forms opened before this change are refused)."""
    obj.updated_at = utcnow()


def _check_resource(session: Session, resource_id: int) -> None:
    if session.get(Resource, resource_id) is None:
        raise ServiceError("There is no such resource.", field="resource_id")


def create_offer(session: Session, values: dict[str, Any]) -> Offer:
    _check_resource(session, values["resource_id"])
    offer = Offer(**{k: values.get(k) for k in OFFER_FIELDS})
    session.add(offer)
    session.flush()
    record(session, "offer.create", offer, f"Added offer {offer.title}", after=snapshot(offer))
    return offer


def update_offer(
    session: Session, offer: Offer, values: dict[str, Any], version: int | None
) -> bool:
    ensure_version(offer, version, "offer")
    if "resource_id" in values and values["resource_id"] != offer.resource_id:
        _check_resource(session, values["resource_id"])
    start = values.get("term_start", offer.term_start)
    end = values.get("term_end", offer.term_end)
    if start and end and end <= start:
        raise ServiceError("The term must end after it starts.", field="term_end")
    return apply_changes(
        session, offer, values, OFFER_FIELDS, "offer.update", f"Edited offer {offer.title}"
    )


# --- quote rounds ------------------------------------------------------------------------


def clean_pricing(pricing: Any) -> dict[str, Any]:
    """Return a pricing as stored: only the engine's price keys, numbers as exact text."""
    if not isinstance(pricing, dict):
        raise ServiceError("The pricing must be an object.", field="pricing")
    unknown = sorted(set(pricing) - set(PRICE_KEYS))
    if unknown:
        raise ServiceError(
            f"Unknown pricing key(s): {', '.join(unknown)} (use {', '.join(PRICE_KEYS)}).",
            field=unknown[0],
        )

    def plain(value: Any, path: str) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, Decimal | int | float):
            number = value if isinstance(value, Decimal) else Decimal(str(value))
            _check_magnitude(number, path)
            return format(number, "f") if isinstance(value, Decimal | float) else value
        if isinstance(value, str):
            text = clean_text(value)
            if DECIMAL_TEXT.fullmatch(text):
                _check_magnitude(Decimal(text), path)
            return text
        if isinstance(value, dict):
            return {
                clean_text(str(k)): plain(v, f"{path}.{k}" if path else str(k))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    return plain(pricing, "")


def _check_magnitude(number: Decimal, path: str) -> None:
    """Refuse numbers no price can have (the columns hold less than 10^14)."""
    if not number.is_finite() or abs(number) >= MAX_AMOUNT:
        raise ServiceError(
            f"{number} is too large for a price (at most {plain_number(MAX_AMOUNT - 1)}).",
            field=path,
        )


def _probe_member(pricing: dict[str, Any]) -> dict[str, Any]:
    """Return a stand-in member that has every attribute the pricing reads.

    It lets the engine check a round's shape before anyone has joined.
    """
    attributes: dict[str, Any] = {"solo_price": "0"}
    inner = pricing.get("pricing") if isinstance(pricing.get("pricing"), dict) else {}
    for price_list in (inner.get("price_list"), pricing.get("price_list")):
        if isinstance(price_list, dict) and isinstance(price_list.get("attribute"), str):
            tiers = price_list.get("tiers") if isinstance(price_list.get("tiers"), list) else []
            lows = [t.get("min") for t in tiers if isinstance(t, dict)]
            lows = [low for low in lows if isinstance(low, int | str | Decimal)]
            attributes[price_list["attribute"]] = (
                min(lows, key=lambda v: Decimal(str(v))) if lows else 0
            )
    if isinstance(inner.get("attribute"), str) and inner["attribute"] not in attributes:
        table = inner.get("price_table")
        attributes[inner["attribute"]] = (
            next(iter(table)) if isinstance(table, dict) and table else 0
        )
    return {"code": "CHECK", "attributes": attributes}


def _term_problem(offer: Offer, pricing: dict[str, Any]) -> ServiceError | None:
    term = pricing.get("term")
    if not isinstance(term, dict):
        return None
    years = offer.term_years
    if isinstance(term.get("totals"), list) and len(term["totals"]) != years:
        return ServiceError(
            f"The offer's term has {years} year(s): give {years} yearly total(s), "
            f"not {len(term['totals'])}.",
            field="term.totals",
        )
    if "years" in term and str(term["years"]) != str(years) and years > 1:
        return ServiceError(
            f"The offer's term has {years} years, not {term['years']}.", field="term.years"
        )
    return None


def check_round(session: Session, offer: Offer, quote: QuoteRound) -> list[str]:
    """Run the engine on the round with an equal split over the joined members.

    A fault of the round itself (a bad tier, a total off the currency's grid,
    a subsidy above the price) raises ServiceError with the engine's dotted
    field; a problem of member data (a member lacks a fact or a solo price)
    does not stop the round being saved and is returned as a warning.
    """
    problem = _term_problem(offer, quote.pricing)
    if problem is not None:
        raise problem
    joined = participants(offer)
    if joined:
        scenario = build_scenario(session, offer, EQUAL_SPLIT, quote=quote).scenario
    else:
        scenario = {
            "currency": offer.currency,
            "members": [_probe_member(quote.pricing)],
            **{k: v for k, v in quote.pricing.items() if k in PRICE_KEYS},
            **EQUAL_SPLIT,
        }
        if offer.term_years == 1:
            scenario.pop("term", None)
    try:
        allocate(scenario)
    except AllocationError as error:
        if error.members and joined:
            return [error.message]
        raise ServiceError(error.message, field=error.field) from error
    except ArithmeticError as error:
        raise ServiceError(
            "The engine cannot compute this pricing: its numbers are out of range.",
            field="pricing",
        ) from error
    return []


def add_round(
    session: Session, offer: Offer, values: dict[str, Any], make_current: bool
) -> tuple[QuoteRound, list[str]]:
    """Add the next quote round (solo prices carried over from the current one)."""
    number = (
        session.scalar(select(func.max(QuoteRound.number)).where(QuoteRound.offer_id == offer.id))
        or 0
    ) + 1
    quote = QuoteRound(
        offer=offer,
        number=number,
        label=values.get("label"),
        received_on=values.get("received_on"),
        notes=values.get("notes"),
        pricing=clean_pricing(values.get("pricing", {})),
    )
    session.add(quote)
    previous = offer.current_round
    if previous is not None:
        for price in session.scalars(select(SoloPrice).where(SoloPrice.round_id == previous.id)):
            quote.solo_prices.append(
                SoloPrice(
                    member_id=price.member_id,
                    amount=price.amount,
                    source=price.source,
                    overridden=price.overridden,
                )
            )
    session.flush()
    warnings = check_round(session, offer, quote)
    summary = f"Added round {number} to offer {offer.title}"
    record(session, "round.create", quote, summary, after=snapshot(quote))
    if make_current or offer.current_round_id is None:
        set_current(session, offer, quote, None)
    return quote, warnings


def update_round(
    session: Session, offer: Offer, quote: QuoteRound, values: dict[str, Any], version: int | None
) -> tuple[bool, list[str]]:
    ensure_version(quote, version, "quote round")
    if "pricing" in values:
        values = {**values, "pricing": clean_pricing(values["pricing"])}
    changed = apply_changes(
        session,
        quote,
        values,
        ROUND_FIELDS,
        "round.update",
        f"Edited round {quote.number} of offer {offer.title}",
    )
    return changed, check_round(session, offer, quote)


def set_current(session: Session, offer: Offer, quote: QuoteRound, version: int | None) -> None:
    """Make `quote` the round allocations use; earlier rounds stay for comparison."""
    ensure_version(offer, version, "offer")
    if quote.offer_id != offer.id:
        raise ServiceError("This round belongs to another offer.")
    if offer.current_round_id == quote.id:
        return
    before = {"current_round": offer.current_round.number if offer.current_round else None}
    offer.current_round = quote
    _touch(offer)
    session.flush()
    record(
        session,
        "offer.current_round",
        offer,
        f"Made round {quote.number} current",
        before,
        {"current_round": quote.number},
    )


# --- solo prices ---------------------------------------------------------------------------


@dataclass
class SoloSaved:
    added: int = 0
    changed: int = 0
    removed: int = 0

    @property
    def count(self) -> int:
        return self.added + self.changed + self.removed


def save_solo_prices(
    session: Session,
    offer: Offer,
    quote: QuoteRound,
    amounts: dict[int, Decimal | None],
    source: str = "typed",
) -> SoloSaved:
    """Set members' solo prices in a round; None removes one.

    A typed or imported price over one the price list computed is marked
    `overridden`, so the override stays visible and a recompute leaves it alone.
    """
    existing = {
        p.member_id: p
        for p in session.scalars(
            select(SoloPrice)
            .where(SoloPrice.round_id == quote.id)
            .options(joinedload(SoloPrice.member))
        )
    }
    unknown = set(amounts) - set(existing)
    codes = (
        dict(session.execute(select(Member.id, Member.code).where(Member.id.in_(unknown))).all())
        if unknown
        else {}
    )
    missing = sorted(unknown - set(codes))
    if missing:
        raise ServiceError("There is no member with the id " + ", ".join(map(str, missing)) + ".")
    codes.update({m: p.member.code for m, p in existing.items()})
    saved = SoloSaved()
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for member_id, amount in sorted(amounts.items()):
        price = existing.get(member_id)
        code = codes[member_id]
        if price is None:
            if amount is None:
                continue
            session.add(
                SoloPrice(round_id=quote.id, member_id=member_id, amount=amount, source=source)
            )
            saved.added += 1
            before[code] = None
        elif amount is None:
            before[code] = price.amount
            session.delete(price)
            saved.removed += 1
        elif source == "computed":
            # A recompute refreshes computed prices (it never reaches an override).
            if price.source == "computed" and price.amount == amount:
                continue
            before[code] = price.amount
            price.amount, price.source, price.overridden = amount, "computed", False
            saved.changed += 1
        else:
            if price.amount == amount:
                continue
            before[code] = price.amount
            if price.source == "computed":
                price.overridden = True
            price.amount, price.source = amount, source
            saved.changed += 1
        after[code] = amount
    if saved.count:
        _touch(quote)
        session.flush()
        record(
            session,
            "round.solo_prices",
            quote,
            f"Changed {saved.count} solo price(s) in round {quote.number} of {offer.title}",
            before,
            after,
        )
    return saved


@dataclass
class Computed:
    prices: dict[int, Decimal] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def compute_solo_prices(session: Session, offer: Offer, quote: QuoteRound) -> Computed:
    """Compute each participant's solo price with the engine from the round's price list.

    Prices typed or imported by hand are kept (they are overrides); a member
    whose facts do not allow a price is named in `problems`.
    """
    pricing = quote.pricing or {}
    inner = pricing.get("pricing") if isinstance(pricing.get("pricing"), dict) else {}
    if "price_list" in pricing:
        keys: dict[str, Any] = {"total": "0", "price_list": pricing["price_list"]}
    elif inner.get("kind") in ("per_member", "per_unit"):
        keys = {"pricing": inner}
    else:
        raise ServiceError(
            "This round has no price list or per-member pricing to compute solo prices from: "
            "add a price list in the pricing editor, or type the solo prices."
        )
    members = sorted((p.member for p in offer.participations), key=lambda m: m.code)
    if not members:
        raise ServiceError("Invite members first: solo prices are computed for the participants.")
    stored = {
        p.member_id: p
        for p in session.scalars(select(SoloPrice).where(SoloPrice.round_id == quote.id))
    }
    facts = latest_facts(session, [m.id for m in members], offer.term_start.year)
    result = Computed()
    for member in members:
        price = stored.get(member.id)
        if price is not None and price.source != "computed":
            result.kept.append(member.code)
            continue
        attributes: dict[str, Any] = {
            name: value for name, (_, value) in facts.get(member.id, {}).items()
        }
        if member.sector:
            attributes["sector"] = member.sector
        scenario = {
            "currency": offer.currency,
            "members": [{"code": member.code, "attributes": attributes}],
            **keys,
            **EQUAL_SPLIT,
        }
        try:
            line = allocate(scenario)["lines"][0]
        except AllocationError as error:
            result.problems.append(f"{member.code}: {error.message}")
            continue
        amount = line["solo_price"]
        if amount is None or check_number(amount, Decimal(0), MAX_AMOUNT - 1, 4):
            result.problems.append(f"{member.code}: the computed price {amount} cannot be stored.")
            continue
        result.prices[member.id] = amount
    return result


def read_solo_file(session: Session, rows: Iterable[tuple[int, list[str]]]) -> dict[int, Decimal]:
    """Read a solo-price file (code and amount columns); refuse it whole on any bad row."""
    problems: list[Problem] = []
    iterator = iter(rows)
    first = next(iterator, None)
    header = [header_key(c) for c in first[1]] if first else []
    amount_column = next((c for c in SOLO_AMOUNT_COLUMNS if c in header), None)
    if "code" not in header:
        problems.append(Problem(1, "code", "The first row must name a code column."))
    if amount_column is None:
        problems.append(Problem(1, "amount", "The first row must name an amount column."))
    if problems:
        raise ImportRefused(problems)
    code_at, amount_at = header.index("code"), header.index(amount_column)
    by_code = {
        code.upper(): member_id
        for member_id, code in session.execute(select(Member.id, Member.code)).all()
    }
    prices: dict[int, Decimal] = {}
    seen: dict[int, int] = {}
    for number, cells in iterator:
        if not any(cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        code, text = cells[code_at], cells[amount_at]
        member_id = by_code.get(code.upper()) if code else None
        if member_id is None:
            problems.append(
                Problem(
                    number,
                    "code",
                    f"There is no member with the code {code}."
                    if code
                    else "Give the member's code.",
                )
            )
        elif member_id in seen:
            problems.append(Problem(number, "code", f"{code} is also on row {seen[member_id]}."))
        try:
            amount = parse_number(text) if text else None
            problem = (
                "Give the amount."
                if amount is None
                else check_number(amount, Decimal(0), MAX_AMOUNT - 1, 4)
            )
        except ValueError as error:
            amount, problem = None, str(error)
        if problem:
            problems.append(Problem(number, amount_column, problem))
        if member_id is not None and member_id not in seen and amount is not None and not problem:
            seen[member_id] = number
            prices[member_id] = amount
        elif member_id is not None:
            seen.setdefault(member_id, number)
    if problems:
        raise ImportRefused(problems[:1000], max(0, len(problems) - 1000))
    if not prices:
        raise ImportRefused([Problem(None, None, "The file has no rows of prices.")])
    return prices


# --- participation ---------------------------------------------------------------------------


def _participation_label(p: Participation) -> str:
    when = p.decided_on if p.status != "invited" else p.invited_on
    return f"{p.status} {when.isoformat()}" if when else p.status


def invite(
    session: Session, offer: Offer, member_ids: Iterable[int], on: dt.date, version: int | None
) -> int:
    """Invite members to an offer; members already listed are left as they are."""
    ensure_version(offer, version, "offer")
    listed = {p.member_id for p in offer.participations}
    wanted = sorted(set(member_ids) - listed)
    members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(wanted)))}
    after = {}
    for member_id in wanted:
        member = members.get(member_id)
        if member is None:
            raise ServiceError(f"There is no member with the id {member_id}.", field="members")
        participation = Participation(member=member, status="invited", invited_on=on)
        offer.participations.append(participation)
        after[member.code] = _participation_label(participation)
    if after:
        _touch(offer)
        session.flush()
        record(
            session,
            "offer.invite",
            offer,
            f"Invited {len(after)} member(s) to {offer.title}",
            dict.fromkeys(after),
            after,
        )
    return len(after)


@dataclass(frozen=True)
class ParticipationChange:
    member_id: int
    #: "invited", "joined", "declined", or "" to remove the member from the offer.
    status: str
    invited_on: dt.date | None
    decided_on: dt.date | None


def save_participations(
    session: Session,
    offer: Offer,
    rows: Iterable[ParticipationChange],
    version: int | None,
    today: dt.date,
) -> int:
    """Record who joined or declined, and when; return how many members changed."""
    ensure_version(offer, version, "offer")
    current = {p.member_id: p for p in offer.participations}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for row in rows:
        participation = current.get(row.member_id)
        if participation is None:
            raise ServiceError(
                "This member is not listed on the offer; invite it first.", field="rows"
            )
        if row.status and row.status not in PARTICIPATION_STATUSES:
            raise ServiceError(f"Unknown status {row.status}.", field="rows")
        code = participation.member.code
        label = _participation_label(participation)
        if not row.status:
            before[code], after[code] = label, None
            offer.participations.remove(participation)
            continue
        decided = row.decided_on
        if row.status == "invited":
            decided = None
        elif decided is None:
            decided = participation.decided_on if participation.status == row.status else today
        if decided and row.invited_on and decided < row.invited_on:
            raise ServiceError(
                f"{code} cannot decide before it is invited ({row.invited_on.isoformat()}).",
                field="decided_on",
            )
        new = (row.status, row.invited_on, decided)
        if new == (participation.status, participation.invited_on, participation.decided_on):
            continue
        participation.status, participation.invited_on, participation.decided_on = new
        before[code], after[code] = label, _participation_label(participation)
    if after or before:
        _touch(offer)
        session.flush()
        joined = sum(1 for v in after.values() if v and v.startswith("joined"))
        record(
            session,
            "offer.participation",
            offer,
            f"Changed participation of {len(before)} member(s) in {offer.title}"
            + (f" ({joined} joined)" if joined else ""),
            before,
            after,
        )
    return len(before)


# --- reading ---------------------------------------------------------------------------------


@dataclass
class RoundFigures:
    """A round priced for the members who joined (year 1), or why it cannot be."""

    quote: QuoteRound
    price: Decimal | None = None
    surcharge: Decimal | None = None
    subsidy: Decimal | None = None
    total: Decimal | None = None
    solo: Decimal | None = None
    savings: Decimal | None = None
    years: list[Decimal] = field(default_factory=list)
    problem: str | None = None


def round_figures(session: Session, offer: Offer) -> list[RoundFigures]:
    """Price every round of the offer for the same joined members, to compare rounds.

    One scenario is built (a fixed number of queries); each round only swaps in
    its own price keys and solo prices.
    """
    rounds = list(offer.rounds)
    figures = [RoundFigures(q) for q in rounds]
    joined = participants(offer)
    if not rounds:
        return figures
    if not joined:
        for f in figures:
            f.problem = "No member has joined yet."
        return figures
    base = build_scenario(
        session, offer, EQUAL_SPLIT, members=joined, quote=offer.current_round or rounds[-1]
    ).scenario
    solo: dict[tuple[int, int], Decimal] = {
        (r, m): a
        for r, m, a in session.execute(
            select(SoloPrice.round_id, SoloPrice.member_id, SoloPrice.amount).where(
                SoloPrice.round_id.in_([q.id for q in rounds])
            )
        ).all()
    }
    ids = {m.code: m.id for m in joined}
    for figure in figures:
        quote = figure.quote
        members = []
        for member in base["members"]:
            attributes = {k: v for k, v in member["attributes"].items() if k != "solo_price"}
            amount = solo.get((quote.id, ids[member["code"]]))
            if amount is not None:
                attributes["solo_price"] = amount
            members.append({**member, "attributes": attributes})
        scenario = {k: v for k, v in base.items() if k not in PRICE_KEYS}
        scenario.update({k: v for k, v in (quote.pricing or {}).items() if k in PRICE_KEYS})
        scenario["members"] = members
        if offer.term_years == 1:
            scenario.pop("term", None)
        try:
            result = allocate(scenario)
        except AllocationError as error:
            figure.problem = error.message
            continue
        except ArithmeticError:
            figure.problem = "The engine cannot compute this round: its numbers are out of range."
            continue
        years = result.get("years") or [result]
        first = years[0]
        figure.price, figure.surcharge = first["price"], first["surcharge_amount"]
        figure.subsidy, figure.total = first["subsidy"], first["total"]
        figure.solo = first["totals"].get("solo_price")
        figure.savings = first["totals"].get("savings")
        figure.years = [y["total"] for y in years]
    return figures


def history_query(offer: Offer):
    """Return the audit events of an offer and of its rounds, newest first."""
    round_ids = select(QuoteRound.id).where(QuoteRound.offer_id == offer.id)
    return (
        select(AuditEvent)
        .where(
            ((AuditEvent.object_type == "Offer") & (AuditEvent.object_id == offer.id))
            | ((AuditEvent.object_type == "QuoteRound") & AuditEvent.object_id.in_(round_ids))
        )
        .options(joinedload(AuditEvent.user))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
