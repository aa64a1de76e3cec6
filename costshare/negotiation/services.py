"""The negotiation workspace: solo vs joint, what-if participation, fairness, years, rounds.

`workspace(session, context, state)` computes everything the Negotiation page
shows for one offer under a what-if `state` (who is in, which formula, and
optionally another uplift or phase-in limit). It never writes: a what-if
never changes the offer. Saved what-ifs are `Scenario`s (`save_scenario`).

The engine does the arithmetic (`build_scenario` → `allocate`); this module
picks the inputs, compares the results and runs the core check
(`costshare.negotiation.core`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from costshare.allocations.inputs import PRICE_KEYS, ScenarioInput, build_scenario, solo_prices
from costshare.allocations.models import Allocation
from costshare.allocations.services import definition_of
from costshare.audit.services import record, snapshot
from costshare.auth.models import User
from costshare.db import today
from costshare.engine import (
    AllocationError,
    allocate,
    currency_unit,
    participation_tier,
    price_of,
)
from costshare.errors import ServiceError
from costshare.formulas.services import choices as formula_choices
from costshare.formulas.services import computes_solo_prices
from costshare.members.fields import clean_text
from costshare.members.models import Member
from costshare.negotiation.core import CoreCheck, core_check
from costshare.offers.models import Offer, Participation, QuoteRound, Resource, Scenario
from costshare.usage import figures
from costshare.usage.models import UsageItem, UsageRecord

#: Pricing kinds whose price for a group depends only on its size and its members' own prices.
CORE_KINDS = ("list_discount", "per_member", "per_unit")
#: Pricing kinds with participation-discount tiers.
TIER_KINDS = ("list_discount", "per_member")
#: Split methods offered beside the saved formulas and presets.
METHODS = {
    "method:proportional_savings": (
        "Proportional savings: every member saves the same share",
        {"formula": {"method": "proportional_savings"}},
    ),
    "method:equal_savings": (
        "Equal savings: every member saves the same amount",
        {"formula": {"method": "equal_savings"}},
    ),
}
ALLOCATION_KEY = "allocation"
NAME_MAX = 255
NOTE_MAX = 5000
#: Accepted what-if ranges (fractions): an uplift from −50 % to +100 %, a phase-in limit to 100 %.
UPLIFT_RANGE = (Decimal("-0.5"), Decimal(1))
MAX_CHANGE_RANGE = (Decimal(0), Decimal(1))


# --- What the user can choose -----------------------------------------------------------


@dataclass(frozen=True)
class FormulaChoice:
    key: str
    label: str
    group: str
    definition: dict[str, Any]


@dataclass
class Context:
    """An offer and what a what-if on it can choose from (read once per request)."""

    offer: Offer
    #: Every member listed on the offer (joined, invited, declined), by code.
    participations: list[Participation]
    choices: list[FormulaChoice]
    default_formula: str
    #: The allocation whose formula is the default, if the offer has one (final before draft).
    allocation: Allocation | None
    #: Codes of the listed members without a solo price in the current round.
    unpriced: frozenset[str] = frozenset()

    @property
    def needs_solo_prices(self) -> bool:
        """Tell whether the vendor's price is the members' list prices (so each needs one)."""
        return self.pricing_kind == "list_discount" and "price_list" not in self.pricing

    @cached_property
    def joined(self) -> list[Member]:
        return [p.member for p in self.participations if p.status == "joined"]

    @cached_property
    def joined_codes(self) -> tuple[str, ...]:
        return tuple(m.code for m in self.joined)

    @cached_property
    def members_by_code(self) -> dict[str, Member]:
        return {p.member.code: p.member for p in self.participations}

    @property
    def pricing(self) -> dict[str, Any]:
        quote = self.offer.current_round
        return dict(quote.pricing or {}) if quote is not None else {}

    @property
    def pricing_kind(self) -> str | None:
        pricing = self.pricing.get("pricing")
        return pricing.get("kind") if isinstance(pricing, dict) else None

    @property
    def uplift(self) -> Decimal | None:
        """The current round's yearly uplift, when the term is priced by one."""
        term = self.pricing.get("term")
        if self.offer.term_years > 1 and isinstance(term, dict) and "uplift" in term:
            return _decimal(term["uplift"])
        return None

    def choice(self, key: str | None) -> FormulaChoice:
        wanted = key or self.default_formula
        return next(c for c in self.choices if c.key == wanted)


def context(
    session: Session,
    offer: Offer,
    *,
    saved: list[FormulaChoice] | None = None,
    allocation: Allocation | bool | None = False,
    solo: Mapping[int, Decimal] | None = None,
) -> Context:
    """Return what a what-if on `offer` can choose from.

    `saved` (the saved formulas and presets), `allocation` and `solo` (the
    current round's solo prices by member id) may be passed in when one
    request builds contexts for many offers.
    """
    participations = sorted(offer.participations, key=lambda p: p.member.code)
    if allocation is False:
        allocation = default_allocation(session, offer.id)
    choices: list[FormulaChoice] = []
    if allocation is not None:
        label = f"The offer's {allocation.status} allocation: {allocation.formula_name}"
        choices.append(
            FormulaChoice(ALLOCATION_KEY, label, "This offer", definition_of(allocation.inputs))
        )
    for key, (label, definition) in METHODS.items():
        choices.append(FormulaChoice(key, label, "Savings methods", definition))
    choices.extend(saved if saved is not None else saved_choices(session))
    unpriced = _without_solo_price(session, offer, participations, solo)
    if allocation is not None:
        default = ALLOCATION_KEY
    elif not any(p.member.code in unpriced for p in participations if p.status == "joined"):
        default = "method:proportional_savings"
    else:
        default = "preset:equal"
    return Context(offer, participations, choices, default, allocation, unpriced)


def saved_choices(session: Session) -> list[FormulaChoice]:
    """Return the consortium's saved formulas and the presets, as choices."""
    return [
        FormulaChoice(
            c.key,
            c.name,
            "Saved formulas" if c.key.startswith("formula:") else "Presets",
            c.definition,
        )
        for c in formula_choices(session)
    ]


def default_allocation(session: Session, offer_id: int) -> Allocation | None:
    """Return the offer's first-year allocation: the final one, else the draft."""
    found = list(
        session.scalars(
            select(Allocation).where(Allocation.offer_id == offer_id, Allocation.term_year == 1)
        )
    )
    return min(found, key=lambda a: a.status != "final", default=None)


def _without_solo_price(
    session: Session,
    offer: Offer,
    participations: list[Participation],
    solo: Mapping[int, Decimal] | None = None,
) -> frozenset[str]:
    """Return the codes of the listed members with no solo price in the current round.

    Members whose solo price the pricing computes (per member, per unit, a price
    list) always have one.
    """
    quote = offer.current_round
    if quote is None:
        return frozenset(p.member.code for p in participations)
    if computes_solo_prices(quote.pricing or {}):
        return frozenset()
    known = solo if solo is not None else solo_prices(session, quote.id)
    return frozenset(p.member.code for p in participations if p.member_id not in known)


class NotOnOffer(ServiceError):
    """The what-if names a member or a formula the offer does not have (404 in the API)."""

    status = 404


class DoesNotApply(ServiceError):
    """The what-if asks what the offer's own figures cannot give (409 in the API)."""

    status = 409


@dataclass(frozen=True)
class WhatIf:
    """A what-if: who is in, which formula, and optionally another uplift or phase-in limit."""

    #: The member codes in the deal; None means those who joined.
    members: tuple[str, ...] | None = None
    #: A formula choice key; None means the default.
    formula: str | None = None
    #: The yearly uplift (a fraction) instead of the round's.
    uplift: Decimal | None = None
    #: The phase-in limit `max_change` (a fraction) instead of the formula's.
    max_change: Decimal | None = None

    def codes(self, ctx: Context) -> tuple[str, ...]:
        return self.members if self.members is not None else ctx.joined_codes

    def is_baseline(self, ctx: Context) -> bool:
        """Tell whether the members are those who joined."""
        return set(self.codes(ctx)) == set(ctx.joined_codes)

    def data(self) -> dict[str, Any]:
        """Return the what-if as JSON data (a Scenario's `data`, the API's shape)."""
        return {
            "members": list(self.members) if self.members is not None else None,
            "formula": self.formula,
            "uplift": str(self.uplift) if self.uplift is not None else None,
            "max_change": str(self.max_change) if self.max_change is not None else None,
        }


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _fraction(value: Any, what: str, field: str, bounds: tuple[Decimal, Decimal]) -> Decimal | None:
    if value is None or value == "":
        return None
    number = _decimal(value)
    if number is None:
        raise ServiceError(f"The {what} must be a number.", field=field)
    low, high = bounds
    if not low <= number <= high:
        raise ServiceError(
            f"The {what} must lie between {_pct(low)} and {_pct(high)}.", field=field
        )
    return number.normalize() if number else Decimal(0)


def _pct(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f} %"


def resolve(ctx: Context, data: Mapping[str, Any]) -> WhatIf:
    """Read a what-if from plain data (form, JSON, a saved scenario); errors name the field.

    `members` is a list of member codes (None: those who joined), `formula` a
    choice key, `uplift` and `max_change` fractions ("0.03").
    """
    members = data.get("members")
    codes: tuple[str, ...] | None = None
    if members is not None:
        if isinstance(members, str) or not isinstance(members, Iterable):
            raise ServiceError("List the members as codes.", field="members")
        listed = ctx.members_by_code
        wanted = [str(code) for code in members]
        unknown = sorted({code for code in wanted if code not in listed})
        if unknown:
            raise NotOnOffer(
                f"{', '.join(unknown[:5])} {'is' if len(unknown) == 1 else 'are'} not listed on "
                "this offer.",
                field="members",
            )
        if not wanted:
            raise ServiceError("Keep at least one member in the deal.", field="members")
        codes = tuple(sorted(set(wanted)))
    formula = data.get("formula") or None
    if formula is not None and formula not in {c.key for c in ctx.choices}:
        raise NotOnOffer("Choose a formula from the list.", field="formula")
    uplift = _fraction(data.get("uplift"), "yearly uplift", "uplift", UPLIFT_RANGE)
    if uplift is not None and ctx.uplift is None:
        raise DoesNotApply(
            "This offer's price does not rise by a yearly uplift; there is none to change.",
            field="uplift",
        )
    max_change = _fraction(data.get("max_change"), "phase-in limit", "max_change", MAX_CHANGE_RANGE)
    return WhatIf(codes, formula, uplift, max_change)


def lenient(ctx: Context, data: Mapping[str, Any]) -> tuple[WhatIf, list[str]]:
    """Read a saved what-if, dropping what no longer fits the offer; say what was dropped."""
    dropped: list[str] = []
    members = data.get("members")
    if isinstance(members, list):
        listed = ctx.members_by_code
        gone = sorted(str(c) for c in members if str(c) not in listed)
        if gone:
            dropped.append(f"{', '.join(gone)} no longer listed on the offer: left out.")
        members = [c for c in members if str(c) in listed] or None
    clean = {"members": members}
    for key, label in (
        ("formula", "formula"),
        ("uplift", "uplift"),
        ("max_change", "phase-in limit"),
    ):
        try:
            resolve(ctx, {key: data.get(key)})
        except ServiceError:
            dropped.append(f"The saved {label} no longer applies: the offer's own is used.")
        else:
            clean[key] = data.get(key)
    return resolve(ctx, clean), dropped


# --- What the page shows ------------------------------------------------------------------


@dataclass
class Tier:
    """The participation-discount tier before and after a what-if."""

    before: dict[str, Any] | None
    after: dict[str, Any] | None
    count_before: int
    count_after: int
    #: The next tier up from `after`, and how many more members reach it.
    next: dict[str, Any] | None = None
    more_needed: int = 0

    @property
    def change(self) -> str:
        """'lost', 'reached' or 'kept' (the discount fell, rose or stayed)."""
        low = self.before["discount"] if self.before else Decimal(0)
        high = self.after["discount"] if self.after else Decimal(0)
        if high < low:
            return "lost"
        if high > low:
            return "reached"
        return "kept"


@dataclass
class Change:
    """One member's share before (those who joined) and after the what-if."""

    code: str
    name: str
    status: str  # "in", "out" (dropped) or "new" (added)
    before: Decimal | None
    after: Decimal | None

    @property
    def difference(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass
class Fairness:
    """The formula's split beside the Shapley split, and the core check of each."""

    shapley: dict[str, Decimal]
    #: None when the check does not apply to the pricing (see `reason`).
    formula_core: CoreCheck | None
    shapley_core: CoreCheck | None
    reason: str | None
    #: Members paying more than their solo price (the groups of one, always checkable).
    above_solo: list[str]
    #: The rounding grid of the split.
    unit: Decimal


@dataclass
class Projection:
    """A multi-year offer, year by year."""

    years: list[int]
    results: list[dict[str, Any]]

    @property
    def codes(self) -> list[str]:
        return [line["code"] for line in self.results[0]["lines"]]

    def amounts(self) -> dict[str, list[Decimal]]:
        table: dict[str, list[Decimal]] = defaultdict(list)
        for result in self.results:
            for line in result["lines"]:
                table[line["code"]].append(line["amount"])
        return dict(table)

    def bounds(self) -> dict[str, list[str | None]]:
        table: dict[str, list[str | None]] = defaultdict(list)
        for result in self.results:
            for line in result["lines"]:
                table[line["code"]].append(line["bound"])
        return dict(table)

    @property
    def held_by_bounds(self) -> bool:
        """Tell whether a phase-in limit (max_change) held some member's bill in some year."""
        return any(
            (line["bound"] or "").startswith("max_change")
            for r in self.results
            for line in r["lines"]
        )

    @property
    def total(self) -> Decimal:
        return sum((r["total"] for r in self.results), Decimal(0))

    @property
    def solo_total(self) -> Decimal | None:
        solos = [r["totals"]["solo_price"] for r in self.results]
        return None if any(s is None for s in solos) else sum(solos, Decimal(0))


@dataclass
class RoundColumn:
    """One quote round (or the final allocation) computed for the what-if's members."""

    label: str
    number: int | None
    result: dict[str, Any] | None
    error: str | None = None
    #: For a multi-year offer: what the members pay over the whole term.
    term_total: Decimal | None = None
    is_current: bool = False

    @property
    def short(self) -> str:
        """A label for a chart axis: 'Round 2', 'Final'."""
        return f"Round {self.number}" if self.number is not None else "Final"

    def amount(self, code: str) -> Decimal | None:
        if self.result is None:
            return None
        return next((line["amount"] for line in self.result["lines"] if line["code"] == code), None)


@dataclass
class Workspace:
    context: Context
    state: WhatIf
    choice: FormulaChoice
    error: str | None = None
    #: The engine scenario of the what-if (all its years, for a multi-year offer).
    scenario: dict[str, Any] | None = None
    #: The what-if's result for term year 1 (the whole result for a one-year offer).
    result: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    changes: list[Change] = field(default_factory=list)
    tier: Tier | None = None
    fairness: Fairness | None = None
    projection: Projection | None = None
    rounds: list[RoundColumn] = field(default_factory=list)
    usage: dict[str, dict[str, int]] = field(default_factory=dict)
    scenarios: list[Scenario] = field(default_factory=list)
    #: Sentences about a saved scenario's parts that no longer fit the offer.
    notices: list[str] = field(default_factory=list)
    #: Why there is nothing to compute yet (not an error: e.g. nobody has joined).
    empty: str | None = None

    @property
    def offer(self) -> Offer:
        return self.context.offer

    @property
    def currency(self) -> str:
        return self.offer.currency

    @property
    def changed(self) -> bool:
        return not self.state.is_baseline(self.context)


def _restricted(source: ScenarioInput, codes: Iterable[str], state: WhatIf) -> dict[str, Any]:
    """Return the scenario for the listed members with the what-if's overrides applied."""
    wanted = set(codes)
    scenario = dict(source.scenario)
    scenario["members"] = [m for m in source.scenario["members"] if m["code"] in wanted]
    if state.max_change is not None:
        scenario["formula"] = {**scenario.get("formula", {}), "max_change": str(state.max_change)}
    if state.uplift is not None and isinstance(scenario.get("term"), dict):
        scenario["term"] = {**scenario["term"], "uplift": str(state.uplift)}
    return scenario


def _years(result: dict[str, Any]) -> list[dict[str, Any]]:
    return result.get("years", [result])


def _unit(scenario: dict[str, Any]) -> Decimal:
    rounding = scenario.get("formula", {}).get("rounding") or {}
    if "unit" in rounding:
        return Decimal(str(rounding["unit"]))
    return currency_unit(scenario["currency"])


def workspace(
    session: Session, ctx: Context, state: WhatIf, *, with_extras: bool = True
) -> Workspace:
    """Compute the Negotiation page of `ctx.offer` under the what-if `state` (writes nothing).

    `with_extras` adds the page's parts that do not depend on the what-if
    (usage trend, saved scenarios).
    """
    choice = ctx.choice(state.formula)
    ws = Workspace(ctx, state, choice)
    if with_extras:
        ws.usage = usage_trend(session, ctx.offer)
        ws.scenarios = scenarios_of(session, ctx.offer.id)
    codes = state.codes(ctx)
    if not codes:
        ws.empty = (
            "No member has joined this offer yet: tick the members to see what they would pay."
        )
        return ws
    union = sorted(set(codes) | set(ctx.joined_codes))
    members = [ctx.members_by_code[c] for c in union]
    try:
        source = build_scenario(session, ctx.offer, choice.definition, members=members)
        scenario = ws.scenario = _restricted(source, codes, state)
        years = _years(allocate(scenario))
        ws.result = years[0]
        if len(years) > 1:
            first = ctx.offer.term_start.year
            ws.projection = Projection([first + i for i in range(len(years))], years)
        if ctx.joined_codes and ws.changed:
            base = _restricted(source, ctx.joined_codes, state)
            ws.baseline = _years(allocate(base))[0]
            ws.changes = _changes(ctx, ws.baseline, ws.result)
        ws.tier = _tier(scenario, len(ctx.joined_codes), len(codes))
        ws.fairness = _fairness(scenario, ws.result)
        ws.rounds = _rounds(session, ctx, ws)
    except (ServiceError, AllocationError) as error:
        ws.error = error.message
    return ws


def _changes(ctx: Context, before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    was = {line["code"]: line["amount"] for line in before["lines"]}
    now = {line["code"]: line["amount"] for line in after["lines"]}
    names = ctx.members_by_code
    changes = []
    for code in sorted(was.keys() | now.keys()):
        status = "in" if code in was and code in now else ("out" if code in was else "new")
        changes.append(Change(code, names[code].name, status, was.get(code), now.get(code)))
    return changes


def _tier(scenario: dict[str, Any], before: int, after: int) -> Tier | None:
    pricing = scenario.get("pricing")
    if not isinstance(pricing, dict) or pricing.get("kind") not in TIER_KINDS:
        return None
    if not pricing.get("tiers"):
        return None
    tier = Tier(
        participation_tier(pricing, before) if before else None,
        participation_tier(pricing, after),
        before,
        after,
    )
    reached = tier.after["min_members"] if tier.after else 0
    higher = sorted(
        (int(t["min_members"]), Decimal(str(t["discount"])))
        for t in pricing["tiers"]
        if int(t["min_members"]) > reached
    )
    if higher:
        tier.next = {"min_members": higher[0][0], "discount": higher[0][1]}
        tier.more_needed = higher[0][0] - after
    return tier


def _fairness(scenario: dict[str, Any], result: dict[str, Any]) -> Fairness:
    formula = scenario.get("formula", {})
    shapley_formula: dict[str, Any] = {"method": "shapley"}
    if "rounding" in formula:
        shapley_formula["rounding"] = formula["rounding"]
    shapley_scenario = {k: v for k, v in scenario.items() if k != "groups"}
    shapley_scenario["formula"] = shapley_formula
    shapley_result = _years(allocate(shapley_scenario))[0]
    shapley = {line["code"]: line["amount"] for line in shapley_result["lines"]}
    above = [line["code"] for line in result["lines"] if line["pays_more_than_alone"]]
    fairness = Fairness(shapley, None, None, None, above, _unit(scenario))
    pricing = scenario.get("pricing")
    kind = pricing.get("kind") if isinstance(pricing, dict) else None
    term = scenario.get("term")
    if kind not in CORE_KINDS:
        fairness.reason = (
            "The vendor quoted one total for the whole consortium, so nobody knows what a smaller "
            "group would pay on its own: the core check does not apply. Only each member's solo "
            "price can be compared."
        )
        return fairness
    if isinstance(term, dict) and "totals" in term:
        fairness.reason = (
            "The vendor gave one price per year for the whole consortium, so what a smaller group "
            "would pay on its own is unknown: the core check does not apply."
        )
        return fairness
    assert isinstance(pricing, dict)
    codes = [line["code"] for line in result["lines"]]
    if kind == "list_discount":
        prices = [line["solo_price"] for line in result["lines"]]
    else:
        prices = own_prices(scenario)
    tiers = [(int(t["min_members"]), Decimal(str(t["discount"]))) for t in pricing.get("tiers", [])]
    unit = fairness.unit

    def check(lines: list[dict[str, Any]]) -> CoreCheck:
        paid = [line["amount"] - line["surcharge"] for line in lines]
        return core_check(codes, paid, prices, tiers, unit)

    fairness.formula_core = check(result["lines"])
    fairness.shapley_core = check(shapley_result["lines"])
    return fairness


def own_prices(scenario: dict[str, Any]) -> list[Decimal]:
    """Return each member's own price p_i (per-member table or list price, per-unit price), exactly.

    The engine prices each member alone with the participation tiers removed
    and a rounding grid far finer than any price, so nothing is rounded away.
    """
    pricing = {k: v for k, v in scenario["pricing"].items() if k != "tiers"}
    alone = {
        "currency": scenario["currency"],
        "pricing": pricing,
        "formula": {"method": "shapley", "rounding": {"unit": "1E-20"}},
    }
    if "derived" in scenario:
        alone["derived"] = scenario["derived"]
    prices = []
    for member in sorted(scenario["members"], key=lambda m: m["code"]):
        alone["members"] = [member]
        prices.append(price_of(alone).normalize())
    return prices


def _rounds(session: Session, ctx: Context, ws: Workspace) -> list[RoundColumn]:
    """Compute each quote round for the what-if's members, and add the final allocation."""
    columns = []
    current = ctx.offer.current_round_id
    for quote in ctx.offer.rounds:
        label = f"Round {quote.number}" + (f": {quote.label}" if quote.label else "")
        column = RoundColumn(label, quote.number, None, is_current=quote.id == current)
        if quote.id == current:
            column.result = ws.result
            years = ws.projection.results if ws.projection else None
        else:
            try:
                years = _round_years(session, ctx, quote, ws.scenario)
                column.result = years[0]
            except (ServiceError, AllocationError) as error:
                column.error = error.message
                years = None
        if years and len(years) > 1:
            column.term_total = sum((r["total"] for r in years), Decimal(0))
        columns.append(column)
    final = (
        ctx.allocation if ctx.allocation is not None and ctx.allocation.status == "final" else None
    )
    if final is not None:
        result = {
            "price": Decimal(str(final.result.get("price", final.price))),
            "total": final.total,
            "lines": [
                {"code": line.code, "amount": line.amount, "solo_price": line.solo_price}
                for line in final.lines
            ],
            "totals": {
                k: None if v is None else Decimal(str(v))
                for k, v in final.result.get("totals", {}).items()
            },
        }
        columns.append(RoundColumn(f"Final allocation ({final.formula_name})", None, result))
    return columns


def _round_years(
    session: Session, ctx: Context, quote: QuoteRound, scenario: dict[str, Any]
) -> list[dict[str, Any]]:
    """Return the what-if's result under another quote round (same members, facts, formula)."""
    return _years(allocate(_with_round(session, ctx, scenario, quote)))


def _with_round(
    session: Session, ctx: Context, scenario: dict[str, Any], quote: QuoteRound
) -> dict[str, Any]:
    """Return `scenario` priced by `quote`: its price keys and its solo prices.

    The same as `build_scenario(…, quote=quote)` for the same members, without
    reading every member's facts again (a toggle must stay quick). The
    formula, and so a phase-in what-if, stays; an uplift what-if is about the
    current round, and another round keeps its own term.
    """
    solo = solo_prices(session, quote.id)
    ids = {code: member.id for code, member in ctx.members_by_code.items()}
    price = quote.pricing or {}
    priced = {k: v for k, v in scenario.items() if k not in PRICE_KEYS}
    priced.update({k: price[k] for k in PRICE_KEYS if k in price})
    if ctx.offer.term_years == 1:
        priced.pop("term", None)
    members = []
    for member in scenario["members"]:
        attributes = {k: v for k, v in member["attributes"].items() if k != "solo_price"}
        if ids[member["code"]] in solo:
            attributes["solo_price"] = solo[ids[member["code"]]]
        members.append({**member, "attributes": attributes})
    priced["members"] = members
    return priced


def usage_trend(session: Session, offer: Offer) -> dict[str, dict[str, int]]:
    """Return the consortium's monthly usage of the offer's resource: metric → 'YYYY-MM' → count.

    The two years before the term and the term so far, each member's master report
    taken over its standard views (never both, so nothing is counted twice).
    """
    last = figures.month_of(min(offer.term_end, today()))
    first = figures.add_months(figures.month_of(offer.term_start), -24)
    if last < first:
        return {}
    window = figures.Window(first, last)
    metrics = session.scalars(
        select(UsageRecord.metric)
        .join(UsageItem, UsageItem.id == UsageRecord.item_id)
        .where(UsageItem.resource_id == offer.resource_id)
        .distinct()
    ).all()
    trend: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for count in figures.counts(session, metrics, window, resource_ids=[offer.resource_id]):
        trend[count.metric][count.month.isoformat()[:7]] += count.count
    return {metric: dict(sorted(months.items())) for metric, months in trend.items()}


# --- Saved scenarios -----------------------------------------------------------------------


def scenarios_of(session: Session, offer_id: int) -> list[Scenario]:
    return list(
        session.scalars(
            select(Scenario)
            .where(Scenario.offer_id == offer_id)
            .options(selectinload(Scenario.created_by))
            .order_by(Scenario.created_at.desc(), Scenario.id.desc())
        )
    )


def load_scenario(session: Session, scenario_id: int) -> Scenario | None:
    return session.get(Scenario, scenario_id, options=[selectinload(Scenario.created_by)])


def _clean(value: str | None, what: str, field: str, limit: int, required: bool = False) -> str:
    # No NUL and no half of a UTF-16 pair: no database stores them.
    text = clean_text(value or "")
    if required and not text:
        raise ServiceError(f"Give the {what}.", field=field)
    if len(text) > limit:
        raise ServiceError(f"The {what} is longer than {limit} characters.", field=field)
    return text


def save_scenario(
    session: Session,
    ctx: Context,
    state: WhatIf,
    name: str | None,
    note: str | None,
    user: User | None,
) -> Scenario:
    """Save a what-if on the offer under a name; the offer itself does not change."""
    name = _clean(name, "scenario's name", "name", NAME_MAX, required=True)
    note = _clean(note, "note", "note", NOTE_MAX) or None
    data = state.data()
    # Saved as shown: the members and the formula, even where they were the offer's defaults.
    data["members"] = list(state.codes(ctx))
    data["formula"] = state.formula or ctx.default_formula
    scenario = Scenario(
        offer_id=ctx.offer.id,
        name=name,
        note=note,
        data=data,
        created_by_id=user.id if user is not None else None,
    )
    session.add(scenario)
    session.flush()
    record(
        session,
        "scenario.create",
        scenario,
        f"Saved the what-if '{name}' on {ctx.offer.title} ({len(data['members'])} members)",
        after=snapshot(scenario),
        user_id=user.id if user is not None else None,
    )
    return scenario


def delete_scenario(session: Session, scenario: Scenario) -> None:
    """Delete a saved what-if (the offer is untouched)."""
    before = snapshot(scenario)
    record(
        session,
        "scenario.delete",
        scenario,
        f"Deleted the what-if '{scenario.name}' on offer {scenario.offer_id}",
        before=before,
    )
    session.delete(scenario)
    session.flush()


def offer_for_negotiation(session: Session, offer_id: int) -> Offer | None:
    """Return the offer with its participants, rounds, vendor and current round loaded."""
    return session.get(
        Offer,
        offer_id,
        options=[
            # A what-if reads only these of each member; loading less keeps a toggle quick.
            selectinload(Offer.participations)
            .selectinload(Participation.member)
            .load_only(Member.code, Member.name, Member.sector),
            selectinload(Offer.rounds),
            selectinload(Offer.current_round),
            selectinload(Offer.resource).selectinload(Resource.vendor),
        ],
    )
