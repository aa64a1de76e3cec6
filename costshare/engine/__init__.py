"""The allocation engine: split a consortium's bill among its members, exactly to the cent.

Pure core (numpy, Decimal, Babel; no Flask, no SQLAlchemy). It implements
``spec/allocation.md``: a *scenario* dict (JSON parsed with
``parse_float=Decimal``) goes in, the section-9 *result* dict comes out,
with every money value a ``Decimal`` on the rounding grid and the amounts
summing exactly to what the members owe.

Computing
    ``allocate(scenario) -> dict``
        The result: ``currency, price, surcharge_amount, subsidy, total,
        lambda`` (``Decimal`` to 6 places, ``None`` with groups), ``groups``
        (only with groups: ``[{name, share, total, lambda}]``), ``lines``
        (sorted by code: ``code, name, amount, raw, explanation{part: Decimal},
        bound, surcharge, solo_price, savings, savings_pct,
        pays_more_than_alone``) and ``totals{amount, solo_price, savings}``.
        With a ``term``: ``{"years": [result, …]}``.
    ``what_if(scenario, drop: Iterable[str]) -> dict``
        ``{"before": result, "after": result, "changes": [{code, before,
        after, change}]}``, one change per remaining member.
    ``price_of(scenario, codes=None) -> Decimal``
        The vendor's price (rounded, year 1) for a subset of members.
    ``shapley_of(scenario, codes=None) -> dict[str, Fraction]``
        Exact Shapley values of the unrounded price game for a subset.
    ``shapley_values(prices, tiers=()) -> list[Fraction]``
        The O(n) closed form for a participation-discount game
        (``tiers``: ``[(min_members, discount), …]``).
    ``participation_tier(pricing: dict, count: int) -> dict | None``
        The discount tier ``{min_members, discount}`` reached by ``count``.

Checking before computing
    ``check_formula(formula, members, derived=None, currency="EUR") -> list[AllocationError]``
        Every problem a formula has with a member list (missing or
        non-numeric facts, unknown categories), each error carrying
        ``field``, ``members`` and ``attribute`` for the form.
    ``needed_attributes(formula, derived=None, pricing=None) -> list[str]``
        The member facts a formula (and a pricing) reads.

Input and output
    ``load_scenario(text: str | bytes) -> dict``
        JSON with Decimal numbers; duplicate keys and NaN are refused.
    ``to_json(result) -> str``, ``to_csv(result) -> str``, ``to_table(result) -> str``,
    ``to_jsonable(result) -> dict`` (Decimals as their exact strings).

Presets
    ``presets() -> list[dict]``, ``preset(key) -> dict``,
    ``apply_preset(scenario, key) -> dict``: the published models
    (key, name, description, source, url, attributes, formula, and
    ``derived``/``pricing`` where needed).

Choices where the spec leaves room
    - ``raw`` is rounded like the explanation parts: nine places, then half-even.
    - ``totals.solo_price`` and ``totals.savings`` are ``None`` when no member
      has a solo price.
    - When the members owe nothing, every line's ``surcharge`` is 0 (the
      subsidy paid the fee; there is no amount to carry it).
    - A top-level ``price_list`` fills missing solo prices before per-member or
      per-unit pricing does. A component's ``weight`` defaults to 1.
    - ``subsidy`` must lie on the grid, like ``total``, so that the surcharge
      split adds up.
    - The cycle collector is paused while ``allocate``/``what_if`` run (a split
      creates no reference cycles); it is switched back on afterwards, also
      when several threads allocate at once.

Errors
    ``AllocationError(ValueError)`` and its subclasses ``ScenarioError``
    (malformed input), ``MissingAttributeError`` (a member lacks a fact)
    and ``InfeasibleError`` (the bounds cannot hold). Each has ``message``,
    ``field`` (dotted path, e.g. ``"formula.cap"``), ``members``/``member``,
    ``attribute``, ``year`` and ``group``.
"""

from costshare.engine.allocate import (
    allocate,
    participation_tier,
    price_of,
    shapley_of,
    what_if,
)
from costshare.engine.checks import check_formula, needed_attributes
from costshare.engine.errors import (
    AllocationError,
    InfeasibleError,
    MissingAttributeError,
    ScenarioError,
)
from costshare.engine.model import currency_unit
from costshare.engine.presets import apply_preset, preset, presets
from costshare.engine.pricing import shapley_values
from costshare.engine.render import load_scenario, to_csv, to_json, to_jsonable, to_table

__all__ = [
    "AllocationError",
    "InfeasibleError",
    "MissingAttributeError",
    "ScenarioError",
    "allocate",
    "apply_preset",
    "check_formula",
    "currency_unit",
    "load_scenario",
    "needed_attributes",
    "participation_tier",
    "preset",
    "presets",
    "price_of",
    "shapley_of",
    "shapley_values",
    "to_csv",
    "to_json",
    "to_jsonable",
    "to_table",
    "what_if",
]
