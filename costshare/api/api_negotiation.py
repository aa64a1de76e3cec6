"""API: negotiation: what-if participation and saved scenarios (consortium staff).

The same rules and the same computation as the Negotiation page: a what-if
never changes the offer; a saved scenario is a named what-if anyone of the
staff can reopen. Member tokens get 404.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, jsonify, url_for
from flask_login import current_user
from sqlalchemy import select

from costshare.access import access
from costshare.api.openapi import PAGE_PARAMETERS, SCHEMAS, document, list_of, ref
from costshare.api.views import blueprint, paginated
from costshare.db import get_session
from costshare.engine import to_jsonable
from costshare.errors import ServiceError
from costshare.members.fields import read_json
from costshare.negotiation import services
from costshare.negotiation.core import CoreCheck
from costshare.offers.models import Scenario

MONEY = ref("Money")
NULLABLE_MONEY = {"type": "string", "nullable": True, "pattern": r"^-?\d+(\.\d+)?$"}
STATE_PROPERTIES = {
    "members": {
        "type": "array",
        "nullable": True,
        "minItems": 1,
        "items": {"type": "string"},
        "description": "Member codes in the deal; null or absent: those who joined.",
    },
    "formula": {
        "type": "string",
        "nullable": True,
        "description": "'allocation', 'method:proportional_savings', 'formula:ID', 'preset:KEY'.",
    },
    "uplift": {
        "type": "string",
        "nullable": True,
        # −0.5 to 1 (−50 % to +100 %).
        "pattern": r"^(-0(\.([0-4][0-9]*|50*))?|0(\.[0-9]+)?|1(\.0+)?)$",
        "description": "Yearly uplift instead of the round's, a fraction (-0.5 to 1).",
    },
    "max_change": {
        "type": "string",
        "nullable": True,
        "pattern": r"^(0(\.[0-9]+)?|1(\.0+)?)$",
        "description": "Phase-in limit instead of the formula's, a fraction (0 to 1).",
    },
}
SCHEMAS["WhatIfInput"] = {
    "type": "object",
    "properties": STATE_PROPERTIES,
    "additionalProperties": False,
}
SCHEMAS["ScenarioInput"] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        **STATE_PROPERTIES,
        "name": {"type": "string", "pattern": r"\S", "maxLength": services.NAME_MAX},
        "note": {"type": "string", "nullable": True, "maxLength": services.NOTE_MAX},
    },
    "additionalProperties": False,
}
SCHEMAS["Scenario"] = {
    "type": "object",
    "required": ["id", "offer_id", "name", "data", "url"],
    "properties": {
        "id": {"type": "integer"},
        "offer_id": {"type": "integer"},
        "name": {"type": "string"},
        "note": {"type": "string", "nullable": True},
        "data": {"type": "object"},
        "created_by": {"type": "string", "nullable": True},
        "created_at": {"type": "string"},
        "url": {"type": "string"},
    },
}
SCHEMAS["CoreCheck"] = {
    "type": "object",
    "nullable": True,
    "required": ["in_core", "groups"],
    "properties": {
        "in_core": {"type": "boolean"},
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "members": {"type": "array", "items": {"type": "string"}},
                    "paid": MONEY,
                    "alone": MONEY,
                    "excess": MONEY,
                },
            },
        },
    },
}
SCHEMAS["WhatIf"] = {
    "type": "object",
    "required": ["offer_id", "state", "formula", "result", "changes", "tier", "fairness"],
    "properties": {
        "offer_id": {"type": "integer"},
        "state": {"type": "object"},
        "formula": {
            "type": "object",
            "properties": {"key": {"type": "string"}, "label": {"type": "string"}},
        },
        "result": {"type": "object", "description": "The engine's result (year 1 of a term)."},
        "baseline": {"type": "object", "nullable": True},
        "changes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "status": {"type": "string", "enum": ["in", "out", "new"]},
                    "before": NULLABLE_MONEY,
                    "after": NULLABLE_MONEY,
                    "change": NULLABLE_MONEY,
                },
            },
        },
        "tier": {"type": "object", "nullable": True},
        "fairness": {
            "type": "object",
            "properties": {
                "shapley": {"type": "object", "additionalProperties": MONEY},
                "formula_core": ref("CoreCheck"),
                "shapley_core": ref("CoreCheck"),
                "core_check_does_not_apply": {"type": "string", "nullable": True},
            },
        },
        "years": {
            "type": "array",
            "nullable": True,
            "items": {"type": "object"},
            "description": "Each term year's result, for a multi-year offer.",
        },
    },
}
ERRORS = {400: ref("Error"), 404: ref("Error"), 409: ref("Error"), 422: ref("Error")}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


def _context(offer_id: int) -> services.Context:
    session = get_session()
    offer = services.offer_for_negotiation(session, offer_id)
    if offer is None:
        abort(404)
    return services.context(session, offer)


def _state(ctx: services.Context, body: dict[str, Any], extra: tuple[str, ...] = ()) -> Any:
    allowed = set(STATE_PROPERTIES) | set(extra)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ServiceError(f"Unknown field(s): {', '.join(unknown)}.", field=unknown[0])
    data = dict(body)
    for key in ("formula", "uplift", "max_change"):
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal | None):
            raise ServiceError(f"'{key}' must be a text or a number.", field=key)
    members = data.get("members")
    if members is not None and (
        not isinstance(members, list) or not all(isinstance(m, str) for m in members)
    ):
        raise ServiceError("'members' must be a list of member codes.", field="members")
    return services.resolve(ctx, data)


def _with_field(error: ServiceError) -> ServiceError:
    """Return the error with its field named in `details`, as the other API endpoints do."""
    if error.details is None and error.field:
        error.details = {error.field: error.message}
    return error


def _core(check: CoreCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {
        "in_core": check.in_core,
        "groups": [
            {
                "members": list(g.codes),
                "paid": str(g.paid),
                "alone": str(g.alone),
                "excess": str(g.excess),
            }
            for g in check.groups
        ],
    }


def what_if_json(ws: services.Workspace) -> dict[str, Any]:
    if ws.error is not None or ws.empty is not None:
        # The request is well formed; the offer's own figures (missing facts or list
        # prices, bounds that cannot hold, nobody joined) cannot give an answer.
        raise services.DoesNotApply(ws.error or ws.empty, field="members")
    tier = None
    if ws.tier is not None:
        tier = {
            "change": ws.tier.change,
            "before": ws.tier.before,
            "after": ws.tier.after,
            "members_before": ws.tier.count_before,
            "members_after": ws.tier.count_after,
            "next": ws.tier.next,
            "more_members_needed": ws.tier.more_needed if ws.tier.next else None,
        }
    fairness = ws.fairness
    assert fairness is not None
    return to_jsonable(
        {
            "offer_id": ws.offer.id,
            "state": ws.state.data(),
            "formula": {"key": ws.choice.key, "label": ws.choice.label},
            "result": ws.result,
            "baseline": ws.baseline,
            "changes": [
                {
                    "code": c.code,
                    "status": c.status,
                    "before": c.before,
                    "after": c.after,
                    "change": c.difference,
                }
                for c in ws.changes
            ],
            "tier": tier,
            "fairness": {
                "shapley": fairness.shapley,
                "formula_core": _core(fairness.formula_core),
                "shapley_core": _core(fairness.shapley_core),
                "core_check_does_not_apply": fairness.reason,
            },
            "years": ws.projection.results if ws.projection else None,
        }
    )


def scenario_json(scenario: Scenario) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "offer_id": scenario.offer_id,
        "name": scenario.name,
        "note": scenario.note,
        "data": scenario.data,
        "created_by": scenario.created_by.email if scenario.created_by else None,
        "created_at": scenario.created_at.isoformat(),
        "url": url_for("negotiation.scenario", scenario_id=scenario.id, _external=True),
    }


@blueprint.route("/offers/<int:offer_id>/what-if", methods=["POST"])
@access("staff")
@document(
    "What if these members took part, under this formula (nothing is saved)",
    {200: ref("WhatIf"), **ERRORS},
    request_body=_body("WhatIfInput"),
    tags=["negotiation"],
)
def what_if(offer_id: int):
    ctx = _context(offer_id)
    try:
        state = _state(ctx, read_json())
    except ServiceError as error:
        raise _with_field(error) from None
    ws = services.workspace(get_session(), ctx, state, with_extras=False)
    return jsonify(what_if_json(ws))


@blueprint.route("/offers/<int:offer_id>/scenarios")
@access("staff")
@document(
    "The saved scenarios of an offer, newest first",
    {200: list_of("Scenario"), 404: ref("Error")},
    PAGE_PARAMETERS,
    tags=["negotiation"],
)
def scenarios(offer_id: int):
    _context(offer_id)
    query = (
        select(Scenario)
        .where(Scenario.offer_id == offer_id)
        .order_by(Scenario.created_at.desc(), Scenario.id.desc())
    )
    return paginated(query, scenario_json)


@blueprint.route("/offers/<int:offer_id>/scenarios", methods=["POST"])
@access("staff")
@document(
    "Save a what-if under a name (the offer does not change)",
    {201: ref("Scenario"), **ERRORS},
    request_body=_body("ScenarioInput"),
    tags=["negotiation"],
)
def create_scenario(offer_id: int):
    ctx = _context(offer_id)
    body = read_json()
    session = get_session()
    try:
        state = _state(ctx, body, extra=("name", "note"))
        for key in ("name", "note"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise ServiceError(f"'{key}' must be a text.", field=key)
        saved = services.save_scenario(
            session, ctx, state, body.get("name"), body.get("note"), current_user
        )
    except ServiceError as error:
        raise _with_field(error) from None
    session.commit()
    return jsonify(scenario_json(saved)), 201


@blueprint.route("/scenarios/<int:scenario_id>")
@access("staff")
@document("One saved scenario", {200: ref("Scenario"), 404: ref("Error")}, tags=["negotiation"])
def scenario(scenario_id: int):
    found = services.load_scenario(get_session(), scenario_id)
    if found is None:
        abort(404)
    return jsonify(scenario_json(found))
