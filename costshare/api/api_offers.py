"""API: vendors, resources, offers, quote rounds, participations.

A member user reads only the offers its member takes part in (joined or
invited), their vendors and resources, and of those offers only its own
participation and solo price; anything else answers 404. Coordinators create
and change (POST, PATCH); input goes through the forms and services the pages
use, and a round's pricing is checked by the allocation engine before it is kept.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import abort, jsonify, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from costshare.access import access, member_scope
from costshare.api.openapi import PAGE_PARAMETERS, SCHEMAS, document, list_of, ref
from costshare.api.views import blueprint, paginated, whole_list
from costshare.db import get_session, today
from costshare.errors import ServiceError
from costshare.members import schemas
from costshare.members.fields import (
    MAX_AMOUNT,
    check_number,
    choices,
    formdata_from_json,
    parse_number,
    plain_number,
    read_json,
    refuse,
    whole_number,
)
from costshare.members.models import Member
from costshare.offers import services as offers
from costshare.offers.forms import OfferForm, ParticipantRowForm, RoundForm, version_of
from costshare.offers.models import (
    OFFER_STATUSES,
    RESOURCE_KINDS,
    Offer,
    Participation,
    QuoteRound,
    Resource,
    SoloPrice,
    Vendor,
)
from costshare.urls import bounded_id
from costshare.vendors import services as vendors
from costshare.vendors.forms import MAX_TITLE_IDS, ResourceForm, VendorForm

#: A member user sees the offers its member joined or is invited to.
TAKES_PART = ("joined", "invited")

_TEXT = {"type": "string", "nullable": True}
_STAFF_NOTES = {**_TEXT, "description": "coordinators' notes; left out for member users"}
_DATE = {"type": "string", "format": "date"}
_DATE_OR_NULL = {"type": "string", "format": "date", "nullable": True}
VENDOR_PROPERTIES = {
    "name": schemas.text(255, required=True),
    "website": {
        "type": "string",
        "maxLength": 255,
        "pattern": schemas.WEBSITE_PATTERN,
        "nullable": True,
    },
    "contact_name": schemas.text(255),
    "contact_email": schemas.EMAIL,
    "notes": schemas.text(5000),
}
RESOURCE_PROPERTIES = {
    "vendor_id": schemas.ID,
    "name": schemas.text(255, required=True),
    "kind": {"type": "string", "enum": list(RESOURCE_KINDS)},
    "counter_platform": schemas.text(255),
    "counter_database": schemas.text(255),
    "counter_title_ids": {
        "type": "array",
        "maxItems": MAX_TITLE_IDS,
        "items": {"type": "string", "pattern": schemas.TITLE_ID_PATTERN},
    },
}
OFFER_PROPERTIES = {
    "resource_id": schemas.ID,
    "title": schemas.text(255, required=True),
    "term_start": schemas.DATE,
    "term_end": {**schemas.DATE, "description": "the last day of the term; after term_start"},
    "currency": schemas.CURRENCY,
    "status": {"type": "string", "enum": list(OFFER_STATUSES)},
    "deadline": schemas.DATE_OR_NULL,
    "notes": schemas.text(5000),
    "version": {
        "type": "integer",
        "minimum": 1,
        "description": "the version read; a stale one answers 409",
    },
}
SCHEMAS.update(
    {
        "Vendor": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "website": _TEXT,
                "contact_name": _TEXT,
                "contact_email": _TEXT,
                "notes": _STAFF_NOTES,
            },
        },
        "VendorInput": {
            "type": "object",
            "required": ["name"],
            "properties": VENDOR_PROPERTIES,
            "additionalProperties": False,
        },
        "VendorChanges": {
            "type": "object",
            "properties": VENDOR_PROPERTIES,
            "additionalProperties": False,
        },
        "Resource": {
            "type": "object",
            "required": ["id", "vendor_id", "name", "kind"],
            "properties": {
                "id": {"type": "integer"},
                "vendor_id": {"type": "integer"},
                "vendor_name": {"type": "string"},
                "name": {"type": "string"},
                "kind": {"type": "string"},
                "counter_platform": _TEXT,
                "counter_database": _TEXT,
                "counter_title_ids": {"type": "array", "items": {"type": "string"}},
            },
        },
        "ResourceInput": {
            "type": "object",
            "required": ["vendor_id", "name"],
            "properties": RESOURCE_PROPERTIES,
            "additionalProperties": False,
        },
        "ResourceChanges": {
            "type": "object",
            "properties": RESOURCE_PROPERTIES,
            "additionalProperties": False,
        },
        "Offer": {
            "type": "object",
            "required": ["id", "title", "status", "currency"],
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "resource_id": {"type": "integer"},
                "resource_name": {"type": "string"},
                "vendor_id": {"type": "integer"},
                "vendor_name": {"type": "string"},
                "term_start": _DATE,
                "term_end": _DATE,
                "term_years": {"type": "integer"},
                "currency": {"type": "string"},
                "status": {"type": "string", "enum": list(OFFER_STATUSES)},
                "deadline": _DATE_OR_NULL,
                "notes": _STAFF_NOTES,
                "current_round_id": {"type": "integer", "nullable": True},
                "version": {"type": "integer"},
            },
        },
        "OfferInput": {
            "type": "object",
            "required": ["resource_id", "title", "term_start", "term_end", "currency"],
            "properties": OFFER_PROPERTIES,
            "additionalProperties": False,
        },
        "OfferChanges": {
            "type": "object",
            "properties": OFFER_PROPERTIES,
            "additionalProperties": False,
        },
        "SoloPrice": {
            "type": "object",
            "properties": {
                "member_id": {"type": "integer"},
                "member_code": {"type": "string"},
                "amount": ref("Money"),
                "source": {"type": "string", "enum": ["typed", "imported", "computed"]},
                "overridden": {"type": "boolean"},
            },
        },
        "QuoteRound": {
            "type": "object",
            "required": ["id", "number"],
            "properties": {
                "id": {"type": "integer"},
                "offer_id": {"type": "integer"},
                "number": {"type": "integer"},
                "label": _TEXT,
                "received_on": _DATE_OR_NULL,
                "notes": _STAFF_NOTES,
                "current": {"type": "boolean"},
                "version": {"type": "integer"},
                "pricing": {
                    "type": "object",
                    "description": (
                        "the engine's price keys: total or pricing, price_list, term, "
                        "surcharge, subsidy; left out for member users"
                    ),
                },
                "solo_prices": {"type": "array", "items": ref("SoloPrice")},
            },
        },
        "RoundInput": {
            "type": "object",
            "properties": {
                "label": _TEXT,
                "received_on": _DATE_OR_NULL,
                "notes": _TEXT,
                "pricing": {"type": "object"},
                "current": {"type": "boolean"},
                "version": {"type": "integer"},
                "solo_prices": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "nullable": True},
                    "description": "member code → amount (null removes it)",
                },
            },
            "additionalProperties": False,
        },
        "Participation": {
            "type": "object",
            "properties": {
                "member_id": {"type": "integer"},
                "member_code": {"type": "string"},
                "status": {"type": "string", "enum": ["invited", "joined", "declined"]},
                "invited_on": _DATE_OR_NULL,
                "decided_on": _DATE_OR_NULL,
            },
        },
        "ParticipationInput": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "member_id": schemas.ID,
                "member_code": schemas.MEMBER_CODE,
                "status": {"type": "string", "enum": ["invited", "joined", "declined"]},
                "invited_on": schemas.DATE_OR_NULL,
                "decided_on": schemas.DATE_OR_NULL,
                "version": {"type": "integer", "minimum": 1},
            },
            "additionalProperties": False,
        },
    }
)
SCHEMAS["OfferDetail"] = {
    "allOf": [
        ref("Offer"),
        {
            "type": "object",
            "properties": {
                "rounds": {"type": "array", "items": ref("QuoteRound")},
                "participations": {"type": "array", "items": ref("Participation")},
            },
        },
    ]
}
ERRORS = {400: ref("Error"), 404: ref("Error"), 409: ref("Error"), 422: ref("Error")}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# --- what a member user may see --------------------------------------------------------------

#: Kept from member users: the coordinators' notes, and a round's pricing (a per-member
#: price table or price list would show what other members are quoted).
STAFF_ONLY_KEYS = ("notes", "pricing")


def _staff_only_removed(data: dict[str, Any]) -> dict[str, Any]:
    """Return `data` without the staff-only keys when a member user asks."""
    if member_scope() is None:
        return data
    return {key: value for key, value in data.items() if key not in STAFF_ONLY_KEYS}


def _visible_offers(query: Select[Any]) -> Select[Any]:
    scope = member_scope()
    if scope is None:
        return query
    taking_part = select(Participation.offer_id).where(
        Participation.member_id == scope, Participation.status.in_(TAKES_PART)
    )
    return query.where(Offer.id.in_(taking_part))


def _visible_resource_ids():
    return _visible_offers(select(Offer.resource_id))


def _offer_or_404(offer_id: int) -> Offer:
    session = get_session()
    if session.scalar(_visible_offers(select(Offer.id).where(Offer.id == offer_id))) is None:
        abort(404)
    offer = offers.load_offer(session, offer_id)
    if offer is None:  # pragma: no cover - just found above
        abort(404)
    return offer


def _exists_or_404(model: type, value: Any, what: str) -> None:
    """Answer 404 when a body names an id of something that does not exist."""
    if not isinstance(value, int) or isinstance(value, bool):
        return
    if bounded_id(value) is None or get_session().get(model, value) is None:
        abort(404, description=f"There is no {what} with the id {value}.")


# --- vendors ---------------------------------------------------------------------------------


def vendor_json(vendor: Vendor) -> dict[str, Any]:
    return _staff_only_removed(
        {
            "id": vendor.id,
            "name": vendor.name,
            "website": vendor.website,
            "contact_name": vendor.contact_name,
            "contact_email": vendor.contact_email,
            "notes": vendor.notes,
        }
    )


def _vendor_query() -> Select[Any]:
    query = select(Vendor).order_by(Vendor.name, Vendor.id)
    if member_scope() is not None:
        query = query.where(
            Vendor.id.in_(
                select(Resource.vendor_id).where(Resource.id.in_(_visible_resource_ids()))
            )
        )
    return query


def _vendor_or_404(vendor_id: int) -> Vendor:
    found = get_session().scalar(_vendor_query().where(Vendor.id == vendor_id))
    if found is None:
        abort(404)
    return found


@blueprint.route("/vendors")
@access("user")
@document("List vendors", {200: list_of("Vendor")}, PAGE_PARAMETERS)
def vendors_list():
    return paginated(_vendor_query(), vendor_json)


@blueprint.route("/vendors/<int:vendor_id>")
@access("user")
@document("One vendor", {200: ref("Vendor"), 404: ref("Error")})
def vendor(vendor_id: int):
    return jsonify(vendor_json(_vendor_or_404(vendor_id)))


def _vendor_form(values: dict[str, Any]) -> VendorForm:
    form = VendorForm(
        formdata=formdata_from_json(
            values, ("name", "website", "contact_name", "contact_email", "notes")
        ),
        meta={"csrf": False},
    )
    if not form.validate():
        raise refuse(form)
    return form


@blueprint.route("/vendors", methods=["POST"])
@access("coordinator")
@document(
    "Add a vendor (coordinators)", {201: ref("Vendor"), **ERRORS}, request_body=_body("VendorInput")
)
def create_vendor():
    form = _vendor_form(read_json())
    session = get_session()
    created = vendors.create_vendor(session, form.values())
    session.commit()
    return jsonify(vendor_json(created)), 201


@blueprint.route("/vendors/<int:vendor_id>", methods=["PATCH"])
@access("coordinator")
@document(
    "Change a vendor (coordinators)",
    {200: ref("Vendor"), **ERRORS},
    request_body=_body("VendorChanges"),
)
def update_vendor(vendor_id: int):
    found = _vendor_or_404(vendor_id)
    current = {k: v for k, v in vendor_json(found).items() if k != "id"}
    form = _vendor_form({**current, **read_json()})
    session = get_session()
    vendors.update_vendor(session, found, form.values())
    session.commit()
    return jsonify(vendor_json(found))


# --- resources -------------------------------------------------------------------------------


def resource_json(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "vendor_id": resource.vendor_id,
        "vendor_name": resource.vendor.name,
        "name": resource.name,
        "kind": resource.kind,
        "counter_platform": resource.counter_platform,
        "counter_database": resource.counter_database,
        "counter_title_ids": list(resource.counter_title_ids or []),
    }


def _resource_query() -> Select[Any]:
    query = (
        select(Resource).options(joinedload(Resource.vendor)).order_by(Resource.name, Resource.id)
    )
    if member_scope() is not None:
        query = query.where(Resource.id.in_(_visible_resource_ids()))
    vendor_id = bounded_id(request.args.get("vendor_id", type=int))
    if vendor_id is not None:
        query = query.where(Resource.vendor_id == vendor_id)
    return query


def _resource_or_404(resource_id: int) -> Resource:
    found = get_session().scalar(_resource_query().where(Resource.id == resource_id))
    if found is None:
        abort(404)
    return found


VENDOR_FILTER = [{"name": "vendor_id", "in": "query", "schema": {"type": "integer", "minimum": 1}}]


@blueprint.route("/resources")
@access("user")
@document(
    "List resources, optionally of one vendor",
    {200: list_of("Resource")},
    PAGE_PARAMETERS + VENDOR_FILTER,
)
def resources_list():
    return paginated(_resource_query(), resource_json)


@blueprint.route("/resources/<int:resource_id>")
@access("user")
@document("One resource with its COUNTER identifiers", {200: ref("Resource"), 404: ref("Error")})
def resource(resource_id: int):
    return jsonify(resource_json(_resource_or_404(resource_id)))


def _resource_form(values: dict[str, Any]) -> ResourceForm:
    values = dict(values)
    ids = values.get("counter_title_ids")
    if isinstance(ids, list):
        if not all(isinstance(i, str) for i in ids):
            raise ServiceError(
                "counter_title_ids must be a list of texts.", field="counter_title_ids"
            )
        values["counter_title_ids"] = "\n".join(ids)
    form = ResourceForm(
        formdata=formdata_from_json(
            values,
            (
                "vendor_id",
                "name",
                "kind",
                "counter_platform",
                "counter_database",
                "counter_title_ids",
            ),
        ),
        meta={"csrf": False},
    )
    _exists_or_404(Vendor, values.get("vendor_id"), "vendor")
    form.vendor_id.choices = choices((v, "") for v in get_session().scalars(select(Vendor.id)))
    if not form.validate():
        raise refuse(form)
    return form


@blueprint.route("/resources", methods=["POST"])
@access("coordinator")
@document(
    "Add a resource (coordinators)",
    {201: ref("Resource"), **ERRORS},
    request_body=_body("ResourceInput"),
)
def create_resource():
    form = _resource_form({"kind": "database", **read_json()})
    session = get_session()
    created = vendors.create_resource(session, form.values())
    session.commit()
    return jsonify(resource_json(created)), 201


@blueprint.route("/resources/<int:resource_id>", methods=["PATCH"])
@access("coordinator")
@document(
    "Change a resource (coordinators)",
    {200: ref("Resource"), **ERRORS},
    request_body=_body("ResourceChanges"),
)
def update_resource(resource_id: int):
    found = _resource_or_404(resource_id)
    current = resource_json(found)
    for key in ("id", "vendor_name"):
        current.pop(key)
    form = _resource_form({**current, **read_json()})
    session = get_session()
    vendors.update_resource(session, found, form.values())
    session.commit()
    session.refresh(found)
    return jsonify(resource_json(found))


# --- offers ----------------------------------------------------------------------------------


def offer_json(offer: Offer) -> dict[str, Any]:
    return _staff_only_removed(
        {
            "id": offer.id,
            "title": offer.title,
            "resource_id": offer.resource_id,
            "resource_name": offer.resource.name,
            "vendor_id": offer.resource.vendor_id,
            "vendor_name": offer.resource.vendor.name,
            "term_start": _date(offer.term_start),
            "term_end": _date(offer.term_end),
            "term_years": offer.term_years,
            "currency": offer.currency,
            "status": offer.status,
            "deadline": _date(offer.deadline),
            "notes": offer.notes,
            "current_round_id": offer.current_round_id,
            "version": offer.version,
        }
    )


def participation_json(p: Participation) -> dict[str, Any]:
    return {
        "member_id": p.member_id,
        "member_code": p.member.code,
        "status": p.status,
        "invited_on": _date(p.invited_on),
        "decided_on": _date(p.decided_on),
    }


def round_json(
    quote: QuoteRound, offer: Offer, prices: list[SoloPrice] | None = None
) -> dict[str, Any]:
    data = {
        "id": quote.id,
        "offer_id": quote.offer_id,
        "number": quote.number,
        "label": quote.label,
        "received_on": _date(quote.received_on),
        "notes": quote.notes,
        "current": quote.id == offer.current_round_id,
        "version": quote.version,
        "pricing": quote.pricing,
    }
    if prices is not None:
        scope = member_scope()
        data["solo_prices"] = [
            {
                "member_id": p.member_id,
                "member_code": p.member.code,
                "amount": plain_number(p.amount),
                "source": p.source,
                "overridden": p.overridden,
            }
            for p in sorted(prices, key=lambda p: p.member.code)
            if scope is None or p.member_id == scope
        ]
    return _staff_only_removed(data)


def _participations(offer: Offer) -> list[Participation]:
    scope = member_scope()
    return sorted(
        (p for p in offer.participations if scope is None or p.member_id == scope),
        key=lambda p: p.member.code,
    )


def offer_detail_json(offer: Offer) -> dict[str, Any]:
    data = offer_json(offer)
    data["rounds"] = [round_json(q, offer) for q in offer.rounds]
    data["participations"] = [participation_json(p) for p in _participations(offer)]
    return data


OFFER_FILTERS = [
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(OFFER_STATUSES)}},
    {"name": "vendor_id", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {
        "name": "year",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1900, "maximum": 2200},
    },
]


@blueprint.route("/offers")
@access("user")
@document(
    "List offers by deadline (a member user: those it joined or is invited to)",
    {200: list_of("Offer")},
    PAGE_PARAMETERS + OFFER_FILTERS,
)
def offers_list():
    query = _visible_offers(
        select(Offer)
        .join(Offer.resource)
        .options(joinedload(Offer.resource).joinedload(Resource.vendor))
        .order_by(Offer.deadline.is_(None), Offer.deadline, Offer.term_start, Offer.id)
    )
    status = request.args.get("status", "")
    if status in OFFER_STATUSES:
        query = query.where(Offer.status == status)
    vendor_id = bounded_id(request.args.get("vendor_id", type=int))
    if vendor_id is not None:
        query = query.where(Resource.vendor_id == vendor_id)
    year = request.args.get("year", type=int)
    if year is not None and 1900 <= year <= 2200:
        query = query.where(
            Offer.term_start <= dt.date(year, 12, 31), Offer.term_end >= dt.date(year, 1, 1)
        )
    return paginated(query, offer_json)


@blueprint.route("/offers/<int:offer_id>")
@access("user")
@document(
    "One offer with its rounds and participations", {200: ref("OfferDetail"), 404: ref("Error")}
)
def offer(offer_id: int):
    return jsonify(offer_detail_json(_offer_or_404(offer_id)))


#: What an offer's JSON may set: the service's fields and the version read.
OFFER_FIELDS = (*offers.OFFER_FIELDS, "version")


def _offer_form(values: dict[str, Any]) -> OfferForm:
    form = OfferForm(formdata=formdata_from_json(values, OFFER_FIELDS), meta={"csrf": False})
    _exists_or_404(Resource, values.get("resource_id"), "resource")
    form.resource_id.choices = choices((r, "") for r in get_session().scalars(select(Resource.id)))
    if not form.validate():
        raise refuse(form)
    return form


@blueprint.route("/offers", methods=["POST"])
@access("coordinator")
@document(
    "Add an offer (coordinators)",
    {201: ref("OfferDetail"), **ERRORS},
    request_body=_body("OfferInput"),
)
def create_offer():
    form = _offer_form({"status": "draft", **read_json()})
    session = get_session()
    created = offers.create_offer(session, form.values())
    session.commit()
    return jsonify(offer_detail_json(_offer_or_404(created.id))), 201


@blueprint.route("/offers/<int:offer_id>", methods=["PATCH"])
@access("coordinator")
@document(
    "Change an offer (coordinators); send the version you read to be refused (409) if it changed",
    {200: ref("OfferDetail"), **ERRORS},
    request_body=_body("OfferChanges"),
)
def update_offer(offer_id: int):
    found = _offer_or_404(offer_id)
    body = read_json()
    current = {k: v for k, v in offer_json(found).items() if k in OFFER_FIELDS and k != "version"}
    form = _offer_form({**current, **body})
    session = get_session()
    offers.update_offer(session, found, form.values(), version_of(form.version))
    session.commit()
    return jsonify(offer_detail_json(found))


# --- rounds ----------------------------------------------------------------------------------


def _round_or_404(offer: Offer, round_id: int) -> QuoteRound:
    quote = next((q for q in offer.rounds if q.id == round_id), None)
    if quote is None:
        abort(404)
    return quote


def _solo_of(quote_ids: list[int]) -> dict[int, list[SoloPrice]]:
    found: dict[int, list[SoloPrice]] = {q: [] for q in quote_ids}
    if quote_ids:
        for price in get_session().scalars(
            select(SoloPrice)
            .where(SoloPrice.round_id.in_(quote_ids))
            .options(joinedload(SoloPrice.member))
        ):
            found[price.round_id].append(price)
    return found


@blueprint.route("/offers/<int:offer_id>/rounds")
@access("user")
@document(
    "An offer's quote rounds and solo prices (a member user: its own solo price, no pricing)",
    {
        200: list_of("QuoteRound"),
        404: ref("Error"),
    },
)
def rounds(offer_id: int):
    found = _offer_or_404(offer_id)
    prices = _solo_of([q.id for q in found.rounds])
    return whole_list([round_json(q, found, prices[q.id]) for q in found.rounds])


@blueprint.route("/offers/<int:offer_id>/rounds/<int:round_id>")
@access("user")
@document("One quote round", {200: ref("QuoteRound"), 404: ref("Error")})
def quote_round(offer_id: int, round_id: int):
    found = _offer_or_404(offer_id)
    quote = _round_or_404(found, round_id)
    return jsonify(round_json(quote, found, _solo_of([quote.id])[quote.id]))


ROUND_FIELDS = ("label", "received_on", "notes")


def _round_values(body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - {*ROUND_FIELDS, "pricing", "current", "version", "solo_prices"})
    if unknown:
        raise ServiceError(
            f"Unknown field(s): {', '.join(unknown)}.",
            details={k: "Unknown field." for k in unknown},
        )
    meta = {k: body[k] for k in ROUND_FIELDS if k in body}
    form = RoundForm(formdata=formdata_from_json(meta, ROUND_FIELDS), meta={"csrf": False})
    if not form.validate():
        raise refuse(form)
    values = {k: getattr(form, k).data for k in meta}
    for key in ("label", "notes"):
        if key in values:
            values[key] = values[key] or None
    if "pricing" in body:
        values["pricing"] = offers.clean_pricing(body["pricing"])
    if "current" in body and not isinstance(body["current"], bool):
        raise ServiceError("'current' must be true or false.", field="current")
    return values


def _solo_amounts(body: dict[str, Any]) -> dict[int, Any] | None:
    given = body.get("solo_prices")
    if given is None:
        return None
    if not isinstance(given, dict):
        raise ServiceError("solo_prices must map member codes to amounts.", field="solo_prices")
    by_code = {
        code.upper(): member_id
        for member_id, code in get_session().execute(select(Member.id, Member.code)).all()
    }
    amounts: dict[int, Any] = {}
    problems: dict[str, str] = {}
    for code, value in given.items():
        member_id = by_code.get(str(code).upper())
        if member_id is None:
            problems[f"solo_prices.{code}"] = f"There is no member with the code {code}."
            continue
        if value is None:
            amounts[member_id] = None
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            problems[f"solo_prices.{code}"] = "The amount must be a number."
            continue
        try:
            amount = parse_number(format(value, "f") if isinstance(value, Decimal) else str(value))
        except ValueError as error:
            problems[f"solo_prices.{code}"] = str(error)
            continue
        problem = check_number(amount, Decimal(0), MAX_AMOUNT - 1, 4)
        if problem:
            problems[f"solo_prices.{code}"] = problem
            continue
        amounts[member_id] = amount
    if problems:
        first = next(iter(problems.items()))
        raise ServiceError(f"{first[0]}: {first[1]}", field=first[0], details=problems)
    return amounts


def _version(body: dict[str, Any]) -> int | None:
    value = body.get("version")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ServiceError("'version' must be a whole number.", field="version")
    return value


@blueprint.route("/offers/<int:offer_id>/rounds", methods=["POST"])
@access("coordinator")
@document(
    "Add a quote round (coordinators); the engine checks its pricing; current defaults to true",
    {201: ref("QuoteRound"), **ERRORS},
    request_body=_body("RoundInput"),
)
def create_round(offer_id: int):
    found = _offer_or_404(offer_id)
    body = read_json()
    values = _round_values(body)
    if "pricing" not in values:
        raise ServiceError("Give the round's pricing.", field="pricing")
    amounts = _solo_amounts(body)
    session = get_session()
    quote, warnings = offers.add_round(session, found, values, body.get("current", True))
    if amounts:
        offers.save_solo_prices(session, found, quote, amounts)
        warnings = offers.check_round(session, found, quote)
    session.commit()
    data = round_json(quote, found, _solo_of([quote.id])[quote.id])
    data["warnings"] = warnings
    return jsonify(data), 201


@blueprint.route("/offers/<int:offer_id>/rounds/<int:round_id>", methods=["PATCH"])
@access("coordinator")
@document(
    "Change a quote round, its solo prices, or make it current (coordinators)",
    {200: ref("QuoteRound"), **ERRORS},
    request_body=_body("RoundInput"),
)
def update_round(offer_id: int, round_id: int):
    found = _offer_or_404(offer_id)
    quote = _round_or_404(found, round_id)
    body = read_json()
    values = _round_values(body)
    amounts = _solo_amounts(body)
    session = get_session()
    _, warnings = offers.update_round(session, found, quote, values, _version(body))
    if amounts:
        offers.save_solo_prices(session, found, quote, amounts)
        warnings = offers.check_round(session, found, quote)
    if body.get("current") is True:
        offers.set_current(session, found, quote, None)
    session.commit()
    data = round_json(quote, found, _solo_of([quote.id])[quote.id])
    data["warnings"] = warnings
    return jsonify(data)


# --- participations ----------------------------------------------------------------------------


@blueprint.route("/offers/<int:offer_id>/participations")
@access("user")
@document(
    "Who is invited to, joined or declined an offer (a member user: itself)",
    {
        200: list_of("Participation"),
        404: ref("Error"),
    },
)
def participations(offer_id: int):
    found = _offer_or_404(offer_id)
    return whole_list([participation_json(p) for p in _participations(found)])


@blueprint.route("/offers/<int:offer_id>/participations", methods=["POST"])
@access("coordinator")
@document(
    "Invite a member, or record that it joined or declined (coordinators)",
    {200: ref("Participation"), 201: ref("Participation"), **ERRORS},
    request_body=_body("ParticipationInput"),
)
def record_participation(offer_id: int):
    found = _offer_or_404(offer_id)
    body = read_json()
    session = get_session()
    fields = ("member_id", "member_code", "status", "invited_on", "decided_on", "version")
    data = formdata_from_json(body, fields)
    code = data.pop("member_code", None)
    member = None
    if code:
        member = session.scalar(select(Member).where(func.upper(Member.code) == code.upper()))
    elif (member_id := whole_number(data.get("member_id"))) is not None:
        member = session.get(Member, member_id)
    if member is None and (code or data.get("member_id")):
        abort(404, description="There is no such member.")
    if member is None:
        raise ServiceError(
            "Name an existing member by member_id or member_code.", field="member_id"
        )
    data["member_id"] = str(member.id)
    version = _version(body)
    form = ParticipantRowForm(formdata=data)
    if not form.validate() or not form.status.data:
        if not form.status.data:
            form.status.errors = [
                *form.status.errors,
                "Give the status: invited, joined or declined.",
            ]
        raise refuse(form)
    listed = next((p for p in found.participations if p.member_id == member.id), None)
    status = 200
    if listed is None:
        offers.invite(session, found, [member.id], form.invited_on.data or today(), version)
        version = None
        status = 201
    change = offers.ParticipationChange(
        member.id,
        form.status.data,
        form.invited_on.data or (listed.invited_on if listed else form.invited_on.data or today()),
        form.decided_on.data,
    )
    offers.save_participations(session, found, [change], version, today())
    session.commit()
    participation = next(p for p in found.participations if p.member_id == member.id)
    return jsonify(participation_json(participation)), status
