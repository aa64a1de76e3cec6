"""Vendors and their resources: list, one vendor, one resource, create and edit."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from costshare.access import access
from costshare.db import get_session
from costshare.members.fields import choices, save_form
from costshare.offers.models import Offer, Resource, Vendor
from costshare.pagination import page_args, paginate
from costshare.vendors import services
from costshare.vendors.forms import ResourceForm, VendorForm

blueprint = Blueprint("vendors", __name__, url_prefix="/vendors")


def _offer_counts(session, resource_ids: list[int]) -> dict[int, int]:
    if not resource_ids:
        return {}
    rows = session.execute(
        select(Offer.resource_id, func.count())
        .where(Offer.resource_id.in_(resource_ids))
        .group_by(Offer.resource_id)
    )
    return dict(rows.all())


@blueprint.route("/")
@access("staff")
def index():
    session = get_session()
    search = request.args.get("q", "").strip()[:100]
    query = select(Vendor).options(selectinload(Vendor.resources)).order_by(Vendor.name, Vendor.id)
    if search:
        like = f"%{search.lower()}%"
        matching = select(Resource.vendor_id).where(func.lower(Resource.name).like(like))
        query = query.where(or_(func.lower(Vendor.name).like(like), Vendor.id.in_(matching)))
    number, per_page = page_args(50)
    page = paginate(session, query, number, per_page)
    ids = [r.id for v in page.items for r in v.resources]
    return render_template(
        "vendors/index.html", page=page, search=search, offers=_offer_counts(session, ids)
    )


def _vendor_or_404(vendor_id: int) -> Vendor:
    vendor = get_session().get(Vendor, vendor_id, options=[selectinload(Vendor.resources)])
    if vendor is None:
        abort(404)
    return vendor


@blueprint.route("/<int:vendor_id>")
@access("staff")
def detail(vendor_id: int):
    session = get_session()
    vendor = _vendor_or_404(vendor_id)
    offers = list(
        session.scalars(
            select(Offer)
            .join(Offer.resource)
            .where(Resource.vendor_id == vendor.id)
            .options(joinedload(Offer.resource))
            .order_by(Offer.term_start.desc(), Offer.id)
        )
    )
    counts = _offer_counts(session, [r.id for r in vendor.resources])
    return render_template("vendors/detail.html", vendor=vendor, offers=offers, counts=counts)


@blueprint.route("/new", methods=["GET", "POST"])
@access("coordinator")
def new():
    form = VendorForm()
    done = save_form(
        form,
        lambda: services.create_vendor(get_session(), form.values()),
        lambda vendor: f"Vendor {vendor.name} added. Add its resources next.",
        lambda vendor: url_for("vendors.detail", vendor_id=vendor.id),
    )
    return done or _form_page("vendors/form.html", form, vendor=None)


@blueprint.route("/<int:vendor_id>/edit", methods=["GET", "POST"])
@access("coordinator")
def edit(vendor_id: int):
    vendor = _vendor_or_404(vendor_id)
    form = VendorForm(obj=vendor)
    done = save_form(
        form,
        lambda: services.update_vendor(get_session(), vendor, form.values()),
        lambda changed: "Vendor saved." if changed else "Nothing changed.",
        lambda _: url_for("vendors.detail", vendor_id=vendor.id),
    )
    return done or _form_page("vendors/form.html", form, vendor=vendor)


def _form_page(template: str, form, **context):
    status = 422 if form.errors or form.form_errors else 200
    return render_template(template, form=form, **context), status


def _vendor_choices(session) -> list[tuple[int, str]]:
    return choices(session.execute(select(Vendor.id, Vendor.name).order_by(Vendor.name)).all())


@blueprint.route("/<int:vendor_id>/resources/new", methods=["GET", "POST"])
@access("coordinator")
def new_resource(vendor_id: int):
    session = get_session()
    vendor = _vendor_or_404(vendor_id)
    form = ResourceForm()
    form.vendor_id.choices = _vendor_choices(session)
    if request.method == "GET":
        form.vendor_id.data = vendor.id
    done = save_form(
        form,
        lambda: services.create_resource(session, form.values()),
        lambda resource: f"Resource {resource.name} added.",
        lambda resource: url_for("vendors.resource", resource_id=resource.id),
    )
    return done or _form_page("vendors/resource_form.html", form, vendor=vendor, resource=None)


def _resource_or_404(resource_id: int) -> Resource:
    resource = get_session().get(Resource, resource_id, options=[joinedload(Resource.vendor)])
    if resource is None:
        abort(404)
    return resource


@blueprint.route("/resources/<int:resource_id>")
@access("staff")
def resource(resource_id: int):
    session = get_session()
    found = _resource_or_404(resource_id)
    offers = list(
        session.scalars(
            select(Offer).where(Offer.resource_id == found.id).order_by(Offer.term_start.desc())
        )
    )
    return render_template("vendors/resource.html", resource=found, offers=offers)


@blueprint.route("/resources/<int:resource_id>/edit", methods=["GET", "POST"])
@access("coordinator")
def edit_resource(resource_id: int):
    session = get_session()
    found = _resource_or_404(resource_id)
    form = ResourceForm(obj=found)
    form.vendor_id.choices = _vendor_choices(session)
    if request.method == "GET" or "counter_title_ids" not in request.form:
        # The text area shows the list one per line; a post that leaves it out keeps it.
        form.counter_title_ids.data = "\n".join(found.counter_title_ids or [])
    done = save_form(
        form,
        lambda: services.update_resource(session, found, form.values()),
        lambda changed: "Resource saved." if changed else "Nothing changed.",
        lambda _: url_for("vendors.resource", resource_id=found.id),
    )
    return done or _form_page(
        "vendors/resource_form.html", form, vendor=found.vendor, resource=found
    )
