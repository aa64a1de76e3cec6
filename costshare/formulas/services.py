"""Formulas: the models consortia publish (presets) and the consortium's own saved formulas.

A formula's *definition* is what the engine takes besides the price and the
members: ``{"formula": {...}}`` and optionally ``"derived"`` (computed
attributes such as a weighted FTE) and ``"groups"`` (two-level splits) — and
``"usage"``, which the engine never sees: it names the usage a member attribute
holds (`costshare.usage.services.clean_usage_spec`), resolved when a split is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from costshare.allocations.inputs import build_scenario
from costshare.allocations.models import Formula
from costshare.audit.services import changes, record, snapshot
from costshare.engine import (
    AllocationError,
    check_formula,
    needed_attributes,
    presets,
    to_jsonable,
)
from costshare.errors import ServiceError
from costshare.members.fields import text_problem
from costshare.offers.models import Offer, Resource
from costshare.urls import bounded_id
from costshare.usage.services import clean_usage_spec

#: The keys of a definition (spec/allocation.md: `formula`, `derived`, `groups`; and `usage`).
DEFINITION_KEYS = ("formula", "derived", "groups", "usage")
#: Pricing that fills in solo prices itself, so a `cap: solo_price` needs none typed in.
SOLO_PRICING_KINDS = ("per_member", "per_unit")
NAME_MAX = 255


class Problem(ServiceError):
    """Engine errors as sentences for the user, each with the scenario field it is about."""

    errors: tuple[AllocationError, ...] = ()


def _details(error: AllocationError) -> dict[str, Any]:
    return {
        "field": error.field,
        "members": list(error.members),
        "attribute": error.attribute,
        "year": error.year,
        "group": error.group,
    }


def engine_problem(*errors: AllocationError) -> Problem:
    """Turn engine errors (the first is the headline) into one ServiceError keeping every field."""
    first = errors[0]
    details = _details(first)
    if len(errors) > 1:
        details["problems"] = [{"message": e.message, **_details(e)} for e in errors]
    problem = Problem(first.message, field=first.field, details=details)
    problem.errors = tuple(errors)
    return problem


def usage_problem(error: ServiceError) -> ServiceError:
    """Return a refusal of the usage settings as a Problem naming its field and members.

    `costshare.usage.services` refuses with a ServiceError (`usage.missing` naming the
    members without usage, …); as a Problem it is shown beside its field like an
    engine error. Any other error is returned unchanged.
    """
    if isinstance(error, Problem) or not (error.field or "").startswith("usage"):
        return error
    details = error.details if isinstance(error.details, dict) else {}
    return engine_problem(
        AllocationError(
            error.message,
            field=error.field,
            members=details.get("members", ()),
            attribute=details.get("attribute"),
        )
    )


@dataclass(frozen=True)
class Choice:
    """A formula a user can pick: a saved formula or a preset."""

    key: str
    name: str
    definition: dict[str, Any]
    formula: Formula | None = None
    preset: dict[str, Any] | None = None

    @property
    def description(self) -> str | None:
        if self.formula is not None:
            return self.formula.description
        return self.preset["description"] if self.preset else None


def preset_definition(preset: dict[str, Any]) -> dict[str, Any]:
    """Return a preset's definition (its `pricing`, if any, is the vendor's, not the formula's)."""
    return to_jsonable({key: preset[key] for key in DEFINITION_KEYS if key in preset})


def preset_choices() -> list[Choice]:
    return [
        Choice(f"preset:{p['key']}", p["name"], preset_definition(p), preset=p) for p in presets()
    ]


def find_preset(key: str) -> dict[str, Any] | None:
    return next((p for p in presets() if p["key"] == key), None)


def get_formula(session: Session, formula_id: int | None) -> Formula | None:
    """Return the saved formula with this id, or None (also for an impossible id)."""
    if bounded_id(formula_id) is None:
        return None
    return session.get(Formula, formula_id)


def saved_formulas(session: Session) -> list[Formula]:
    return list(session.scalars(select(Formula).order_by(Formula.name, Formula.id)))


def choices(session: Session) -> list[Choice]:
    """Return every formula a user can pick: the saved ones first, then the presets."""
    saved = [
        Choice(f"formula:{f.id}", f.name, f.definition, formula=f) for f in saved_formulas(session)
    ]
    return saved + preset_choices()


def find_choice(session: Session, key: str | None) -> Choice | None:
    """Return the choice named `key` ("formula:12" or "preset:equal"), or None."""
    if not key:
        return None
    kind, _, ident = key.partition(":")
    if kind == "preset":
        found = find_preset(ident)
        if found is None:
            return None
        return Choice(key, found["name"], preset_definition(found), preset=found)
    if kind == "formula" and ident.isdigit() and len(ident) < 10:
        formula = get_formula(session, int(ident))
        if formula is None:
            return None
        return Choice(key, formula.name, formula.definition, formula=formula)
    return None


def _refuse(message: str, field: str) -> Problem:
    return engine_problem(AllocationError(message, field=field))


def clean_definition(data: Any) -> dict[str, Any]:
    """Return `data` as a definition the engine can read, or raise a Problem naming the field."""
    if not isinstance(data, dict):
        raise _refuse("A formula definition must be a JSON object with a 'formula'.", "formula")
    unknown = sorted(str(key) for key in data if key not in DEFINITION_KEYS)
    if unknown:
        raise _refuse(
            f"Unknown key '{unknown[0]}' in the definition"
            f" (allowed: {', '.join(DEFINITION_KEYS)}).",
            unknown[0],
        )
    if not isinstance(data.get("formula"), dict):
        raise _refuse("The definition needs a 'formula' object.", "formula")
    for key in ("derived", "groups"):
        if key in data and not isinstance(data[key], dict):
            raise _refuse(f"'{key}' must be a JSON object.", key)
    try:
        needed_attributes(data["formula"], data.get("derived"))
    except AllocationError as error:
        raise engine_problem(error) from None
    except (TypeError, ValueError, ArithmeticError):
        raise _refuse("The formula cannot be read.", "formula") from None
    cleaned = {key: data[key] for key in DEFINITION_KEYS if key in data}
    if "usage" in data:
        try:
            cleaned["usage"] = clean_usage_spec(data["usage"])
        except ServiceError as error:
            raise usage_problem(error) from None
    return to_jsonable(cleaned)


def usage_attribute_of(definition: dict[str, Any]) -> str | None:
    """Return the attribute a definition's usage settings fill in (None without usage)."""
    usage = definition.get("usage") if isinstance(definition, dict) else None
    if not isinstance(usage, dict):
        return None
    attribute = usage.get("attribute", "usage")
    return attribute if isinstance(attribute, str) else None


def facts_needed(definition: dict[str, Any]) -> list[str]:
    """Return the member facts a definition reads (empty when it cannot be read).

    The attribute its usage settings fill in is no fact: it comes from the usage imported.
    """
    try:
        needed = needed_attributes(definition.get("formula", {}), definition.get("derived"))
    except (AllocationError, TypeError, ValueError, ArithmeticError):
        return []
    usage = usage_attribute_of(definition)
    return [name for name in needed if name != usage]


def computes_solo_prices(scenario: dict[str, Any]) -> bool:
    """Return True when the scenario's pricing fills in solo prices members lack."""
    pricing = scenario.get("pricing")
    kind = pricing.get("kind") if isinstance(pricing, dict) else None
    return kind in SOLO_PRICING_KINDS or "price_list" in scenario


def problems_with(scenario: dict[str, Any]) -> list[AllocationError]:
    """Return every problem the scenario's formula has with its members, before computing."""
    try:
        problems = check_formula(
            scenario.get("formula", {}),
            scenario["members"],
            scenario.get("derived"),
            scenario.get("currency", "EUR"),
        )
    except (TypeError, ValueError, ArithmeticError) as error:  # pragma: no cover - engine guards
        return [AllocationError(f"The formula cannot be read: {error}", field="formula")]
    if computes_solo_prices(scenario):
        # The pricing computes the solo prices members lack; only the split can tell.
        problems = [p for p in problems if p.attribute != "solo_price"]
    return problems


def check_against(
    session: Session, definition: dict[str, Any], offer: Offer, term_year: int = 1
) -> list[AllocationError]:
    """Return every problem `definition` has with the members who joined `offer`.

    Usage a member lacks under "refuse" is one of them (a Problem beside `usage.missing`).
    """
    try:
        scenario = build_scenario(session, offer, definition, term_year=term_year).scenario
    except ServiceError as error:
        problem = usage_problem(error)
        if isinstance(problem, Problem):
            return list(problem.errors)
        raise
    return problems_with(scenario)


def _clean_text(
    value: str | None, what: str, field: str, limit: int | None = None, multiline: bool = False
) -> str | None:
    value = (value or "").strip()
    problem = text_problem(value, what, multiline)
    if problem:
        raise ServiceError(problem, field=field)
    if limit is not None and len(value) > limit:
        raise ServiceError(f"The {what} is longer than {limit} characters.", field=field)
    return value or None


def _unique_name(session: Session, name: str | None, formula_id: int | None = None) -> str:
    if not name:
        raise ServiceError("Give the formula a name.", field="name")
    query = select(Formula.id).where(Formula.name == name)
    if formula_id is not None:
        query = query.where(Formula.id != formula_id)
    if session.scalar(query) is not None:
        # Mirrors the unique constraint uq_formula_name.
        raise ServiceError("A formula with this name already exists.", field="name")
    return name


def _checked(session: Session, definition: Any) -> dict[str, Any]:
    """Return `definition` cleaned, its stand-in resource (if any) known to the database."""
    cleaned = clean_definition(definition)
    resource_id = (cleaned.get("usage") or {}).get("resource_id")
    if resource_id is not None and session.get(Resource, resource_id) is None:
        raise usage_problem(
            ServiceError(
                f"There is no resource {resource_id} to take usage from.",
                field="usage.resource_id",
            )
        )
    return cleaned


def create_formula(
    session: Session,
    *,
    name: str,
    definition: Any,
    description: str | None = None,
    source: str | None = None,
    preset_key: str | None = None,
    user_id: int | None = None,
) -> Formula:
    """Save a new formula after checking that the engine can read it."""
    name = _unique_name(session, _clean_text(name, "name", "name", NAME_MAX))
    if preset_key is not None and find_preset(preset_key) is None:
        raise ServiceError(f"There is no preset '{preset_key}'.", field="preset_key")
    formula = Formula(
        name=name,
        description=_clean_text(description, "description", "description", 4000, multiline=True),
        source=_clean_text(source, "source", "source", 4000, multiline=True),
        preset_key=preset_key,
        definition=_checked(session, definition),
    )
    session.add(formula)
    session.flush()
    record(
        session,
        "formula.create",
        formula,
        f"Formula '{formula.name}' created",
        after=snapshot(formula),
        user_id=user_id,
    )
    return formula


def update_formula(
    session: Session,
    formula: Formula,
    *,
    name: str,
    definition: Any,
    description: str | None = None,
    source: str | None = None,
) -> Formula:
    """Change a saved formula; allocations already computed keep the formula they used."""
    before = snapshot(formula)
    formula.name = _unique_name(session, _clean_text(name, "name", "name", NAME_MAX), formula.id)
    formula.description = _clean_text(
        description, "description", "description", 4000, multiline=True
    )
    formula.source = _clean_text(source, "source", "source", 4000, multiline=True)
    formula.definition = _checked(session, definition)
    session.flush()
    old, new = changes(before, snapshot(formula))
    if new:
        record(session, "formula.update", formula, f"Formula '{formula.name}' changed", old, new)
    return formula


def save_presets(session: Session, user_id: int | None = None) -> list[Formula]:
    """Save every preset as a formula (skipping names already taken); return the new ones."""
    taken = set(session.scalars(select(Formula.name)))
    saved = []
    for preset in presets():
        if preset["name"] in taken:
            continue
        saved.append(
            create_formula(
                session,
                name=preset["name"],
                definition=preset_definition(preset),
                description=preset["description"],
                source=preset["source"] + (f" {preset['url']}" if preset.get("url") else ""),
                preset_key=preset["key"],
                user_id=user_id,
            )
        )
    return saved
