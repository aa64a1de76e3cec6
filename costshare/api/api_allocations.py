"""API: the calculator, formulas and allocations.

`POST /calc` is `costshare calc` over HTTP: the same scenario JSON in, the same
result JSON out (byte for byte), the engine's error message as a 422.
Allocations follow the pages' rules: staff create drafts, coordinators
finalize, a member user reads only its own lines of final allocations of
offers it takes part in (404 for anything else).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Response, abort, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import exists, select
from sqlalchemy.orm import defer, selectinload
from werkzeug.exceptions import BadRequest

from costshare.access import access, member_scope
from costshare.allocations import services
from costshare.allocations.models import Allocation, AllocationLine, Formula
from costshare.api.openapi import PAGE_PARAMETERS, SCHEMAS, document, list_of, ref
from costshare.api.views import blueprint, paginated, whole_list
from costshare.audit.services import plain
from costshare.db import get_session
from costshare.engine import (
    AllocationError,
    allocate,
    load_scenario,
    presets,
    to_json,
    what_if,
)
from costshare.errors import ServiceError, json_error
from costshare.formulas import services as formulas
from costshare.members.fields import has_broken_text, text_problem
from costshare.offers.models import Offer, Participation
from costshare.urls import MAX_ID
from costshare.usage.figures import MAX_MONTHS
from costshare.usage.reports import METRICS

MONEY = ref("Money")
NULLABLE_MONEY = {"type": "string", "nullable": True, "pattern": r"^-?\d+(\.\d+)?$"}
SCHEMAS["CalcResult"] = {
    "type": "object",
    "description": (
        "The result of spec/allocation.md section 9 (or {years: [...]} with a term, or "
        "{before, after, changes} with ?drop=), exactly as `costshare calc` prints it."
    ),
}
SCHEMAS["Scenario"] = {
    "type": "object",
    "description": "A scenario (spec/allocation.md section 1); numbers may be strings.",
    "required": ["currency", "members", "formula"],
    "properties": {
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "total": {"description": "A decimal number, best as a string."},
        "pricing": {"type": "object"},
        "price_list": {"type": "object"},
        "term": {"type": "object"},
        "surcharge": {"description": "A decimal number, best as a string."},
        "subsidy": {"description": "A decimal number, best as a string."},
        "derived": {"type": "object"},
        "groups": {"type": "object"},
        "members": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code"],
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "attributes": {"type": "object"},
                },
            },
        },
        "formula": {"type": "object"},
    },
}
SCHEMAS["UsageSettings"] = {
    "type": "object",
    "description": (
        "Usage as a formula input: the member attribute `attribute` holds each member's "
        "`metric` over `window`, from the COUNTER reports imported for the offer's resource "
        "(or the stand-in `resource_id`, for a new product), master reports over their views. "
        "`missing` says what a member without usage in the window counts as: `zero`, or "
        "`refuse` (422 naming the members, `details.members`). It has no default."
    ),
    "required": ["metric", "window", "missing"],
    "properties": {
        "attribute": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]{0,63}$",
            "default": "usage",
            "description": "The attribute a formula component reads.",
        },
        "metric": {"type": "string", "enum": list(METRICS)},
        "window": {
            "oneOf": [
                {
                    "type": "object",
                    "description": (
                        "The `months` before the term starts (`before_term`, the default) "
                        "or before the billed year starts."
                    ),
                    "required": ["months"],
                    "properties": {
                        "months": {"type": "integer", "minimum": 1, "maximum": MAX_MONTHS},
                        "before_term": {"type": "boolean", "default": True},
                    },
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "description": "From the month `begin` to the month `end` (YYYY-MM).",
                    "required": ["begin", "end"],
                    "properties": {
                        "begin": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                        "end": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                    },
                    "additionalProperties": False,
                },
            ]
        },
        "resource_id": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_ID,
            "nullable": True,
            "description": "A stand-in resource whose usage counts; null: the offer's own.",
        },
        "missing": {"type": "string", "enum": ["zero", "refuse"]},
    },
    "additionalProperties": False,
}
SCHEMAS["Definition"] = {
    "type": "object",
    "required": ["formula"],
    "properties": {
        "formula": {"type": "object", "description": "The engine's formula (spec section 2-4)."},
        "derived": {"type": "object"},
        "groups": {"type": "object"},
        "usage": ref("UsageSettings"),
    },
    "additionalProperties": False,
}
SCHEMAS["Formula"] = {
    "type": "object",
    "required": ["id", "name", "definition"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "description": {"type": "string", "nullable": True},
        "source": {"type": "string", "nullable": True},
        "preset_key": {"type": "string", "nullable": True},
        "definition": ref("Definition"),
        "facts_needed": {"type": "array", "items": {"type": "string"}},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
SCHEMAS["FormulaInput"] = {
    "type": "object",
    "required": ["name", "definition"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "definition": ref("Definition"),
        "description": {"type": "string", "nullable": True},
        "source": {"type": "string", "nullable": True},
        "preset_key": {"type": "string", "nullable": True},
    },
}
SCHEMAS["Preset"] = {
    "type": "object",
    "required": ["key", "name", "formula"],
    "properties": {
        "key": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "source": {"type": "string"},
        "url": {"type": "string", "nullable": True},
        "attributes": {"type": "array", "items": {"type": "string"}},
        "formula": {"type": "object"},
        "derived": {"type": "object"},
        "pricing": {"type": "object"},
    },
}
SCHEMAS["AllocationLine"] = {
    "type": "object",
    "required": ["member_id", "code", "amount", "explanation"],
    "properties": {
        "member_id": {"type": "integer"},
        "code": {"type": "string"},
        "name": {"type": "string"},
        "amount": MONEY,
        "raw": MONEY,
        "surcharge": MONEY,
        "explanation": {"type": "object", "additionalProperties": MONEY},
        "bound": {"type": "string", "nullable": True},
        "solo_price": NULLABLE_MONEY,
        "savings": NULLABLE_MONEY,
        "savings_pct": NULLABLE_MONEY,
        "attributes": {"type": "object"},
        "facts_year": {"type": "object", "nullable": True},
    },
}
SCHEMAS["AllocationSummary"] = {
    "type": "object",
    "required": ["id", "offer_id", "term_year", "year", "status", "currency", "total"],
    "properties": {
        "id": {"type": "integer"},
        "offer_id": {"type": "integer"},
        "offer_title": {"type": "string"},
        "term_year": {"type": "integer"},
        "year": {"type": "integer"},
        "status": {"type": "string", "enum": ["draft", "final"]},
        "formula_id": {"type": "integer", "nullable": True},
        "formula_name": {"type": "string"},
        "currency": {"type": "string"},
        "price": MONEY,
        "surcharge_amount": MONEY,
        "subsidy": MONEY,
        "total": MONEY,
        "version": {"type": "integer"},
        "computed_at": {"type": "string", "format": "date-time"},
        "finalized_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}
SCHEMAS["Allocation"] = {
    "allOf": [
        ref("AllocationSummary"),
        {
            "type": "object",
            "properties": {
                "formula": ref("Definition"),
                "lines": {"type": "array", "items": ref("AllocationLine")},
                "inputs": {
                    "type": "object",
                    "description": (
                        "The exact scenario the engine was given (staff only). A formula "
                        "with usage adds `usage` (its settings) and `usage_figures` (each "
                        "member's uses, months with usage and the reports they came from), "
                        "which the engine never sees."
                    ),
                },
                "result": {"type": "object", "description": "The engine's result (staff only)."},
            },
        },
    ]
}
SCHEMAS["AllocationInput"] = {
    "type": "object",
    "required": ["offer_id"],
    "properties": {
        "offer_id": {"type": "integer", "minimum": 1},
        "term_year": {"type": "integer", "minimum": 1, "default": 1},
        "formula_id": {"type": "integer", "minimum": 1},
        "preset": {"type": "string", "enum": [p["key"] for p in presets()]},
        "definition": ref("Definition"),
        "name": {"type": "string", "maxLength": 255},
        "version": {"type": "integer", "description": "The draft's version you read (optional)."},
    },
}
SCHEMAS["VersionInput"] = {
    "type": "object",
    "properties": {"version": {"type": "integer", "description": "The version you read."}},
}


def _json_body(required: bool = True) -> dict[str, Any]:
    """Return the body as a JSON object (numbers as Decimal), or answer 400."""
    raw = request.get_data(cache=True)
    if not raw.strip() and not required:
        return {}
    try:
        data = json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError):
        raise BadRequest("The request body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    if has_broken_text(data):
        raise BadRequest(
            "The request body holds a NUL character or half of a Unicode character "
            "(a lone surrogate such as \\ud800): send whole characters."
        )
    return data


def _integer(data: dict[str, Any], key: str, default: Any = None, minimum: int = 1) -> Any:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_ID:
        raise ServiceError(f"'{key}' must be a whole number of at least {minimum}.", field=key)
    return value


def _text(data: dict[str, Any], key: str, multiline: bool = False) -> str | None:
    """Return the text under `key` (None when absent); control characters answer 400."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ServiceError(f"'{key}' must be text.", field=key)
    problem = text_problem(value.strip(), f"'{key}'", multiline)
    if problem:
        raise BadRequest(problem)
    return value


# ---------------------------------------------------------------------------------------------
# The calculator


def _engine_error(error: AllocationError) -> Response:
    details = {
        "field": error.field,
        "members": list(error.members),
        "attribute": error.attribute,
        "year": error.year,
        "group": error.group,
    }
    return json_error(422, " ".join(error.message.split()), details)


@blueprint.route("/calc", methods=["POST"])
@access("staff")
@document(
    "Split a scenario (the same input and output as `costshare calc`)",
    {200: ref("CalcResult"), 422: ref("Error")},
    [
        {
            "name": "drop",
            "in": "query",
            "description": "Member codes, comma-separated: also compute without them (what-if).",
            "schema": {"type": "string"},
        }
    ],
    {
        "required": True,
        "content": {"application/json": {"schema": ref("Scenario")}},
    },
)
def calc():
    drop = request.args.get("drop")
    try:
        scenario = load_scenario(request.get_data())
        if drop is None:
            result = allocate(scenario)
        else:
            codes = [code.strip() for code in drop.split(",")]
            if not all(codes):
                return json_error(
                    422, f"drop takes member codes separated by commas, not {drop!r}."
                )
            result = what_if(scenario, codes)
    except AllocationError as error:
        return _engine_error(error)
    except (TypeError, ValueError, ArithmeticError, RecursionError, KeyError):
        # The engine validates every field; anything else is a scenario it cannot read.
        current_app.logger.warning("calc refused an unreadable scenario", exc_info=True)
        return json_error(422, "The scenario cannot be read: check its structure.")
    return Response(to_json(result), mimetype="application/json")


# ---------------------------------------------------------------------------------------------
# Formulas


def formula_json(formula: Formula) -> dict[str, Any]:
    return {
        "id": formula.id,
        "name": formula.name,
        "description": formula.description,
        "source": formula.source,
        "preset_key": formula.preset_key,
        "definition": formula.definition,
        "facts_needed": formulas.facts_needed(formula.definition),
        "updated_at": formula.updated_at.isoformat(),
    }


@blueprint.route("/formulas")
@access("staff")
@document("List the saved formulas", {200: list_of("Formula")}, PAGE_PARAMETERS)
def formula_list():
    return paginated(select(Formula).order_by(Formula.name, Formula.id), formula_json)


@blueprint.route("/formulas/presets")
@access("staff")
@document(
    "The published cost-sharing models (presets)",
    {200: list_of("Preset")},
)
def formula_presets():
    return whole_list(plain(presets()))


@blueprint.route("/formulas/<int:formula_id>")
@access("staff")
@document("One saved formula", {200: ref("Formula"), 404: ref("Error")})
def formula_read(formula_id: int):
    formula = formulas.get_formula(get_session(), formula_id)
    if formula is None:
        abort(404)
    return jsonify(formula_json(formula))


@blueprint.route("/formulas", methods=["POST"])
@access("coordinator")
@document(
    "Save a new formula (checked by the engine)",
    {201: ref("Formula"), 400: ref("Error"), 403: ref("Error"), 422: ref("Error")},
    request_body={
        "required": True,
        "content": {"application/json": {"schema": ref("FormulaInput")}},
    },
)
def formula_create():
    data = _json_body()
    session = get_session()
    formula = formulas.create_formula(
        session,
        name=_text(data, "name") or "",
        definition=data.get("definition"),
        description=_text(data, "description", multiline=True),
        source=_text(data, "source", multiline=True),
        preset_key=_text(data, "preset_key"),
    )
    session.commit()
    return jsonify(formula_json(formula)), 201


# ---------------------------------------------------------------------------------------------
# Allocations


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | None, step: Decimal) -> str | None:
    """Write stored money (Numeric keeps four places) on the allocation's grid."""
    return None if value is None else format(value.quantize(step), "f")


def line_json(line: AllocationLine, step: Decimal) -> dict[str, Any]:
    return {
        "member_id": line.member_id,
        "code": line.code,
        "name": line.name,
        "amount": _money(line.amount, step),
        "raw": _money(line.raw, step),
        "surcharge": _money(line.surcharge, step),
        "explanation": line.explanation,
        "bound": line.bound,
        "solo_price": _money(line.solo_price, step),
        "savings": _money(line.savings, step),
        "savings_pct": _money(line.savings_pct, Decimal("0.0001")),
        "attributes": line.attributes,
        "facts_year": line.facts_year,
    }


def allocation_summary(allocation: Allocation) -> dict[str, Any]:
    step = services.quantum(allocation)
    return {
        "id": allocation.id,
        "offer_id": allocation.offer_id,
        "offer_title": allocation.offer.title,
        "term_year": allocation.term_year,
        "year": allocation.year,
        "status": allocation.status,
        "formula_id": allocation.formula_id,
        "formula_name": allocation.formula_name,
        "currency": allocation.currency,
        "price": _money(allocation.price, step),
        "surcharge_amount": _money(allocation.surcharge_amount, step),
        "subsidy": _money(allocation.subsidy, step),
        "total": _money(allocation.total, step),
        "version": allocation.version,
        "computed_at": _iso(allocation.computed_at),
        "finalized_at": _iso(allocation.finalized_at),
    }


def allocation_json(allocation: Allocation, member_id: int | None = None) -> dict[str, Any]:
    """Return an allocation: everything for staff, only its own lines for a member user."""
    data = allocation_summary(allocation)
    data["formula"] = services.definition_of(allocation.inputs)
    step = services.quantum(allocation)
    lines = services.member_lines(allocation, member_id)
    data["lines"] = [line_json(line, step) for line in lines]
    if member_id is None:
        data["inputs"] = allocation.inputs
        data["result"] = allocation.result
    return data


def _visible_allocation(allocation_id: int) -> Allocation:
    allocation = services.load_allocation(get_session(), allocation_id)
    if allocation is None:
        abort(404)
    scope = member_scope()
    if scope is not None and not services.visible_to_member(allocation, scope):
        abort(404)
    return allocation


def _takes_part(offer_id: int, member_id: int) -> bool:
    session = get_session()
    joined = exists().where(
        Participation.offer_id == offer_id,
        Participation.member_id == member_id,
        Participation.status == "joined",
    )
    billed = (
        exists()
        .where(AllocationLine.allocation_id == Allocation.id)
        .where(Allocation.offer_id == offer_id, AllocationLine.member_id == member_id)
    )
    return bool(session.scalar(select(joined | billed)))


@blueprint.route("/allocations")
@access("user")
@document(
    "List allocations (a member user: final ones of offers it takes part in)",
    {200: list_of("AllocationSummary"), 404: ref("Error")},
    [
        *PAGE_PARAMETERS,
        {"name": "offer_id", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["draft", "final"]}},
    ],
)
def allocation_list():
    session = get_session()
    query = (
        select(Allocation)
        # A summary names the offer and reads the rounding from the inputs, never the result.
        .options(defer(Allocation.result), selectinload(Allocation.offer).load_only(Offer.title))
        .order_by(Allocation.year.desc(), Allocation.offer_id, Allocation.term_year, Allocation.id)
    )
    offer_id = request.args.get("offer_id", type=int)
    if "offer_id" in request.args and (
        offer_id is None or services.load_offer(session, offer_id) is None
    ):
        abort(404)
    scope = member_scope()
    if offer_id is not None:
        if scope is not None and not _takes_part(offer_id, scope):
            abort(404)
        query = query.where(Allocation.offer_id == offer_id)
    status = request.args.get("status")
    if status in ("draft", "final"):
        query = query.where(Allocation.status == status)
    if scope is not None:
        query = query.where(
            Allocation.status == "final",
            exists().where(
                AllocationLine.allocation_id == Allocation.id, AllocationLine.member_id == scope
            ),
        )
    return paginated(query, allocation_summary)


@blueprint.route("/allocations/<int:allocation_id>")
@access("user")
@document(
    "One allocation with its lines (a member user: its own line of a final allocation)",
    {200: ref("Allocation"), 404: ref("Error")},
)
def allocation_read(allocation_id: int):
    allocation = _visible_allocation(allocation_id)
    return jsonify(allocation_json(allocation, member_scope()))


def _definition(data: dict[str, Any]) -> tuple[dict[str, Any], str, Formula | None]:
    """Return the definition the body names (formula_id, preset or definition), name, formula."""
    given = [key for key in ("formula_id", "preset", "definition") if data.get(key) is not None]
    if len(given) != 1:
        raise ServiceError(
            "Name exactly one of 'formula_id', 'preset' and 'definition'.", field="formula_id"
        )
    name = _text(data, "name")
    if given[0] == "formula_id":
        formula = formulas.get_formula(get_session(), _integer(data, "formula_id"))
        if formula is None:
            abort(404, "There is no formula with this id.")
        return formula.definition, name or formula.name, formula
    if given[0] == "preset":
        choice = formulas.find_choice(get_session(), f"preset:{_text(data, 'preset')}")
        if choice is None:
            raise ServiceError("There is no preset with this key.", field="preset")
        return choice.definition, name or choice.name, None
    return formulas.clean_definition(data["definition"]), name or "Custom formula", None


@blueprint.route("/allocations", methods=["POST"])
@access("staff")
@document(
    "Compute the draft allocation of an offer's term year (replacing the draft there was)",
    {
        200: ref("Allocation"),
        201: ref("Allocation"),
        400: ref("Error"),
        404: ref("Error"),
        409: ref("Error"),
        422: ref("Error"),
    },
    request_body={
        "required": True,
        "content": {"application/json": {"schema": ref("AllocationInput")}},
    },
)
def allocation_create():
    data = _json_body()
    session = get_session()
    offer_id = _integer(data, "offer_id")
    if offer_id is None:
        raise ServiceError("'offer_id' names the offer to allocate.", field="offer_id")
    offer = services.load_offer(session, offer_id)
    if offer is None:
        abort(404)
    term_year = _integer(data, "term_year", 1)
    if term_year > offer.term_years:
        abort(
            404, f"This offer's term has {offer.term_years} year(s); there is no year {term_year}."
        )
    definition, name, formula = _definition(data)
    existed = services.find(session, offer.id, term_year, "draft") is not None
    draft = services.save_draft(
        session,
        offer,
        term_year,
        definition,
        name=name,
        formula=formula,
        version=_integer(data, "version", minimum=0),
    )
    session.commit()
    return jsonify(allocation_json(draft)), 200 if existed else 201


@blueprint.route("/allocations/<int:allocation_id>/recompute", methods=["POST"])
@access("staff")
@document(
    "Recompute a draft from the offer's current figures",
    {
        200: ref("Allocation"),
        400: ref("Error"),
        404: ref("Error"),
        409: ref("Error"),
        422: ref("Error"),
    },
    request_body={"content": {"application/json": {"schema": ref("VersionInput")}}},
)
def allocation_recompute(allocation_id: int):
    data = _json_body(required=False)
    session = get_session()
    allocation = _visible_allocation(allocation_id)
    services.recompute(session, allocation, _integer(data, "version", minimum=0))
    session.commit()
    return jsonify(allocation_json(services.load_allocation(session, allocation_id)))


@blueprint.route("/allocations/<int:allocation_id>/finalize", methods=["POST"])
@access("coordinator")
@document(
    "Finalize a draft: its inputs and amounts never change again (coordinators)",
    {
        200: ref("Allocation"),
        400: ref("Error"),
        403: ref("Error"),
        404: ref("Error"),
        409: ref("Error"),
        422: ref("Error"),
    },
    request_body={"content": {"application/json": {"schema": ref("VersionInput")}}},
)
def allocation_finalize(allocation_id: int):
    data = _json_body(required=False)
    session = get_session()
    allocation = _visible_allocation(allocation_id)
    services.finalize(session, allocation, current_user, _integer(data, "version", minimum=0))
    session.commit()
    return jsonify(allocation_json(allocation))
