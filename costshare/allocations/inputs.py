"""Turn an offer, its current quote round, its members' facts and a formula into an engine scenario.

Every page that computes a split — the allocation workspace, the negotiation
what-ifs, cost per use — builds its input here, so that they all agree on
which facts, solo prices and previous shares a member brings.

Which facts: for the billed calendar year Y, each fact's most recent value in a
year ≤ Y (so a 2027 term uses 2026's FTE when 2027's is not entered yet);
`facts_year` in the result says which year each member's each fact came from.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, object_session

from costshare.allocations.models import Allocation, AllocationLine
from costshare.errors import ServiceError
from costshare.members import queries
from costshare.members.models import Member
from costshare.offers.models import Offer, Participation, QuoteRound, SoloPrice
from costshare.usage.services import UsageFigures, usage_figures

#: The round's keys that the engine reads as the price (spec/allocation.md section 1).
PRICE_KEYS = ("total", "pricing", "price_list", "term", "surcharge", "subsidy")
#: Formula keys stored with a formula that go to the scenario's top level.
FORMULA_TOP_KEYS = ("derived", "groups")
#: The formula key that says which usage a member attribute holds (`costshare.usage.services`):
#: resolved into the members' attributes, never given to the engine itself.
USAGE_KEY = "usage"
#: Keys an allocation's inputs keep beside the engine's scenario: the usage settings, and
#: what they resolved to (each member's uses, and the reports and months they came from).
#: `engine_scenario` leaves them out.
SETTING_KEYS = (USAGE_KEY, "usage_figures")

#: Sources of extra numeric attributes (e.g. usage), by attribute name:
#: (session, offer, members, billed year) → {member_id: value}.
AttributeSource = Callable[[Session, Offer, list[Member], int], dict[int, Decimal]]
ATTRIBUTE_SOURCES: dict[str, AttributeSource] = {}


@dataclass
class ScenarioInput:
    """An engine scenario and where its figures came from."""

    scenario: dict[str, Any]
    offer: Offer
    round: QuoteRound
    term_year: int
    year: int
    members: list[Member]
    #: member code → fact name → the calendar year its value was taken from.
    facts_year: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The usage a formula's `usage` block resolved to (None: the formula reads no usage).
    usage: UsageFigures | None = None

    def stored_inputs(self) -> dict[str, Any]:
        """Return what an allocation keeps: the scenario, and the usage settings beside it."""
        inputs = dict(self.scenario)
        if self.usage is not None:
            inputs[USAGE_KEY] = self.usage.spec
            inputs["usage_figures"] = self.usage.as_json(self.members)
        return inputs


def engine_scenario(inputs: dict[str, Any]) -> dict[str, Any]:
    """Return an allocation's stored inputs as the engine took them (without the settings)."""
    return {key: value for key, value in inputs.items() if key not in SETTING_KEYS}


def resolve_usage(
    session: Session, offer: Offer, members: list[Member], definition: Any, year: int
) -> UsageFigures | None:
    """Return the usage a definition's `usage` block asks for (None without one)."""
    if not isinstance(definition, dict) or USAGE_KEY not in definition:
        return None
    return usage_figures(session, offer, members, definition[USAGE_KEY], year)


def billed_year(offer: Offer, term_year: int) -> int:
    """Return the calendar year billed for `term_year` (1 = the term's first year)."""
    if not 1 <= term_year <= offer.term_years:
        raise ServiceError(
            f"This offer's term has {offer.term_years} year(s); there is no year {term_year}.",
            field="term_year",
        )
    return offer.term_start.year + term_year - 1


def participants(offer: Offer) -> list[Member]:
    """Return the members that joined the offer, by code (one query, however many)."""
    session = object_session(offer)
    if session is None or offer.id is None:
        return sorted(
            (p.member for p in offer.participations if p.status == "joined"), key=lambda m: m.code
        )
    return list(
        session.scalars(
            select(Member)
            .join(Participation, Participation.member_id == Member.id)
            .where(Participation.offer_id == offer.id, Participation.status == "joined")
            .order_by(Member.code)
        )
    )


def latest_facts(
    session: Session, member_ids: Iterable[int], year: int
) -> dict[int, dict[str, tuple[int, Decimal]]]:
    """Return each member's facts as of `year`: name → (year taken from, value)."""
    return queries.latest_facts(session, member_ids, year=year)


def solo_prices(session: Session, round_id: int) -> dict[int, Decimal]:
    rows = session.execute(
        select(SoloPrice.member_id, SoloPrice.amount).where(SoloPrice.round_id == round_id)
    )
    return dict(rows.all())


def previous_shares(
    session: Session, offer: Offer, year: int, member_ids: list[int]
) -> dict[int, Decimal]:
    """Return what each member paid for the same resource in last year's final allocation."""
    if not member_ids:
        return {}
    rows = session.execute(
        _previous_lines(year)
        .with_only_columns(AllocationLine.member_id, AllocationLine.amount)
        .where(
            Offer.resource_id == offer.resource_id,
            Allocation.currency == offer.currency,
            AllocationLine.member_id.in_(member_ids),
        )
    )
    return dict(rows.all())


def _previous_lines(year: int) -> Select:
    """Select the lines of the final allocations billing the year before `year`."""
    return (
        select(AllocationLine)
        .join(Allocation, Allocation.id == AllocationLine.allocation_id)
        .join(Offer, Offer.id == Allocation.offer_id)
        .where(Allocation.status == "final", Allocation.year == year - 1)
        .order_by(AllocationLine.id)
    )


@dataclass
class Known:
    """Inputs read at once for many offers that bill the same calendar year.

    `build_scenario(…, known=…)` takes its facts, solo prices and previous shares
    from here instead of reading them per offer (the negotiation year overview
    computes every offer of a year in a fixed number of queries).
    """

    year: int
    #: member id → fact name → (year taken from, value), as `latest_facts` gives them.
    facts: dict[int, dict[str, tuple[int, Decimal]]]
    #: round id → member id → solo price.
    solo: dict[int, dict[int, Decimal]]
    #: (resource id, currency) → member id → last year's final share.
    previous: dict[tuple[int, str], dict[int, Decimal]]
    _attributes: dict[int, tuple[dict[str, Any], dict[str, int]]] = field(default_factory=dict)

    def fact_attributes(self, member_id: int) -> tuple[dict[str, Any], dict[str, int]]:
        """Return `fact_attributes` of a member (worked out once, however many offers ask)."""
        if member_id not in self._attributes:
            self._attributes[member_id] = fact_attributes(self.facts.get(member_id, {}))
        attributes, taken = self._attributes[member_id]
        return dict(attributes), dict(taken)


def read_known(session: Session, offers: list[Offer], year: int) -> Known:
    """Read the facts, solo prices and previous shares of `offers` billing `year` (3 queries)."""
    member_ids = {p.member_id for o in offers for p in o.participations if p.status == "joined"}
    round_ids = [o.current_round_id for o in offers if o.current_round_id is not None]
    solo: dict[int, dict[int, Decimal]] = defaultdict(dict)
    if round_ids:
        rows = session.execute(
            select(SoloPrice.round_id, SoloPrice.member_id, SoloPrice.amount).where(
                SoloPrice.round_id.in_(round_ids)
            )
        )
        for round_id, member_id, amount in rows:
            solo[round_id][member_id] = amount
    previous: dict[tuple[int, str], dict[int, Decimal]] = defaultdict(dict)
    resource_ids = {o.resource_id for o in offers}
    if resource_ids and member_ids:
        rows = session.execute(
            _previous_lines(year)
            .with_only_columns(
                Offer.resource_id,
                Allocation.currency,
                AllocationLine.member_id,
                AllocationLine.amount,
            )
            .where(Offer.resource_id.in_(resource_ids))
        )
        for resource_id, currency, member_id, amount in rows:
            previous[(resource_id, currency)][member_id] = amount
    return Known(year, latest_facts(session, member_ids, year), solo, previous)


def fact_attributes(
    facts: dict[str, tuple[int, Decimal]],
) -> tuple[dict[str, Any], dict[str, int]]:
    """Return a member's facts as scenario attributes, and the year each was taken from."""
    attributes: dict[str, Any] = {}
    taken: dict[str, int] = {}
    for name, (fact_year, value) in sorted(facts.items()):
        attributes[name] = _number(value)
        taken[name] = fact_year
    return attributes, taken


def _number(value: Decimal) -> Decimal:
    """Drop trailing zeros of a stored Numeric (2000.000000 → 2000) for readable snapshots."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def build_scenario(
    session: Session,
    offer: Offer,
    definition: dict[str, Any],
    *,
    term_year: int = 1,
    members: list[Member] | None = None,
    quote: QuoteRound | None = None,
    pricing: dict[str, Any] | None = None,
    known: Known | None = None,
) -> ScenarioInput:
    """Build the engine scenario for `offer`'s `term_year` under a formula `definition`.

    `definition` holds `formula` and optionally `derived`, `groups` and `usage` (a
    saved Formula's definition; `usage` becomes a member attribute, see
    `resolve_usage`). `members` defaults to those who joined; `quote` to
    the current round; `pricing` replaces the round's price keys (what-ifs).
    For a multi-year term the scenario keeps the `term`: the caller picks year
    `term_year` from the engine's `years` (see `result_for_year`). `known`
    holds inputs already read for the billed year (see `read_known`).
    """
    quote = quote or offer.current_round
    if quote is None:
        raise ServiceError("This offer has no quote round yet: add the vendor's quote first.")
    members = sorted(members if members is not None else participants(offer), key=lambda m: m.code)
    if not members:
        raise ServiceError("No member has joined this offer yet.", field="members")
    year = billed_year(offer, term_year)
    ids = [m.id for m in members]
    previous: dict[int, Decimal] = {}
    if known is not None and known.year == year:
        facts = known.facts
        solo = known.solo.get(quote.id, {})
        if term_year == 1:
            previous = known.previous.get((offer.resource_id, offer.currency), {})
    else:
        facts = latest_facts(session, ids, year)
        solo = solo_prices(session, quote.id)
        if term_year == 1:
            previous = previous_shares(session, offer, year, ids)
    extra = {
        name: source(session, offer, members, year) for name, source in ATTRIBUTE_SOURCES.items()
    }
    usage = resolve_usage(session, offer, members, definition, year)
    if usage is not None:
        extra[usage.attribute] = usage.values(members)

    scenario_members = []
    facts_year: dict[str, dict[str, int]] = {}
    for member in members:
        if known is not None and facts is known.facts:
            attributes, taken = known.fact_attributes(member.id)
        else:
            attributes, taken = fact_attributes(facts.get(member.id, {}))
        if member.sector:
            attributes["sector"] = member.sector
        for name, values in extra.items():
            if member.id in values:
                attributes[name] = values[member.id]
                taken.pop(name, None)  # not a fact (of some year): usage, say
        if member.id in solo:
            attributes["solo_price"] = solo[member.id]
        if member.id in previous:
            attributes["previous_share"] = previous[member.id]
        scenario_members.append(
            {"code": member.code, "name": member.name, "attributes": attributes}
        )
        facts_year[member.code] = taken

    price = dict(pricing if pricing is not None else quote.pricing or {})
    scenario: dict[str, Any] = {"currency": offer.currency, "members": scenario_members}
    for key in PRICE_KEYS:
        if key in price:
            scenario[key] = price[key]
    if offer.term_years == 1:
        scenario.pop("term", None)
    scenario["formula"] = definition.get("formula", {})
    for key in FORMULA_TOP_KEYS:
        if key in definition:
            scenario[key] = definition[key]
    return ScenarioInput(scenario, offer, quote, term_year, year, members, facts_year, usage)


def result_for_year(result: dict[str, Any], term_year: int) -> dict[str, Any]:
    """Return the engine result of one term year (the result itself when there is no term)."""
    if "years" in result:
        return result["years"][term_year - 1]
    return result


def _anniversary(start: dt.date, years: int) -> dt.date:
    """Return `start` moved on by `years`; 29 February becomes 28 February in other years."""
    year = start.year + years
    if (start.month, start.day) == (2, 29) and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return start.replace(year=year)


def term_label(offer: Offer, term_year: int) -> str:
    """Return the dates a term year covers, e.g. '2027-01-01 – 2027-12-31'."""
    start = _anniversary(offer.term_start, term_year - 1)
    if term_year == offer.term_years:
        end = offer.term_end
    else:
        end = _anniversary(offer.term_start, term_year) - dt.timedelta(days=1)
    return f"{start.isoformat()} – {end.isoformat()}"
