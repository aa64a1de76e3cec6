"""The audit log: who changed what, when, with the values before and after."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from costshare.access import access
from costshare.audit.models import AuditEvent
from costshare.auth.models import User
from costshare.db import get_session
from costshare.members.fields import whole_number_arg
from costshare.pagination import page_args, paginate

blueprint = Blueprint("audit", __name__, url_prefix="/audit")

#: Where each kind of object lives, to link an event to its page (when that page exists).
OBJECT_PAGES = {
    "Member": ("members.detail", "member_id"),
    "Offer": ("offers.detail", "offer_id"),
    "Vendor": ("vendors.detail", "vendor_id"),
    "Resource": ("vendors.resource", "resource_id"),
}


@blueprint.route("/")
@access("staff")
def index():
    """Every change, newest first, filtered by object, user and action."""
    session = get_session()
    types = list(
        session.scalars(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type))
    )
    object_type = request.args.get("type", "")
    object_type = object_type if object_type in types else ""
    object_id = whole_number_arg("id")
    user_id = whole_number_arg("user")
    action = request.args.get("action", "").strip()[:64]
    query = select(AuditEvent).options(joinedload(AuditEvent.user))
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    number, per_page = page_args(50)
    page = paginate(session, query, number, per_page)
    users = list(session.execute(select(User.id, User.email).order_by(User.email)).all())
    return render_template(
        "audit/index.html",
        page=page,
        types=types,
        users=users,
        object_type=object_type,
        object_id=object_id,
        user_id=user_id,
        action=action,
        pages=OBJECT_PAGES,
    )
