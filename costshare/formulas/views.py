"""Cost-sharing formulas: the presets, the consortium's own, and the editor that checks them.

The editor checks a formula against the members of a chosen offer as it is
typed (`formulas.check`, called by static/js/formulas.js) and again on every
submit, so missing facts are named before anyone computes a split.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, load_only
from wtforms.fields.choices import SelectChoice

from costshare.access import access
from costshare.allocations.models import Allocation, Formula
from costshare.db import get_session
from costshare.errors import ServiceError
from costshare.formulas import services
from costshare.formulas.forms import FormulaFields, FormulaForm, choices
from costshare.members import services as members
from costshare.offers.models import Offer, Participation, Resource, Vendor
from costshare.usage.figures import metrics_of
from costshare.usage.reports import PREFERRED_METRICS, metric_label

blueprint = Blueprint("formulas", __name__, url_prefix="/formulas")

#: Attributes every scenario may carry besides the member facts.
BUILT_IN_ATTRIBUTES = ("solo_price", "previous_share", "sector")


def fact_names(session: Session) -> list[str]:
    """Return every fact name in use, for the attribute fields' suggestions."""
    return sorted(set(members.fact_names(session)) | set(BUILT_IN_ATTRIBUTES))


def usage_choices(session: Session) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Return the usage fields' choices: the metrics imported, and every resource by name.

    Before any usage is imported the common metrics are offered, so a formula can be
    written ahead of its figures.
    """
    metrics = metrics_of(session) or list(PREFERRED_METRICS)
    resources = session.execute(
        select(Resource.id, Resource.name, Vendor.name)
        .join(Vendor, Vendor.id == Resource.vendor_id)
        .order_by(Resource.name, Resource.id)
    )
    return (
        [(metric, metric_label(metric)) for metric in metrics],
        [(str(rid), f"{name} ({vendor})") for rid, name, vendor in resources],
    )


def offers_to_check(session: Session) -> list[tuple[Offer, int]]:
    """Return the offers members have joined, with how many joined, newest term first."""
    rows = session.execute(
        select(Offer, func.count(Participation.id))
        .options(load_only(Offer.title, Offer.term_start))
        .join(Participation, Participation.offer_id == Offer.id)
        .where(Participation.status == "joined")
        .group_by(Offer.id)
        .order_by(Offer.term_start.desc(), Offer.title)
    )
    return [(offer, count) for offer, count in rows]


def _offer_choices(session: Session) -> list[SelectChoice]:
    return choices(
        [("", "— no offer —")]
        + [
            (str(offer.id), f"{offer.title} ({count} members)")
            for offer, count in offers_to_check(session)
        ]
    )


def _offer_arg(session: Session, value: Any) -> Offer | None:
    text = str(value or "")
    if not text.isdigit() or len(text) > 9:
        return None
    from costshare.allocations.services import load_offer

    return load_offer(session, int(text))


def _check(form: FormulaFields, offer: Offer | None, session: Session) -> dict[str, Any]:
    """Check the form's formula against `offer`'s members; put each problem beside its field."""
    outcome: dict[str, Any] = {"ok": False, "problems": [], "messages": [], "needed": []}
    definition = form.definition()
    if definition is None:
        outcome["messages"].append("Correct the fields marked in red.")
        return outcome
    try:
        definition = services.clean_definition(definition)
    except services.Problem as problem:
        errors = list(problem.errors)
        outcome["messages"] += form.show_errors(errors)
        outcome["problems"] = form.field_problems(errors)
        return outcome
    outcome["needed"] = services.facts_needed(definition)
    if offer is None:
        outcome["ok"] = True
        return outcome
    try:
        errors = services.check_against(session, definition, offer)
    except ServiceError as error:
        outcome["messages"].append(error.message)
        return outcome
    outcome["messages"] += form.show_errors(errors)
    outcome["problems"] = form.field_problems(errors)
    outcome["ok"] = not errors
    outcome["definition"] = definition
    return outcome


@blueprint.route("/")
@access("staff")
def index():
    session = get_session()
    formulas = services.saved_formulas(session)
    used = dict(
        session.execute(
            select(Allocation.formula_id, func.count())
            .where(Allocation.formula_id.is_not(None))
            .group_by(Allocation.formula_id)
        ).all()
    )
    return render_template(
        "formulas/index.html",
        formulas=formulas,
        used=used,
        presets=services.preset_choices(),
        needed={f.id: services.facts_needed(f.definition) for f in formulas},
    )


@blueprint.route("/presets/<key>")
@access("staff")
def preset(key: str):
    choice = services.find_choice(get_session(), f"preset:{key}")
    if choice is None:
        abort(404)
    return render_template(
        "formulas/preset.html",
        choice=choice,
        preset=choice.preset,
        needed=services.facts_needed(choice.definition),
    )


def _editor(form: FormulaForm, formula: Formula | None, title: str):
    session = get_session()
    if not form.check_offer.choices:
        form.check_offer.choices = _offer_choices(session)
    form.set_usage_choices(*usage_choices(session))
    return render_template(
        "formulas/edit.html",
        form=form,
        formula=formula,
        title=title,
        fact_names=fact_names(session),
    )


def _submit(form: FormulaForm, formula: Formula | None):
    """Check or save the editor's formula; return a response, or None to show the form again."""
    session = get_session()
    form.check_offer.choices = _offer_choices(session)
    if not form.validate_on_submit():
        return None
    offer = _offer_arg(session, form.check_offer.data)
    outcome = _check(form, offer, session)
    form.check_outcome = outcome  # type: ignore[attr-defined]
    for message in outcome["messages"]:
        form.form_errors.append(message)
    if request.form.get("action") == "check" or not outcome["ok"]:
        return None
    definition = outcome.get("definition") or services.clean_definition(form.definition())
    try:
        if formula is None:
            formula = services.create_formula(
                session,
                name=form.name.data,
                definition=definition,
                description=form.description.data,
                source=form.source.data,
                preset_key=request.args.get("preset")
                if services.find_preset(request.args.get("preset", ""))
                else None,
            )
        else:
            services.update_formula(
                session,
                formula,
                name=form.name.data,
                definition=definition,
                description=form.description.data,
                source=form.source.data,
            )
    except ServiceError as error:
        field = form.field_for(error.field) or (
            getattr(form, error.field, None) if error.field else None
        )
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, error.message]
        else:
            form.form_errors.append(error.message)
        session.rollback()
        return None
    session.commit()
    flash(f"Formula '{formula.name}' saved.", "success")
    return redirect(url_for("formulas.detail", formula_id=formula.id))


@blueprint.route("/new", methods=["GET", "POST"])
@access("coordinator")
def new():
    form = FormulaForm()
    if request.method == "GET":
        found = services.find_preset(request.args.get("preset", ""))
        if found is not None:
            form.load(services.preset_definition(found))
            form.name.data = found["name"]
            form.description.data = found["description"]
            form.source.data = found["source"] + (f" {found['url']}" if found.get("url") else "")
        form.check_offer.data = request.args.get("offer", "")
    response = _submit(form, None) if request.method == "POST" else None
    if response is not None:
        return response
    return _editor(form, None, "New formula"), 422 if form.has_errors() else 200


@blueprint.route("/<int:formula_id>")
@access("staff")
def detail(formula_id: int):
    session = get_session()
    formula = services.get_formula(session, formula_id)
    if formula is None:
        abort(404)
    offer = _offer_arg(session, request.args.get("offer"))
    problems: list[Any] = []
    message = None
    if offer is not None:
        try:
            problems = services.check_against(session, formula.definition, offer)
        except ServiceError as error:
            message = error.message
    allocations = list(
        session.scalars(
            select(Allocation)
            .options(defer(Allocation.inputs), defer(Allocation.result))
            .where(Allocation.formula_id == formula.id)
            .order_by(Allocation.year.desc(), Allocation.id.desc())
            .limit(50)
        )
    )
    titles = dict(
        session.execute(
            select(Offer.id, Offer.title).where(Offer.id.in_({a.offer_id for a in allocations}))
        ).all()
    )
    stand_in = (formula.definition.get("usage") or {}).get("resource_id")
    resource = session.get(Resource, stand_in) if isinstance(stand_in, int) else None
    return render_template(
        "formulas/detail.html",
        formula=formula,
        resource_names={resource.id: resource.name} if resource is not None else {},
        needed=services.facts_needed(formula.definition),
        offers=offers_to_check(session),
        offer=offer,
        problems=problems,
        message=message,
        allocations=allocations,
        titles=titles,
    )


@blueprint.route("/<int:formula_id>/edit", methods=["GET", "POST"])
@access("coordinator")
def edit(formula_id: int):
    session = get_session()
    formula = services.get_formula(session, formula_id)
    if formula is None:
        abort(404)
    form = FormulaForm(obj=None)
    if request.method == "GET":
        form.load(formula.definition)
        form.name.data = formula.name
        form.description.data = formula.description
        form.source.data = formula.source
        form.check_offer.data = request.args.get("offer", "")
    response = _submit(form, formula) if request.method == "POST" else None
    if response is not None:
        return response
    return _editor(form, formula, f"Edit {formula.name}"), 422 if form.has_errors() else 200


@blueprint.route("/check")
@access("staff")
def check():
    """Check a formula (the editor's fields as query arguments) against an offer's members."""
    session = get_session()
    form = FormulaFields(formdata=request.args, meta={"csrf": False})
    if not form.validate():
        problems = [
            {"field": field.id, "message": error}
            for field in _all_fields(form)
            for error in (field.errors or [])
            if isinstance(error, str)
        ]
        return jsonify({"ok": False, "problems": problems, "messages": [], "needed": []})
    offer = _offer_arg(session, request.args.get("offer_id") or request.args.get("check_offer"))
    outcome = _check(form, offer, session)
    outcome.pop("definition", None)
    outcome["offer"] = offer.title if offer is not None else None
    outcome["members"] = (
        sum(1 for p in offer.participations if p.status == "joined") if offer else None
    )
    return jsonify(outcome)


def _all_fields(form: FormulaFields):
    for field in form:
        if field.name == "components":
            for entry in field.entries:
                yield from entry.form
        else:
            yield field
