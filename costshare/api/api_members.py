"""API: members and their facts.

Reads follow the pages' rules (a member user sees only its own member, 404
for any other); creating and editing is for coordinators. Input goes through
the very forms the pages use, so a value refused on a page is refused here.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from costshare.access import access, ensure_member_visible, member_scope
from costshare.api.openapi import PAGE_PARAMETERS, SCHEMAS, document, list_of, ref
from costshare.api.views import blueprint, paginated, whole_list
from costshare.db import get_session
from costshare.errors import ServiceError
from costshare.members import schemas, services
from costshare.members.fields import (
    formdata_from_json,
    plain_number,
    read_json,
    refuse,
)
from costshare.members.forms import MEMBER_FIELDS, FactForm, MemberForm
from costshare.members.models import Member, MemberFact

SCHEMAS["Member"] = {
    "type": "object",
    "required": ["id", "code", "name"],
    "properties": {
        "id": {"type": "integer"},
        "code": {"type": "string"},
        "name": {"type": "string"},
        "sector": {"type": "string", "nullable": True},
        "billing_currency": {"type": "string"},
        "tax_id": {"type": "string", "nullable": True},
        "active": {"type": "boolean"},
    },
}
SCHEMAS["Fact"] = {
    "type": "object",
    "required": ["year", "name", "value"],
    "properties": {
        "year": {"type": "integer"},
        "name": {"type": "string"},
        "value": {"type": "string"},
    },
}
SCHEMAS["MemberDetail"] = {
    "allOf": [
        ref("Member"),
        {
            "type": "object",
            "properties": {
                "billing_address": {"type": "string", "nullable": True},
                "tax_treatment": {"type": "string"},
                "tax_rate": {"type": "string", "nullable": True},
                "finance_contact_name": {"type": "string", "nullable": True},
                "finance_contact_email": {"type": "string", "nullable": True},
                "counter_ids": {"type": "string", "nullable": True},
                "facts": {"type": "array", "items": ref("Fact")},
            },
        },
    ]
}
MEMBER_PROPERTIES = {
    "code": schemas.MEMBER_CODE,
    "name": schemas.text(255, required=True),
    "sector": schemas.text(64),
    "billing_currency": schemas.CURRENCY,
    "tax_treatment": {"type": "string", "enum": ["standard", "exempt", "reverse_charge"]},
    "tax_rate": {
        "type": "string",
        "pattern": schemas.FRACTION_PATTERN,
        "nullable": True,
        "description": "overrides the consortium's rate: a fraction, e.g. 0.06",
    },
    "billing_address": schemas.text(2000),
    "finance_contact_name": schemas.text(255),
    "finance_contact_email": schemas.EMAIL,
    "tax_id": schemas.text(64),
    "counter_ids": schemas.text(2000),
    "active": {"type": "boolean"},
}
SCHEMAS["MemberInput"] = {
    "type": "object",
    "required": ["code", "name"],
    "properties": MEMBER_PROPERTIES,
    "additionalProperties": False,
}
SCHEMAS["MemberChanges"] = {
    "type": "object",
    "properties": MEMBER_PROPERTIES,
    "additionalProperties": False,
}
SCHEMAS["FactsInput"] = {
    "type": "object",
    "required": ["facts"],
    "properties": {
        "facts": {
            "type": "array",
            "maxItems": 10000,
            "items": {
                "type": "object",
                "required": ["year", "name"],
                "properties": {
                    "year": schemas.YEAR,
                    "name": schemas.FACT_NAME,
                    "value": {
                        "type": "string",
                        "pattern": schemas.FACT_VALUE_PATTERN,
                        "nullable": True,
                        "description": "the number as text; null removes the fact",
                    },
                },
                "additionalProperties": False,
            },
        }
    },
    "additionalProperties": False,
}
SCHEMAS["FactsSaved"] = {
    "type": "object",
    "properties": {
        "created": {"type": "integer"},
        "updated": {"type": "integer"},
        "removed": {"type": "integer"},
    },
}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


def member_json(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "code": member.code,
        "name": member.name,
        "sector": member.sector,
        "billing_currency": member.billing_currency,
        "tax_id": member.tax_id,
        "active": member.active,
    }


def member_detail_json(member: Member) -> dict[str, Any]:
    data = member_json(member)
    data.update(
        {
            "billing_address": member.billing_address,
            "tax_treatment": member.tax_treatment,
            "tax_rate": None if member.tax_rate is None else plain_number(member.tax_rate),
            "finance_contact_name": member.finance_contact_name,
            "finance_contact_email": member.finance_contact_email,
            "counter_ids": member.counter_ids,
            "facts": [fact_json(f) for f in member.facts],
        }
    )
    return data


def fact_json(fact: MemberFact) -> dict[str, Any]:
    return {"year": fact.year, "name": fact.name, "value": plain_number(fact.value)}


SEARCH = [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}}]


@blueprint.route("/members")
@access("user")
@document(
    "List members (a member user sees only its own); `q` searches code and name",
    {200: list_of("Member")},
    PAGE_PARAMETERS + SEARCH,
)
def members():
    query = select(Member).order_by(Member.code, Member.id)
    scope = member_scope()
    if scope is not None:
        query = query.where(Member.id == scope)
    search = request.args.get("q", "").strip()[:100].lower()
    if search:
        query = query.where(
            or_(
                func.lower(Member.code).like(f"%{search}%"),
                func.lower(Member.name).like(f"%{search}%"),
            )
        )
    return paginated(query, member_json)


def _member_or_404(member_id: int) -> Member:
    ensure_member_visible(member_id)
    found = get_session().get(Member, member_id, options=[selectinload(Member.facts)])
    if found is None:
        abort(404)
    return found


@blueprint.route("/members/<int:member_id>")
@access("user")
@document("One member with its facts", {200: ref("MemberDetail"), 404: ref("Error")})
def member(member_id: int):
    return jsonify(member_detail_json(_member_or_404(member_id)))


def _member_form(values: dict[str, Any]) -> MemberForm:
    form = MemberForm(formdata=formdata_from_json(values, MEMBER_FIELDS), meta={"csrf": False})
    if not form.validate():
        raise refuse(form)
    return form


@blueprint.route("/members", methods=["POST"])
@access("coordinator")
@document(
    "Add a member (coordinators)",
    {201: ref("MemberDetail"), 400: ref("Error"), 409: ref("Error"), 422: ref("Error")},
    request_body=_body("MemberInput"),
)
def create_member():
    body = read_json()
    values = {"billing_currency": current_app.config["BASE_CURRENCY"], "active": True, **body}
    form = _member_form(values)
    session = get_session()
    created = services.create_member(session, form.values())
    session.commit()
    return jsonify(member_detail_json(created)), 201


@blueprint.route("/members/<int:member_id>", methods=["PATCH"])
@access("coordinator")
@document(
    "Change some of a member's fields (coordinators)",
    {
        200: ref("MemberDetail"),
        400: ref("Error"),
        404: ref("Error"),
        409: ref("Error"),
        422: ref("Error"),
    },
    request_body=_body("MemberChanges"),
)
def update_member(member_id: int):
    found = _member_or_404(member_id)
    body = read_json()
    current = member_detail_json(found)
    current = {k: current[k] for k in MEMBER_FIELDS}
    form = _member_form({**current, **body})
    session = get_session()
    values = form.values()
    services.update_member(session, found, {k: values[k] for k in MEMBER_FIELDS})
    session.commit()
    return jsonify(member_detail_json(found))


YEAR_AND_NAME = [
    {
        "name": "year",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1900, "maximum": 2200},
    },
    {"name": "name", "in": "query", "schema": {"type": "string", "maxLength": 64}},
]


@blueprint.route("/members/<int:member_id>/facts")
@access("user")
@document(
    "A member's facts, optionally of one year or one name",
    {
        200: list_of("Fact"),
        404: ref("Error"),
    },
    YEAR_AND_NAME,
)
def member_facts(member_id: int):
    found = _member_or_404(member_id)
    year = request.args.get("year", type=int)
    name = request.args.get("name", "").strip()
    facts = [
        f for f in found.facts if (year is None or f.year == year) and (not name or f.name == name)
    ]
    return whole_list([fact_json(f) for f in facts])


@blueprint.route("/members/<int:member_id>/facts", methods=["PUT"])
@access("coordinator")
@document(
    "Set, change or remove (value null) some of a member's facts (coordinators)",
    {200: ref("FactsSaved"), 400: ref("Error"), 404: ref("Error"), 422: ref("Error")},
    request_body=_body("FactsInput"),
)
def put_member_facts(member_id: int):
    found = _member_or_404(member_id)
    body = read_json()
    items = body.get("facts")
    if set(body) != {"facts"} or not isinstance(items, list):
        raise ServiceError(
            'The body must be {"facts": [{"year", "name", "value"}, …]}.', field="facts"
        )
    if len(items) > 10000:
        raise ServiceError("At most 10,000 facts at a time.", field="facts")
    cells: dict[tuple[int, str], services.FactCell] = {}
    problems: dict[str, str] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems[f"facts[{index}]"] = "Each fact must be an object."
            continue
        try:
            data = formdata_from_json(item, ("year", "name", "value"))
        except ServiceError as error:
            problems[f"facts[{index}]"] = error.message
            continue
        form = FactForm(formdata=data, meta={"csrf": False})
        if not form.validate():
            for field, errors in form.errors.items():
                problems[f"facts[{index}].{field}"] = str(errors[0])
            continue
        key = (form.year.data, form.name.data)
        if key in cells:
            problems[f"facts[{index}]"] = f"{key[1]} {key[0]} is listed twice."
            continue
        cells[key] = services.FactCell(found.id, form.year.data, form.name.data, form.value.data)
    if problems:
        first = next(iter(problems.items()))
        raise ServiceError(f"{first[0]}: {first[1]}", field=first[0], details=problems)
    session = get_session()
    saved = services.save_facts(session, cells.values(), {found.id: found})
    session.commit()
    return jsonify({"created": saved.created, "updated": saved.updated, "removed": saved.removed})
