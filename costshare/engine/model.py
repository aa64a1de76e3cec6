"""Read a scenario dict into validated, typed parts (spec section 1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from itertools import chain, pairwise, repeat
from operator import itemgetter
from typing import Any, NamedTuple, NoReturn

from babel.numbers import get_currency_precision, is_currency

from costshare.engine.errors import ScenarioError
from costshare.engine.numbers import ONE, ZERO, describe, is_decimal_text, on_grid, to_decimal

METHODS = ("formula", "shapley", "equal_savings", "proportional_savings")
COMPONENT_KINDS = ("equal", "attribute", "tiers", "table")
TRANSFORMS = ("none", "sqrt", "log1p")
PRICING_KINDS = ("fixed_total", "list_discount", "per_member", "per_unit")
BLOCK_ROUNDING = ("nearest", "up", "down")
#: Explanation keys the engine writes itself; a component cannot take them as a name.
RESERVED_NAMES = frozenset(("fixed_fee", "bound_adjustment", "rounding", "surcharge", *METHODS))

TOP_KEYS = (
    "currency",
    "total",
    "pricing",
    "members",
    "formula",
    "derived",
    "subsidy",
    "surcharge",
    "groups",
    "price_list",
    "term",
)
MEMBER_KEYS = frozenset(("code", "name", "attributes"))
FORMULA_KEYS = (
    "method",
    "components",
    "fixed_fee",
    "floor",
    "cap",
    "max_change",
    "rounding",
)
COMPONENT_KEYS = {
    "equal": ("kind", "weight", "name"),
    "attribute": ("kind", "weight", "name", "attribute", "transform"),
    "tiers": ("kind", "weight", "name", "attribute", "tiers"),
    "table": ("kind", "weight", "name", "attribute", "weights"),
}
PRICING_KEYS = {
    "fixed_total": ("kind", "total"),
    "list_discount": ("kind", "tiers"),
    "per_member": ("kind", "attribute", "price_table", "price_list", "tiers"),
    "per_unit": ("kind", "attribute", "rate", "floor", "cap"),
}


class Member(NamedTuple):
    """A participating member: its code, optional name and raw attribute values."""

    code: str
    name: str | None
    attributes: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Component:
    """One term of the formula share (section 2)."""

    kind: str
    key: str
    weight: Decimal
    field: str
    attribute: str | None = None
    transform: str = "none"
    tiers: tuple[tuple[Decimal, Decimal], ...] = ()
    weights: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BoundRule:
    """A floor or cap: a money amount or the name of a member attribute holding one."""

    name: str
    money: Decimal | None
    attribute: str | None


@dataclass(frozen=True, slots=True)
class Formula:
    """How to split: the method, its components, fixed fee, bounds and rounding unit."""

    method: str
    components: tuple[Component, ...]
    fixed_fee: Decimal
    floor: BoundRule | None
    cap: BoundRule | None
    max_change: Decimal | None
    unit: Decimal


@dataclass(frozen=True, slots=True)
class Block:
    """The block rule of a price list: each whole block above a threshold adds a price."""

    above: Decimal
    size: Decimal
    price: Decimal
    round: str


@dataclass(frozen=True, slots=True)
class PriceList:
    """A vendor's list price as a schedule on a numeric member attribute."""

    attribute: str
    tiers: tuple[tuple[Decimal, Decimal], ...]
    block: Block | None
    field: str


@dataclass(frozen=True, slots=True)
class Pricing:
    """A vendor offer that prices the deal by who takes part (section 6)."""

    kind: str
    tiers: tuple[tuple[int, Decimal], ...] = ()
    total: Decimal | None = None
    attribute: str | None = None
    price_table: Mapping[str, Decimal] | None = None
    price_list: PriceList | None = None
    rate: Decimal | None = None
    floor: Decimal | None = None
    cap: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Derived:
    """A derived attribute: a weighted sum or a plain mean of member attributes."""

    name: str
    kind: str
    sources: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True, slots=True)
class Groups:
    """A two-level split: the group attribute and each group's share as given."""

    attribute: str
    shares: Mapping[str, Decimal]
    given: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Term:
    """Several years: a yearly uplift, or every year's price."""

    years: int
    uplift: Decimal | None
    totals: tuple[Decimal, ...] | None


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario; members sorted by code."""

    currency: str
    unit: Decimal
    total: Decimal | None
    pricing: Pricing | None
    members: tuple[Member, ...]
    formula: Formula
    derived: tuple[Derived, ...]
    subsidy: Decimal
    surcharge: Decimal
    groups: Groups | None
    price_list: PriceList | None
    term: Term | None


def _object(value: Any, where: str, field_path: str) -> dict:
    if not isinstance(value, dict):
        raise ScenarioError(f"{where} must be an object, not {describe(value)}.", field=field_path)
    return value


def _list(value: Any, where: str, field_path: str, nonempty: bool = True) -> list:
    if not isinstance(value, list):
        raise ScenarioError(f"{where} must be a list, not {describe(value)}.", field=field_path)
    if nonempty and not value:
        raise ScenarioError(f"{where} must not be empty.", field=field_path)
    return value


def _text(value: Any, where: str, field_path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ScenarioError(
            f"{where} must be a non-empty text, not {describe(value)}.", field=field_path
        )
    return value


def _check_keys(
    obj: dict, allowed: tuple[str, ...] | frozenset[str], where: str, prefix: str
) -> None:
    for key in obj:
        if key not in allowed:
            raise ScenarioError(
                f"Unknown key '{key}' in {where} (allowed: {', '.join(sorted(allowed))}).",
                field=f"{prefix}.{key}" if prefix else str(key),
            )


def _require(obj: dict, key: str, where: str, prefix: str) -> Any:
    if key not in obj:
        raise ScenarioError(f"{where} needs '{key}'.", field=f"{prefix}.{key}" if prefix else key)
    return obj[key]


def _non_negative(value: Any, what: str, field_path: str) -> Decimal:
    number = to_decimal(value, what, field_path)
    if number < 0:
        raise ScenarioError(f"{what} must not be negative, not {number}.", field=field_path)
    return number


def currency_unit(currency: str) -> Decimal:
    """Return the currency's minor unit (ISO 4217, as Babel knows it)."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def parse_scenario(data: Any) -> Scenario:
    """Validate a scenario dict (section 1) and return it typed, members sorted by code."""
    data = _object(data, "The scenario", "")
    _check_keys(data, TOP_KEYS, "the scenario", "")
    currency = _text(_require(data, "currency", "The scenario", ""), "The currency", "currency")
    if not is_currency(currency):
        raise ScenarioError(
            f"Unknown currency '{currency}' (use an ISO 4217 code such as EUR).", field="currency"
        )
    formula_data = _object(_require(data, "formula", "The scenario", ""), "The formula", "formula")
    unit = parse_unit(formula_data, currency)
    term = _parse_term(data["term"], unit) if "term" in data else None
    if "total" in data and "pricing" in data:
        raise ScenarioError("Give either 'total' or 'pricing', not both.", field="pricing")
    if "total" not in data and "pricing" not in data and (term is None or term.totals is None):
        raise ScenarioError(
            "The scenario needs the price: 'total', 'pricing', "
            "or every year's price in 'term.totals'.",
            field="total",
        )
    total = None
    if "total" in data:
        total = _non_negative(data["total"], "The total", "total")
        if not on_grid(total, unit):
            raise ScenarioError(
                f"The total {total} is not a multiple of the rounding unit {unit}.", field="total"
            )
    pricing = parse_pricing(data["pricing"]) if "pricing" in data else None
    members = parse_members(_require(data, "members", "The scenario", ""))
    formula = parse_formula(formula_data, unit)
    derived = parse_derived(data["derived"]) if "derived" in data else ()
    subsidy = _non_negative(data.get("subsidy", ZERO), "The subsidy", "subsidy")
    if not on_grid(subsidy, unit):
        raise ScenarioError(
            f"The subsidy {subsidy} is not a multiple of the rounding unit {unit}.", field="subsidy"
        )
    surcharge = _non_negative(data.get("surcharge", ZERO), "The surcharge", "surcharge")
    groups = _parse_groups(data["groups"]) if "groups" in data else None
    if groups is not None and formula.method == "shapley":
        raise ScenarioError(
            "Groups cannot be used with the Shapley method: "
            "the Shapley value is defined over all members.",
            field="groups",
        )
    price_list = (
        _parse_price_list(data["price_list"], "price_list") if "price_list" in data else None
    )
    return Scenario(
        currency=currency,
        unit=unit,
        total=total,
        pricing=pricing,
        members=members,
        formula=formula,
        derived=derived,
        subsidy=subsidy,
        surcharge=surcharge,
        groups=groups,
        price_list=price_list,
        term=term,
    )


def parse_unit(formula: dict, currency: str) -> Decimal:
    """Return the rounding unit: formula.rounding.unit, else the currency's minor unit."""
    if "rounding" not in formula:
        return currency_unit(currency)
    rounding = _object(formula["rounding"], "formula.rounding", "formula.rounding")
    _check_keys(rounding, ("unit",), "formula.rounding", "formula.rounding")
    if "unit" not in rounding:
        return currency_unit(currency)
    unit = to_decimal(rounding["unit"], "The rounding unit", "formula.rounding.unit")
    if unit <= 0:
        raise ScenarioError(
            f"The rounding unit must be positive, not {unit}.", field="formula.rounding.unit"
        )
    # A unit written as 1E+2 is used as 100, so that amounts never print with an exponent.
    return unit if unit.as_tuple().exponent <= 0 else unit.quantize(ONE)  # type: ignore[operator]


_ATTRIBUTE_TYPES = frozenset((int, Decimal, str, float))
_NO_ATTRIBUTES: dict[str, Any] = {}


def parse_members(value: Any) -> tuple[Member, ...]:
    """Validate the member list and return it sorted by code."""
    items = _list(value, "The members", "members")
    # Every check runs over whole columns (C-level loops); only when one fails
    # does the slow path walk the members to say which one is wrong and why.
    if set(map(type, items)) != {dict} or not all(map(MEMBER_KEYS.issuperset, items)):
        _find_member_problem(items)
    codes = list(map(dict.get, items, repeat("code")))
    names = list(map(dict.get, items, repeat("name")))
    attributes = list(map(dict.get, items, repeat("attributes"), repeat(_NO_ATTRIBUTES)))
    values = chain.from_iterable(map(dict.values, attributes)) if _all_dicts(attributes) else None
    if (
        set(map(type, codes)) != {str}
        or not all(codes)
        or len(set(codes)) != len(codes)
        or not set(map(type, names)) <= {str, type(None)}
        or values is None
        or not _ATTRIBUTE_TYPES.issuperset(map(type, values))
    ):
        _find_member_problem(items)
    rows = sorted(zip(codes, names, attributes, strict=True), key=itemgetter(0))
    # tuple.__new__ makes the Members without a Python-level call per member.
    return tuple(map(partial(tuple.__new__, Member), rows))


def _all_dicts(values: list[Any]) -> bool:
    return set(map(type, values)) <= {dict}


def _find_member_problem(items: list[Any]) -> NoReturn:
    """Raise the error for the first invalid member."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        _member_problem(index, item, seen)
        seen.add(item["code"])
    raise AssertionError("a member check failed but no member is invalid")


def _member_problem(index: int, item: Any, seen: set[str]) -> None:
    """Raise the error that explains why member ``index`` is invalid, if it is."""
    where = f"members[{index}]"
    if type(item) is not dict:
        raise ScenarioError(
            f"Each member must be an object; {where} is {describe(item)}.", field=where
        )
    _check_keys(item, MEMBER_KEYS, f"member {item.get('code', where)}", where)
    code = item.get("code")
    if type(code) is not str or not code:
        raise ScenarioError(
            f"Each member needs a non-empty text 'code'; {where} has {describe(code)}.",
            field=f"{where}.code",
        )
    if code in seen:
        raise ScenarioError(
            f"Member code {code} appears twice.", field=f"{where}.code", members=[code]
        )
    name = item.get("name")
    if name is not None and type(name) is not str:
        raise ScenarioError(
            f"The name of member {code} must be text, not {describe(name)}.",
            field=f"{where}.name",
            members=[code],
        )
    attributes = item.get("attributes", _NO_ATTRIBUTES)
    if type(attributes) is not dict:
        raise ScenarioError(
            f"The attributes of member {code} must be an object, not {describe(attributes)}.",
            field=f"{where}.attributes",
            members=[code],
        )
    for key, val in attributes.items():
        if type(val) not in _ATTRIBUTE_TYPES:
            raise ScenarioError(
                f"Member {code}'s attribute '{key}' must be a number or a text, "
                f"not {describe(val)}.",
                field=f"{where}.attributes.{key}",
                members=[code],
                attribute=key,
            )


def _parse_bound_rule(value: Any, name: str) -> BoundRule:
    path = f"formula.{name}"
    if isinstance(value, str) and not is_decimal_text(value):
        if not value:
            raise ScenarioError(f"The {name} must be an amount or an attribute name.", field=path)
        return BoundRule(name, None, value)
    return BoundRule(name, _non_negative(value, f"The {name}", path), None)


def parse_formula(data: dict, unit: Decimal) -> Formula:
    """Validate the formula: method, components, fixed fee and bounds."""
    _check_keys(data, FORMULA_KEYS, "the formula", "formula")
    method = data.get("method", "formula")
    if method not in METHODS:
        raise ScenarioError(
            f"Unknown method {describe(method)} (use one of {', '.join(METHODS)}).",
            field="formula.method",
        )
    components: tuple[Component, ...] = ()
    if method == "formula":
        items = _list(
            _require(data, "components", "The formula", "formula"),
            "formula.components",
            "formula.components",
        )
        components = tuple(_parse_component(item, i) for i, item in enumerate(items))
        keys: set[str] = set()
        for comp in components:
            if comp.key in keys:
                raise ScenarioError(
                    f"Two components share the key '{comp.key}'; give one a distinct 'name'.",
                    field=f"{comp.field}.name",
                )
            keys.add(comp.key)
        if not any(comp.weight > 0 for comp in components):
            raise ScenarioError(
                "At least one component needs a weight above 0.", field="formula.components"
            )
    else:
        for key in ("components", "fixed_fee"):
            if key in data:
                raise ScenarioError(
                    f"'{key}' applies only to the method 'formula', not '{method}'.",
                    field=f"formula.{key}",
                )
    fixed_fee = _non_negative(data.get("fixed_fee", ZERO), "The fixed fee", "formula.fixed_fee")
    floor = _parse_bound_rule(data["floor"], "floor") if "floor" in data else None
    cap = _parse_bound_rule(data["cap"], "cap") if "cap" in data else None
    max_change = None
    if "max_change" in data:
        max_change = _non_negative(data["max_change"], "max_change", "formula.max_change")
    return Formula(method, components, fixed_fee, floor, cap, max_change, unit)


def _parse_component(item: Any, index: int) -> Component:
    path = f"formula.components[{index}]"
    item = _object(item, f"Component {index + 1}", path)
    kind = _require(item, "kind", f"Component {index + 1}", path)
    if kind not in COMPONENT_KINDS:
        raise ScenarioError(
            f"Component {index + 1} has unknown kind {describe(kind)} "
            f"(use one of {', '.join(COMPONENT_KINDS)}).",
            field=f"{path}.kind",
        )
    _check_keys(item, COMPONENT_KEYS[kind], f"component {index + 1} ({kind})", path)
    weight = _non_negative(
        item.get("weight", ONE), f"The weight of component {index + 1}", f"{path}.weight"
    )
    attribute = None
    if kind != "equal":
        attribute = _text(
            _require(item, "attribute", f"Component {index + 1} ({kind})", path),
            f"The attribute of component {index + 1}",
            f"{path}.attribute",
        )
    key = kind if attribute is None else f"{kind}:{attribute}"
    if "name" in item:
        key = _text(item["name"], f"The name of component {index + 1}", f"{path}.name")
        if key in RESERVED_NAMES:
            raise ScenarioError(
                f"A component cannot be named '{key}': the explanation uses that name itself.",
                field=f"{path}.name",
            )
    transform = item.get("transform", "none")
    if transform not in TRANSFORMS:
        raise ScenarioError(
            f"Component '{key}' has unknown transform {describe(transform)} "
            f"(use one of {', '.join(TRANSFORMS)}).",
            field=f"{path}.transform",
        )
    tiers: tuple[tuple[Decimal, Decimal], ...] = ()
    if kind == "tiers":
        tiers = _parse_schedule(
            _require(item, "tiers", f"Component '{key}'", path),
            "weight",
            f"component '{key}'",
            f"{path}.tiers",
        )
    weights: dict[str, Decimal] = {}
    if kind == "table":
        table = _object(
            _require(item, "weights", f"Component '{key}'", path),
            f"The weights of component '{key}'",
            f"{path}.weights",
        )
        if not table:
            raise ScenarioError(
                f"The weights of component '{key}' must not be empty.", field=f"{path}.weights"
            )
        for category, value in table.items():
            weights[category] = _non_negative(
                value,
                f"The weight of '{category}' in component '{key}'",
                f"{path}.weights.{category}",
            )
    return Component(kind, key, weight, path, attribute, transform, tiers, weights)


def _parse_schedule(
    value: Any, value_key: str, owner: str, path: str
) -> tuple[tuple[Decimal, Decimal], ...]:
    """Validate a list of {min, <value_key>} tiers; return (min, value) pairs sorted by min."""
    items = _list(value, f"The tiers of {owner}", path)
    tiers = []
    for index, tier in enumerate(items):
        where = f"tier {index + 1} of {owner}"
        t_path = f"{path}[{index}]"
        tier = _object(tier, where.capitalize(), t_path)
        _check_keys(tier, ("min", value_key), where, t_path)
        low = to_decimal(
            _require(tier, "min", where.capitalize(), t_path),
            f"The min of {where}",
            f"{t_path}.min",
        )
        amount = _non_negative(
            _require(tier, value_key, where.capitalize(), t_path),
            f"The {value_key} of {where}",
            f"{t_path}.{value_key}",
        )
        tiers.append((low, amount))
    tiers.sort(key=lambda t: t[0])
    _no_repeats([t[0] for t in tiers], f"Two tiers of {owner} have min", path)
    return tuple(tiers)


def _no_repeats(values: list, message: str, field_path: str) -> None:
    for before, after in pairwise(values):
        if before == after:
            raise ScenarioError(f"{message} {after}.", field=field_path)


def _parse_discount_tiers(value: Any, path: str) -> tuple[tuple[int, Decimal], ...]:
    items = _list(value, "The participation tiers", path, nonempty=False)
    tiers = []
    for index, tier in enumerate(items):
        t_path = f"{path}[{index}]"
        tier = _object(tier, f"Participation tier {index + 1}", t_path)
        _check_keys(tier, ("min_members", "discount"), f"participation tier {index + 1}", t_path)
        raw_min = _require(tier, "min_members", f"Participation tier {index + 1}", t_path)
        low = to_decimal(
            raw_min, f"min_members of participation tier {index + 1}", f"{t_path}.min_members"
        )
        if low != low.to_integral_value() or low < 1:
            raise ScenarioError(
                f"min_members of participation tier {index + 1} must be a whole number "
                f"of at least 1, not {low}.",
                field=f"{t_path}.min_members",
            )
        discount = _non_negative(
            _require(tier, "discount", f"Participation tier {index + 1}", t_path),
            f"The discount of participation tier {index + 1}",
            f"{t_path}.discount",
        )
        if discount > 1:
            raise ScenarioError(
                f"The discount of participation tier {index + 1} is a fraction "
                f"and cannot exceed 1, not {discount}.",
                field=f"{t_path}.discount",
            )
        tiers.append((int(low), discount))
    tiers.sort(key=lambda t: t[0])
    _no_repeats([t[0] for t in tiers], "Two participation tiers have min_members", path)
    return tuple(tiers)


def parse_pricing(value: Any) -> Pricing:
    """Validate a vendor pricing (section 6)."""
    data = _object(value, "The pricing", "pricing")
    kind = _require(data, "kind", "The pricing", "pricing")
    if kind not in PRICING_KINDS:
        raise ScenarioError(
            f"Unknown pricing kind {describe(kind)} (use one of {', '.join(PRICING_KINDS)}).",
            field="pricing.kind",
        )
    _check_keys(data, PRICING_KEYS[kind], f"the pricing ({kind})", "pricing")
    tiers = _parse_discount_tiers(data["tiers"], "pricing.tiers") if "tiers" in data else ()
    if kind == "fixed_total":
        total = _non_negative(
            _require(data, "total", "Fixed-total pricing", "pricing"),
            "The pricing total",
            "pricing.total",
        )
        return Pricing(kind, total=total)
    if kind == "list_discount":
        return Pricing(kind, tiers=tiers)
    if kind == "per_member":
        if ("price_table" in data) == ("price_list" in data):
            raise ScenarioError(
                "Per-member pricing needs exactly one of 'price_table' and 'price_list'.",
                field="pricing.price_table",
            )
        if "price_list" in data:
            if "attribute" in data:
                raise ScenarioError(
                    "With a price list, name the attribute inside 'price_list', not in 'pricing'.",
                    field="pricing.attribute",
                )
            price_list = _parse_price_list(data["price_list"], "pricing.price_list")
            return Pricing(kind, tiers=tiers, attribute=price_list.attribute, price_list=price_list)
        attribute = _text(
            _require(data, "attribute", "Per-member pricing with a price table", "pricing"),
            "The pricing attribute",
            "pricing.attribute",
        )
        table = _object(data["price_table"], "The price table", "pricing.price_table")
        if not table:
            raise ScenarioError("The price table must not be empty.", field="pricing.price_table")
        prices = {
            category: _non_negative(
                price, f"The price for '{category}'", f"pricing.price_table.{category}"
            )
            for category, price in table.items()
        }
        return Pricing(kind, tiers=tiers, attribute=attribute, price_table=prices)
    attribute = _text(
        _require(data, "attribute", "Per-unit pricing", "pricing"),
        "The pricing attribute",
        "pricing.attribute",
    )
    rate = _non_negative(
        _require(data, "rate", "Per-unit pricing", "pricing"), "The rate", "pricing.rate"
    )
    floor = (
        _non_negative(data["floor"], "The pricing floor", "pricing.floor")
        if "floor" in data
        else None
    )
    cap = _non_negative(data["cap"], "The pricing cap", "pricing.cap") if "cap" in data else None
    if floor is not None and cap is not None and floor > cap:
        raise ScenarioError(
            f"The pricing floor {floor} is above its cap {cap}.", field="pricing.floor"
        )
    return Pricing(kind, attribute=attribute, rate=rate, floor=floor, cap=cap)


def _parse_price_list(value: Any, path: str) -> PriceList:
    data = _object(value, "The price list", path)
    _check_keys(data, ("attribute", "tiers", "block"), "the price list", path)
    attribute = _text(
        _require(data, "attribute", "The price list", path),
        "The price-list attribute",
        f"{path}.attribute",
    )
    tiers = _parse_schedule(
        _require(data, "tiers", "The price list", path), "price", "the price list", f"{path}.tiers"
    )
    block = None
    if "block" in data:
        b_path = f"{path}.block"
        raw = _object(data["block"], "The price-list block", b_path)
        _check_keys(raw, ("above", "size", "price", "round"), "the price-list block", b_path)
        above = to_decimal(
            _require(raw, "above", "The price-list block", b_path), "block.above", f"{b_path}.above"
        )
        size = to_decimal(
            _require(raw, "size", "The price-list block", b_path), "block.size", f"{b_path}.size"
        )
        if size <= 0:
            raise ScenarioError(f"block.size must be positive, not {size}.", field=f"{b_path}.size")
        price = _non_negative(
            _require(raw, "price", "The price-list block", b_path), "block.price", f"{b_path}.price"
        )
        how = _require(raw, "round", "The price-list block", b_path)
        if how not in BLOCK_ROUNDING:
            raise ScenarioError(
                f"block.round must be one of {', '.join(BLOCK_ROUNDING)}, not {describe(how)}.",
                field=f"{b_path}.round",
            )
        block = Block(above, size, price, how)
    return PriceList(attribute, tuple(tiers), block, path)


def parse_derived(value: Any) -> tuple[Derived, ...]:
    """Validate the derived-attribute definitions, in the order given."""
    data = _object(value, "'derived'", "derived")
    result = []
    for name, spec in data.items():
        path = f"derived.{name}"
        spec = _object(spec, f"Derived attribute '{name}'", path)
        if len(spec) != 1 or next(iter(spec)) not in ("sum", "mean"):
            keys = ", ".join(f"'{k}'" for k in spec) or "nothing"
            raise ScenarioError(
                f"Derived attribute '{name}' needs exactly one of 'sum' and 'mean' "
                f"(it has {keys}).",
                field=path,
            )
        kind, body = next(iter(spec.items()))
        if kind == "sum":
            weights = _object(body, f"The sum of derived attribute '{name}'", f"{path}.sum")
            if not weights:
                raise ScenarioError(
                    f"The sum of derived attribute '{name}' lists no attribute.",
                    field=f"{path}.sum",
                )
            sources = tuple(
                (
                    source,
                    to_decimal(
                        coef,
                        f"The coefficient of '{source}' in derived attribute '{name}'",
                        f"{path}.sum.{source}",
                    ),
                )
                for source, coef in weights.items()
            )
        else:
            names = _list(body, f"The mean of derived attribute '{name}'", f"{path}.mean")
            sources = tuple(
                (_text(source, f"Each attribute in the mean of '{name}'", f"{path}.mean"), ONE)
                for source in names
            )
            if len({s for s, _ in sources}) != len(sources):
                raise ScenarioError(
                    f"The mean of derived attribute '{name}' lists an attribute twice.",
                    field=f"{path}.mean",
                )
        result.append(Derived(name, kind, sources))
    return tuple(result)


def _parse_groups(value: Any) -> Groups:
    data = _object(value, "'groups'", "groups")
    _check_keys(data, ("attribute", "shares"), "'groups'", "groups")
    attribute = _text(
        _require(data, "attribute", "'groups'", "groups"), "The group attribute", "groups.attribute"
    )
    given = _object(
        _require(data, "shares", "'groups'", "groups"), "The group shares", "groups.shares"
    )
    if not given:
        raise ScenarioError("'groups.shares' must name at least one group.", field="groups.shares")
    shares = {
        group: _non_negative(share, f"The share of group '{group}'", f"groups.shares.{group}")
        for group, share in given.items()
    }
    if not any(shares.values()):
        raise ScenarioError("At least one group needs a share above 0.", field="groups.shares")
    return Groups(attribute, shares, dict(given))


def _parse_term(value: Any, unit: Decimal) -> Term:
    data = _object(value, "'term'", "term")
    _check_keys(data, ("years", "uplift", "totals"), "'term'", "term")
    years = None
    if "years" in data:
        raw = to_decimal(data["years"], "term.years", "term.years")
        if raw != raw.to_integral_value() or raw < 1:
            raise ScenarioError(
                f"term.years must be a whole number of at least 1, not {raw}.", field="term.years"
            )
        years = int(raw)
    if "totals" in data:
        if "uplift" in data:
            raise ScenarioError(
                "Give either 'term.uplift' or 'term.totals', not both.", field="term.uplift"
            )
        items = _list(data["totals"], "term.totals", "term.totals")
        totals = []
        for index, item in enumerate(items):
            amount = _non_negative(item, f"The price of year {index + 1}", f"term.totals[{index}]")
            if not on_grid(amount, unit):
                raise ScenarioError(
                    f"The price of year {index + 1}, {amount}, "
                    f"is not a multiple of the rounding unit {unit}.",
                    field=f"term.totals[{index}]",
                )
            totals.append(amount)
        if years is not None and years != len(totals):
            raise ScenarioError(
                f"term.years is {years} but term.totals gives {len(totals)} prices.",
                field="term.years",
            )
        return Term(len(totals), None, tuple(totals))
    if years is None:
        raise ScenarioError("'term' needs 'years' (with 'uplift') or 'totals'.", field="term.years")
    uplift = to_decimal(data.get("uplift", ZERO), "term.uplift", "term.uplift")
    if uplift <= -1:
        raise ScenarioError(f"term.uplift must be above -1, not {uplift}.", field="term.uplift")
    return Term(years, uplift, None)
