"""Negotiation: solo vs joint, what-if participation, fairness, years, rounds, scenarios.

Pages for consortium staff (member users get 404). A what-if never changes
the offer: the page reads its state from the query string (shareable, works
without JavaScript); `negotiation.js` posts each toggle to `what_if` and
swaps in the recomputed results.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from costshare.access import access
from costshare.db import get_session, today
from costshare.downloads import content_disposition
from costshare.errors import ServiceError
from costshare.formatting import money
from costshare.negotiation import charts, export, overview, report, services
from costshare.negotiation.forms import ScenarioForm, WhatIfForm
from costshare.negotiation.services import Context, WhatIf
from costshare.offers.models import Scenario
from costshare.pdf import render_pdf
from costshare.urls import bounded_id
from costshare.xlsx import send

blueprint = Blueprint("negotiation", __name__, url_prefix="/negotiation")


@blueprint.route("/")
@access("staff")
def index():
    session = get_session()
    years = overview.years(session)
    year = _year_arg(years)
    view = overview.year_overview(session, year) if year is not None else None
    fmt_charts = charts.overview_charts(view, money) if view is not None else {}
    return render_template(
        "negotiation/index.html",
        years=years,
        year=year,
        view=view,
        charts=fmt_charts,
        open_offers=overview.open_offers(session),
    )


@blueprint.route("/<int:year>.xlsx")
@access("staff")
def index_export(year: int):
    session = get_session()
    if year not in overview.years(session):
        abort(404)
    view = overview.year_overview(session, year)
    return send(export.overview_sheets(view), f"negotiation-{year}.xlsx")


def _year_arg(years: list[int]) -> int | None:
    if not years:
        return None
    asked = request.args.get("year", type=int)
    if asked in years:
        return asked
    current = today().year
    return current if current in years else next((y for y in years if y > current), years[-1])


def _context(offer_id: int) -> Context:
    session = get_session()
    offer = services.offer_for_negotiation(session, offer_id)
    if offer is None:
        abort(404)
    return services.context(session, offer)


def _read_state(form: WhatIfForm, ctx: Context) -> WhatIf:
    """Return the what-if the form asks for; what is wrong goes beside its field."""
    if form.whatif.data != "1":
        return WhatIf()
    form.validate()
    if form.uplift.errors or form.max_change.errors:
        return WhatIf()
    try:
        return services.resolve(ctx, form.data_for_service())
    except ServiceError as error:
        field = getattr(form, error.field or "", None) or form.members
        field.errors = [*field.errors, error.message]
        return WhatIf()


def _what_if_form(ctx: Context, formdata: Any) -> WhatIfForm:
    # CSRFProtect already checked every POST (form field or X-CSRFToken header); a GET
    # what-if only reads, so the form itself carries no token (nor puts one in the URL).
    return WhatIfForm(formdata=formdata, meta={"csrf": False}).setup(ctx)


def _asked(offer_id: int, formdata: Any) -> tuple[Context, WhatIfForm, WhatIf]:
    """Return the offer's context, the what-if form read from `formdata`, and the what-if."""
    ctx = _context(offer_id)
    form = _what_if_form(ctx, formdata)
    return ctx, form, _read_state(form, ctx)


def _render(
    ctx: Context,
    state: WhatIf,
    form: WhatIfForm,
    *,
    scenario: Scenario | None = None,
    save_form: ScenarioForm | None = None,
    notices: list[str] | None = None,
    fragment: bool = False,
    status: int = 200,
):
    session = get_session()
    ws = services.workspace(session, ctx, state, with_extras=not fragment)
    ws.notices = notices or []
    if not form.errors:
        form.show(ctx, state)
    save_form = save_form or ScenarioForm(formdata=None)
    context = {
        "ws": ws,
        "form": form,
        "save_form": save_form,
        "scenario": scenario,
        "state_args": _state_args(ctx, state),
        "charts": charts.workspace_charts(ws, _cash(ctx)),
        "diff_cell": _diff_cell(ctx.offer.currency),
    }
    template = "negotiation/_results.html" if fragment else "negotiation/offer.html"
    return render_template(template, **context), status


def _cash(ctx: Context) -> Callable[[Any], str]:
    """Return `money` in the offer's currency, for the charts' labels."""
    return partial(money, currency=ctx.offer.currency)


def _diff_cell(currency: str) -> Callable[[Decimal | None], Markup]:
    """Return a writer of a difference's table cell: signed, red when more, green when less."""

    def cell(value: Decimal | None) -> Markup:
        if value is None:
            return Markup('<td class="num">—</td>')
        css = "worse" if value > 0 else ("better" if value < 0 else "")
        return Markup('<td class="num {}">{}</td>').format(
            css, ("+" if value > 0 else "") + money(value, currency)
        )

    return cell


def _state_args(ctx: Context, state: WhatIf) -> dict[str, Any]:
    """Return the query arguments that reopen `state` (empty for the offer as it stands)."""
    if state == WhatIf():
        return {}
    args: dict[str, Any] = {"whatif": "1", "members": list(state.codes(ctx))}
    if state.formula:
        args["formula"] = state.formula
    if state.uplift is not None:
        args["uplift"] = f"{(state.uplift * 100).normalize():f}"
    if state.max_change is not None:
        args["max_change"] = f"{(state.max_change * 100).normalize():f}"
    return args


@blueprint.route("/offers/<int:offer_id>")
@access("staff")
def offer(offer_id: int):
    ctx, form, state = _asked(offer_id, request.args)
    return _render(ctx, state, form, status=422 if form.errors else 200)


@blueprint.route("/offers/<int:offer_id>/what-if", methods=["POST"])
@access("staff")
def what_if(offer_id: int):
    """Recompute for a toggle: the results as an HTML fragment (or the whole page without JS)."""
    ctx, form, state = _asked(offer_id, request.form)
    fragment = request.headers.get("X-Requested-With") == "fetch"
    return _render(ctx, state, form, fragment=fragment, status=422 if form.errors else 200)


@blueprint.route("/offers/<int:offer_id>/export.xlsx")
@access("staff")
def export_offer(offer_id: int):
    ctx, form, state = _asked(offer_id, request.args)
    if form.errors:
        abort(400)
    ws = services.workspace(get_session(), ctx, state)
    return send(export.workspace_sheets(ws), f"negotiation-offer-{offer_id}.xlsx")


@blueprint.route("/offers/<int:offer_id>/brief.pdf")
@access("staff")
def brief_pdf(offer_id: int):
    """The what-if as a PDF brief: figures, tables and charts to take to the vendor."""
    ctx, form, state = _asked(offer_id, request.args)
    if form.errors:
        abort(400)
    session = get_session()
    ws = services.workspace(session, ctx, state, with_extras=False)
    if ws.result is None:
        raise ServiceError(ws.error or ws.empty or "Nothing to report.")
    scenario = None
    asked = request.args.get("scenario", type=int)
    if asked is not None:
        scenario_id = bounded_id(asked)
        scenario = services.load_scenario(session, scenario_id) if scenario_id else None
        if scenario is None or scenario.offer_id != offer_id:
            abort(404)
    doc = report.brief(
        ws,
        current_app.config["CONSORTIUM_NAME"],
        today(),
        charts.workspace_charts(ws, _cash(ctx)),
        scenario,
    )
    pdf = render_pdf(
        "negotiation/brief_pdf.html", {"doc": doc, "diff_cell": _diff_cell(ctx.offer.currency)}
    )
    response = Response(pdf, mimetype="application/pdf")
    name = f"negotiation-brief-{offer_id}.pdf"
    response.headers["Content-Disposition"] = content_disposition(name, "inline")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/offers/<int:offer_id>/scenarios", methods=["POST"])
@access("staff")
def save_scenario(offer_id: int):
    ctx, form, state = _asked(offer_id, request.form)
    save_form = ScenarioForm().setup(ctx)
    if save_form.validate() and not form.errors:
        session = get_session()
        try:
            saved = services.save_scenario(
                session, ctx, state, save_form.name.data, save_form.note.data, current_user
            )
        except ServiceError as error:
            getattr(save_form, error.field or "name").errors.append(error.message)
        else:
            session.commit()
            flash(f"Scenario '{saved.name}' saved. Share its address with colleagues.", "success")
            return redirect(url_for("negotiation.scenario", scenario_id=saved.id))
    return _render(ctx, state, form, save_form=save_form, status=422)


@blueprint.route("/scenarios/<int:scenario_id>")
@access("staff")
def scenario(scenario_id: int):
    session = get_session()
    saved = services.load_scenario(session, scenario_id)
    if saved is None:
        abort(404)
    ctx = _context(saved.offer_id)
    state, notices = services.lenient(ctx, saved.data or {})
    form = _what_if_form(ctx, None)
    return _render(ctx, state, form, scenario=saved, notices=notices)


@blueprint.route("/scenarios/<int:scenario_id>/delete", methods=["POST"])
@access("staff")
def delete_scenario(scenario_id: int):
    session = get_session()
    saved = services.load_scenario(session, scenario_id)
    if saved is None:
        abort(404)
    offer_id, name = saved.offer_id, saved.name
    services.delete_scenario(session, saved)
    session.commit()
    flash(f"Scenario '{name}' deleted; the offer is unchanged.", "success")
    return redirect(url_for("negotiation.offer", offer_id=offer_id))
