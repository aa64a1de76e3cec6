"""Offer pages: the list, an offer's tabs (pricing, participants, history), rounds, solo prices."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from costshare.access import access
from costshare.db import get_session, today
from costshare.errors import ConflictError, ServiceError, ensure_version
from costshare.members.fields import (
    MAX_AMOUNT,
    add_error,
    check_number,
    choices,
    money_text,
    parse_number,
    save_form,
    submitted,
    whole_number,
    whole_number_arg,
)
from costshare.members.importing import ImportRefused
from costshare.members.models import Member
from costshare.members.tabular import FileRefused, read_rows, shown_name
from costshare.offers import services
from costshare.offers.forms import (
    InviteForm,
    OfferForm,
    ParticipantsForm,
    RoundForm,
    SoloImportForm,
    VersionForm,
    version_of,
)
from costshare.offers.models import (
    OFFER_STATUSES,
    Offer,
    Participation,
    QuoteRound,
    Resource,
    SoloPrice,
    Vendor,
)
from costshare.offers.pricing import (
    attach,
    describe,
    field_for,
    form_data,
    pad_rows,
    pricing_from_form,
)
from costshare.pagination import page_args, paginate

blueprint = Blueprint("offers", __name__, url_prefix="/offers")


def _year_arg() -> int | None:
    year = whole_number(request.args.get("year"), 4)
    return year if year is not None and 1900 <= year <= 2200 else None


@blueprint.route("/")
@access("staff")
def index():
    """Offers by deadline, filtered by status, vendor and year."""
    session = get_session()
    status = request.args.get("status", "")
    status = status if status in OFFER_STATUSES else ""
    vendor_id = whole_number_arg("vendor")
    year = _year_arg()
    search = request.args.get("q", "").strip()[:100]
    query = (
        select(Offer)
        .join(Offer.resource)
        .options(joinedload(Offer.resource).joinedload(Resource.vendor))
    )
    if status:
        query = query.where(Offer.status == status)
    if vendor_id:
        query = query.where(Resource.vendor_id == vendor_id)
    if year:
        query = query.where(
            Offer.term_start <= dt.date(year, 12, 31), Offer.term_end >= dt.date(year, 1, 1)
        )
    if search:
        query = query.where(func.lower(Offer.title).like(f"%{search.lower()}%"))
    query = query.order_by(Offer.deadline.is_(None), Offer.deadline, Offer.term_start, Offer.id)
    number, per_page = page_args(50)
    page = paginate(session, query, number, per_page)
    ids = [o.id for o in page.items]
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rounds: dict[int, int] = {}
    if ids:
        for offer_id, state, count in session.execute(
            select(Participation.offer_id, Participation.status, func.count())
            .where(Participation.offer_id.in_(ids))
            .group_by(Participation.offer_id, Participation.status)
        ):
            counts[offer_id][state] = count
        rounds = dict(
            session.execute(
                select(QuoteRound.offer_id, func.count())
                .where(QuoteRound.offer_id.in_(ids))
                .group_by(QuoteRound.offer_id)
            ).all()
        )
    vendors = list(session.execute(select(Vendor.id, Vendor.name).order_by(Vendor.name)).all())
    return render_template(
        "offers/index.html",
        page=page,
        status=status,
        vendor_id=vendor_id,
        year=year,
        search=search,
        vendors=vendors,
        counts=counts,
        rounds=rounds,
        statuses=OFFER_STATUSES,
    )


def _offer_or_404(offer_id: int) -> Offer:
    offer = services.load_offer(get_session(), offer_id)
    if offer is None:
        abort(404)
    return offer


def _round_or_404(offer: Offer, round_id: int) -> QuoteRound:
    quote = next((q for q in offer.rounds if q.id == round_id), None)
    if quote is None:
        abort(404)
    return quote


#: Tabs other features add to an offer's page, shown once their page exists.
OTHER_TABS = (
    ("Allocation", "allocations.offer"),
    ("Negotiation", "negotiation.offer"),
    ("Usage", "usage.offer"),
)


def _tabs(offer: Offer) -> dict:
    """What the tab bar links to besides this feature's tabs (only pages that exist)."""
    links = [
        (label, url_for(endpoint, offer_id=offer.id))
        for label, endpoint in OTHER_TABS
        if endpoint in current_app.view_functions
    ]
    if "allocations.offer" not in current_app.view_functions and (
        "allocations.workspace" in current_app.view_functions
    ):
        links.insert(
            0, ("Allocation", url_for("allocations.workspace", offer_id=offer.id, term_year=1))
        )
    return {"other_tabs": links}


def _status(form) -> int:
    if any(isinstance(e, str) and "Someone else saved" in e for e in form.form_errors):
        return 409
    return 422 if form.errors or form.form_errors else 200


def _resource_choices(session) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Resource.id, Vendor.name, Resource.name)
        .join(Resource.vendor)
        .order_by(Vendor.name, Resource.name)
    )
    return choices((rid, f"{vendor} — {name}") for rid, vendor, name in rows)


@blueprint.route("/new", methods=["GET", "POST"])
@access("coordinator")
def new():
    session = get_session()
    form = OfferForm()
    form.resource_id.choices = _resource_choices(session)
    if request.method == "GET":
        form.currency.data = current_app.config["BASE_CURRENCY"]
        form.resource_id.data = whole_number_arg("resource_id")
        start = dt.date(today().year + 1, 1, 1)
        form.term_start.data, form.term_end.data = start, dt.date(start.year, 12, 31)
    if not form.resource_id.choices:
        form.form_errors.append("Add a vendor and its resource first: an offer is for a resource.")
    else:
        done = save_form(
            form,
            lambda: services.create_offer(session, form.values()),
            lambda offer: f"Offer {offer.title} added. Add the vendor's quote next.",
            lambda offer: url_for("offers.new_round", offer_id=offer.id),
        )
        if done:
            return done
    return render_template("offers/form.html", form=form, offer=None), _status(form)


@blueprint.route("/<int:offer_id>/edit", methods=["GET", "POST"])
@access("coordinator")
def edit(offer_id: int):
    session = get_session()
    offer = _offer_or_404(offer_id)
    form = OfferForm(obj=offer)
    form.resource_id.choices = _resource_choices(session)
    if request.method == "GET":
        form.version.data = str(offer.version)
    done = save_form(
        form,
        lambda: services.update_offer(session, offer, form.values(), version_of(form.version)),
        lambda changed: "Offer saved." if changed else "Nothing changed.",
        lambda _: url_for("offers.detail", offer_id=offer.id),
    )
    if done:
        return done
    return render_template("offers/form.html", form=form, offer=offer), _status(form)


@blueprint.route("/<int:offer_id>")
@access("staff")
def detail(offer_id: int):
    """The Pricing tab: the current round, and every round priced for the joined members."""
    session = get_session()
    offer = _offer_or_404(offer_id)
    figures = services.round_figures(session, offer)
    return render_template(
        "offers/pricing.html",
        offer=offer,
        tab="pricing",
        figures=figures,
        describe=describe,
        current_form=VersionForm(formdata=None, version=str(offer.version)),
        **_tabs(offer),
    )


# --- rounds ----------------------------------------------------------------------------------


def _round_values(form: RoundForm, pricing: dict) -> dict:
    return {
        "label": form.label.data or None,
        "received_on": form.received_on.data,
        "notes": form.notes.data or None,
        "pricing": pricing,
    }


def _round_page(offer: Offer, quote: QuoteRound | None, form: RoundForm):
    pad_rows(form, offer.term_years)
    return render_template(
        "offers/round_form.html", offer=offer, quote=quote, form=form, tab="pricing", **_tabs(offer)
    ), _status(form)


def _flash_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        flash(
            f"Saved, but the engine cannot price it for the joined members yet: {warning}",
            "warning",
        )


@blueprint.route("/<int:offer_id>/rounds/new", methods=["GET", "POST"])
@access("coordinator")
def new_round(offer_id: int):
    """Add a quote round; the editor starts from the current round's pricing."""
    session = get_session()
    offer = _offer_or_404(offer_id)
    if request.method == "GET":
        pricing = offer.current_round.pricing if offer.current_round else {}
        number = len(offer.rounds) + 1
        form = RoundForm(
            formdata=None,
            data=form_data(pricing, offer.term_years),
            label=f"Round {number}",
            received_on=today(),
            make_current=True,
        )
        return _round_page(offer, None, form)
    form = RoundForm()
    if submitted(form):
        written = pricing_from_form(form, offer.term_years, offer.currency)
        try:
            quote, warnings = services.add_round(
                session, offer, _round_values(form, written.pricing), form.make_current.data
            )
        except ServiceError as error:
            session.rollback()
            offer = _offer_or_404(offer_id)
            attach(form, field_for(error.field, written, form.kind.data), error.message)
        else:
            session.commit()
            flash(f"Round {quote.number} added.", "success")
            _flash_warnings(warnings)
            return redirect(url_for("offers.detail", offer_id=offer.id))
    return _round_page(offer, None, form)


@blueprint.route("/<int:offer_id>/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@access("coordinator")
def edit_round(offer_id: int, round_id: int):
    session = get_session()
    offer = _offer_or_404(offer_id)
    quote = _round_or_404(offer, round_id)
    if request.method == "GET":
        form = RoundForm(
            formdata=None,
            data=form_data(quote.pricing or {}, offer.term_years),
            label=quote.label,
            received_on=quote.received_on,
            notes=quote.notes,
            version=str(quote.version),
            make_current=quote.id == offer.current_round_id,
        )
        return _round_page(offer, quote, form)
    form = RoundForm()
    if submitted(form):
        written = pricing_from_form(form, offer.term_years, offer.currency)
        try:
            _, warnings = services.update_round(
                session,
                offer,
                quote,
                _round_values(form, written.pricing),
                version_of(form.version),
            )
            if form.make_current.data:
                services.set_current(session, offer, quote, None)
        except ServiceError as error:
            session.rollback()
            offer = _offer_or_404(offer_id)
            quote = _round_or_404(offer, round_id)
            attach(form, field_for(error.field, written, form.kind.data), error.message)
        else:
            session.commit()
            flash(f"Round {quote.number} saved.", "success")
            _flash_warnings(warnings)
            return redirect(url_for("offers.detail", offer_id=offer.id))
    return _round_page(offer, quote, form)


@blueprint.route("/<int:offer_id>/rounds/<int:round_id>/current", methods=["POST"])
@access("coordinator")
def make_current(offer_id: int, round_id: int):
    session = get_session()
    offer = _offer_or_404(offer_id)
    quote = _round_or_404(offer, round_id)
    form = VersionForm()
    if not submitted(form):
        flash(" ".join(form.form_errors) or "The form was incomplete; try again.", "error")
        return redirect(url_for("offers.detail", offer_id=offer.id))
    try:
        services.set_current(session, offer, quote, version_of(form.version))
    except ConflictError as error:
        flash(error.message, "error")
        return redirect(url_for("offers.detail", offer_id=offer.id))
    session.commit()
    flash(f"Round {quote.number} is now the current round.", "success")
    return redirect(url_for("offers.detail", offer_id=offer.id))


# --- solo prices -----------------------------------------------------------------------------


def _solo_rows(
    session, offer: Offer, quote: QuoteRound
) -> list[tuple[Member, str, SoloPrice | None]]:
    """Return the participants and anyone priced in the round, with their status and price."""
    prices = {
        p.member_id: p
        for p in session.scalars(
            select(SoloPrice)
            .where(SoloPrice.round_id == quote.id)
            .options(joinedload(SoloPrice.member))
        )
    }
    rows = {
        p.member_id: (p.member, p.status, prices.get(p.member_id)) for p in offer.participations
    }
    for member_id, price in prices.items():
        rows.setdefault(member_id, (price.member, "—", price))
    order = {"joined": 0, "invited": 1, "declined": 2}
    return sorted(rows.values(), key=lambda r: (order.get(r[1], 3), r[0].code))


def _solo_page(
    offer: Offer, quote: QuoteRound, form: VersionForm, errors=None, typed=None, status=200, **extra
):
    session = get_session()
    return render_template(
        "offers/solo.html",
        offer=offer,
        quote=quote,
        rows=_solo_rows(session, offer, quote),
        form=form,
        import_form=extra.pop("import_form", None)
        or SoloImportForm(formdata=None, version=str(quote.version)),
        errors=errors or {},
        typed=typed or {},
        tab="participants",
        money_text=money_text,
        **extra,
        **_tabs(offer),
    ), status


@blueprint.route("/<int:offer_id>/rounds/<int:round_id>/solo")
@access("staff")
def solo_prices(offer_id: int, round_id: int):
    offer = _offer_or_404(offer_id)
    quote = _round_or_404(offer, round_id)
    return _solo_page(offer, quote, VersionForm(formdata=None, version=str(quote.version)))


@blueprint.route("/<int:offer_id>/rounds/<int:round_id>/solo", methods=["POST"])
@access("coordinator")
def save_solo_prices(offer_id: int, round_id: int):
    """Save the typed solo prices; an empty cell removes the member's price."""
    session = get_session()
    offer = _offer_or_404(offer_id)
    quote = _round_or_404(offer, round_id)
    form = VersionForm()
    allowed = {m.id for m, _, _ in _solo_rows(session, offer, quote)}
    amounts: dict[int, Decimal | None] = {}
    errors: dict[int, str] = {}
    typed: dict[int, str] = {}
    for key, text in request.form.items():
        if not key.startswith("price-"):
            continue
        member_id = whole_number(key.removeprefix("price-"))
        if member_id is None or member_id not in allowed:
            form.form_errors.append(
                "The form names a member that is not on this offer; reload the page."
            )
            continue
        text = text.strip()[:60]
        typed[member_id] = text
        if not text:
            amounts[member_id] = None
            continue
        try:
            amount = parse_number(text)
        except ValueError as error:
            errors[member_id] = str(error)
            continue
        problem = check_number(amount, Decimal(0), MAX_AMOUNT - 1, 4)
        if problem:
            errors[member_id] = problem
        else:
            amounts[member_id] = amount
    if submitted(form) and not errors and not form.form_errors:
        try:
            ensure_version(quote, version_of(form.version), "quote round")
            saved = services.save_solo_prices(session, offer, quote, amounts)
        except ServiceError as error:
            session.rollback()
            offer = _offer_or_404(offer_id)
            quote = _round_or_404(offer, round_id)
            form.form_errors.append(error.message)
            return _solo_page(offer, quote, form, errors, typed, status=error.status)
        session.commit()
        flash(
            f"Solo prices saved: {saved.added} added, {saved.changed} changed, "
            f"{saved.removed} removed."
            if saved.count
            else "Nothing changed.",
            "success",
        )
        return redirect(url_for("offers.solo_prices", offer_id=offer.id, round_id=quote.id))
    return _solo_page(offer, quote, form, errors, typed, status=422)


@blueprint.route("/<int:offer_id>/rounds/<int:round_id>/solo/compute", methods=["POST"])
@access("coordinator")
def compute_solo_prices(offer_id: int, round_id: int):
    session = get_session()
    offer = _offer_or_404(offer_id)
    quote = _round_or_404(offer, round_id)
    form = VersionForm()
    target = url_for("offers.solo_prices", offer_id=offer.id, round_id=quote.id)
    if not submitted(form):
        flash(" ".join(form.form_errors) or "The form was incomplete; try again.", "error")
        return redirect(target)
    try:
        ensure_version(quote, version_of(form.version), "quote round")
        computed = services.compute_solo_prices(session, offer, quote)
        saved = services.save_solo_prices(session, offer, quote, computed.prices, "computed")
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(target)
    session.commit()
    message = (
        f"{len(computed.prices)} solo prices computed from the price list ({saved.count} changed)."
    )
    if computed.kept:
        message += f" Kept the prices typed by hand for {', '.join(computed.kept)}."
    flash(message, "success")
    for problem in computed.problems:
        flash(problem, "warning")
    return redirect(target)


@blueprint.route("/<int:offer_id>/rounds/<int:round_id>/solo/import", methods=["POST"])
@access("coordinator")
def import_solo_prices(offer_id: int, round_id: int):
    """Import solo prices from XLSX or CSV: all of the file or nothing."""
    session = get_session()
    offer = _offer_or_404(offer_id)
    quote = _round_or_404(offer, round_id)
    form = SoloImportForm()
    refused = None
    if submitted(form):
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            add_error(form, "file", "Choose an XLSX or CSV file.")
        else:
            try:
                ensure_version(quote, version_of(form.version), "quote round")
                prices = services.read_solo_file(session, read_rows(upload.stream, upload.filename))
                saved = services.save_solo_prices(session, offer, quote, prices, "imported")
            except FileRefused as error:
                add_error(form, "file", f"{shown_name(upload.filename)}: {error.message}")
            except ImportRefused as error:
                refused = error
            except ServiceError as error:
                form.form_errors.append(error.message)
            else:
                session.commit()
                flash(f"{len(prices)} solo prices imported ({saved.count} changed).", "success")
                return redirect(url_for("offers.solo_prices", offer_id=offer.id, round_id=quote.id))
    return _solo_page(
        offer,
        quote,
        VersionForm(formdata=None, version=str(quote.version)),
        status=422,
        import_form=form,
        refused=refused,
    )


# --- participants ------------------------------------------------------------------------------


def _participants_page(offer: Offer, form: ParticipantsForm, invite: InviteForm, status: int = 200):
    session = get_session()
    listed = {p.member_id for p in offer.participations}
    candidates = session.execute(
        select(Member.id, Member.code, Member.name)
        .where(Member.active.is_(True))
        .order_by(Member.code)
    )
    invite.members.choices = choices(
        (m.id, f"{m.code} · {m.name}") for m in candidates if m.id not in listed
    )
    solo = {}
    if offer.current_round_id:
        solo = dict(
            session.execute(
                select(SoloPrice.member_id, SoloPrice.amount).where(
                    SoloPrice.round_id == offer.current_round_id
                )
            ).all()
        )
    members = {p.member_id: p.member for p in offer.participations}
    return render_template(
        "offers/participants.html",
        offer=offer,
        form=form,
        invite=invite,
        members=members,
        whole_number=whole_number,
        solo=solo,
        tab="participants",
        **_tabs(offer),
    ), status


def _participant_data(offer: Offer) -> dict:
    order = {"joined": 0, "invited": 1, "declined": 2}
    ordered = sorted(offer.participations, key=lambda p: (order[p.status], p.member.code))
    return {
        "rows": [
            {
                "member_id": str(p.member_id),
                "status": p.status,
                "invited_on": p.invited_on,
                "decided_on": p.decided_on,
            }
            for p in ordered
        ],
        "version": str(offer.version),
    }


@blueprint.route("/<int:offer_id>/participants")
@access("staff")
def participants(offer_id: int):
    offer = _offer_or_404(offer_id)
    form = ParticipantsForm(formdata=None, data=_participant_data(offer))
    invite = InviteForm(formdata=None, invited_on=today(), version=str(offer.version))
    return _participants_page(offer, form, invite)


@blueprint.route("/<int:offer_id>/participants", methods=["POST"])
@access("coordinator")
def save_participants(offer_id: int):
    session = get_session()
    offer = _offer_or_404(offer_id)
    form = ParticipantsForm()
    invite = InviteForm(formdata=None, invited_on=today(), version=str(offer.version))
    listed = {str(p.member_id) for p in offer.participations}
    valid = submitted(form)
    for entry in form.rows.entries:
        if entry.form.member_id.data not in listed:
            entry.form.status.errors = [
                *entry.form.status.errors,
                "This member is not on the offer; reload the page.",
            ]
            valid = False
    if valid:
        rows = [
            services.ParticipationChange(
                int(entry.form.member_id.data),
                entry.form.status.data,
                entry.form.invited_on.data,
                entry.form.decided_on.data,
            )
            for entry in form.rows.entries
        ]
        try:
            changed = services.save_participations(
                session, offer, rows, version_of(form.version), today()
            )
        except ServiceError as error:
            session.rollback()
            offer = _offer_or_404(offer_id)
            form.form_errors.append(error.message)
            return _participants_page(offer, form, invite, error.status)
        session.commit()
        flash(
            f"Participation saved ({changed} member(s) changed)."
            if changed
            else "Nothing changed.",
            "success",
        )
        return redirect(url_for("offers.participants", offer_id=offer.id))
    return _participants_page(offer, form, invite, 422)


@blueprint.route("/<int:offer_id>/invite", methods=["POST"])
@access("coordinator")
def invite(offer_id: int):
    session = get_session()
    offer = _offer_or_404(offer_id)
    form = ParticipantsForm(formdata=None, data=_participant_data(offer))
    invite_form = InviteForm()
    listed = {p.member_id for p in offer.participations}
    invite_form.members.choices = choices(
        (m_id, "")
        for m_id in session.scalars(select(Member.id).where(Member.active.is_(True)))
        if m_id not in listed
    )
    if submitted(invite_form):
        try:
            count = services.invite(
                session,
                offer,
                invite_form.members.data,
                invite_form.invited_on.data or today(),
                version_of(invite_form.version),
            )
        except ServiceError as error:
            session.rollback()
            offer = _offer_or_404(offer_id)
            invite_form.form_errors.append(error.message)
            return _participants_page(offer, form, invite_form, error.status)
        session.commit()
        flash(f"{count} member(s) invited.", "success")
        return redirect(url_for("offers.participants", offer_id=offer.id))
    return _participants_page(offer, form, invite_form, 422)


# --- history -------------------------------------------------------------------------------------


@blueprint.route("/<int:offer_id>/history")
@access("staff")
def history(offer_id: int):
    """Every change of the offer, its rounds, solo prices and participation, newest first."""
    session = get_session()
    offer = _offer_or_404(offer_id)
    number, per_page = page_args(50)
    page = paginate(session, services.history_query(offer), number, per_page)
    return render_template(
        "offers/history.html", offer=offer, page=page, tab="history", **_tabs(offer)
    )
