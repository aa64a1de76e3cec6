"""API: members and their facts."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from costshare.access import access, ensure_member_visible, member_scope
from costshare.api.openapi import PAGE_PARAMETERS, SCHEMAS, document, list_of, ref
from costshare.api.views import blueprint, paginated
from costshare.db import get_session
from costshare.members.models import Member

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
SCHEMAS["MemberDetail"] = {
    "allOf": [
        ref("Member"),
        {
            "type": "object",
            "properties": {
                "billing_address": {"type": "string", "nullable": True},
                "facts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "year": {"type": "integer"},
                            "name": {"type": "string"},
                            "value": {"type": "string"},
                        },
                    },
                },
            },
        },
    ]
}


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


@blueprint.route("/members")
@access("user")
@document(
    "List members (a member user sees only its own)", {200: list_of("Member")}, PAGE_PARAMETERS
)
def members():
    query = select(Member).order_by(Member.code, Member.id)
    scope = member_scope()
    if scope is not None:
        query = query.where(Member.id == scope)
    return paginated(query, member_json)


@blueprint.route("/members/<int:member_id>")
@access("user")
@document("One member with its facts", {200: ref("MemberDetail"), 404: ref("Error")})
def member(member_id: int):
    ensure_member_visible(member_id)
    found = get_session().get(Member, member_id, options=[selectinload(Member.facts)])
    if found is None:
        abort(404)
    data = member_json(found)
    data["billing_address"] = found.billing_address
    data["facts"] = [{"year": f.year, "name": f.name, "value": str(f.value)} for f in found.facts]
    return jsonify(data)
