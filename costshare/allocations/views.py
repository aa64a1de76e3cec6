"""The allocation workspace: choose a formula, preview and compare splits, keep a draft, finalize.

A member user reaches only `detail`, and only for a final allocation in which
it has a line; it then sees that line alone (everything else answers 404).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

from costshare.access import access, member_scope
from costshare.allocations import services
from costshare.allocations.forms import VersionForm
from costshare.allocations.inputs import billed_year, term_label
from costshare.allocations.models import Allocation
from costshare.allocations.present import (
    BOUND_LABELS,
    BOUND_TITLES,
    Comparison,
    SplitTable,
    allocation_sheets,
    facts_table,
    years_used,
)
from costshare.db import get_session
from costshare.errors import ServiceError
from costshare.formatting import money
from costshare.formulas import services as formulas
from costshare.formulas.forms import FormulaFields, WorkspaceForm
from costshare.formulas.views import fact_names, usage_choices
from costshare.offers.models import Offer, Resource
from costshare.pagination import page_args, paginate
from costshare.xlsx import send

blueprint = Blueprint("allocations", __name__, url_prefix="/allocations")

#: At most this many formulas side by side.
MAX_COMPARE = 3
DEFAULT_CHOICE = "preset:equal"


@blueprint.record_once
def _labels(state: Any) -> None:
    # Globals, not a context processor: the macros in allocations/_split.html read them too.
    state.app.jinja_env.globals.update(bound_labels=BOUND_LABELS, bound_titles=BOUND_TITLES)


def _offer_year(offer_id: int, term_year: int) -> Offer:
    offer = services.load_offer(get_session(), offer_id)
    if offer is None or not 1 <= term_year <= offer.term_years:
        abort(404)
    return offer


def _chart(table: SplitTable):
    return table.chart(partial(money, currency=table.currency))


# ---------------------------------------------------------------------------------------------
# Lists


@blueprint.route("/")
@access("staff")
def index():
    session = get_session()
    status = request.args.get("status", "")
    query = (
        select(Allocation)
        .options(
            # The list shows neither the inputs nor the result: their JSON stays unread.
            defer(Allocation.inputs),
            defer(Allocation.result),
            selectinload(Allocation.offer)
            .selectinload(Offer.resource)
            .selectinload(Resource.vendor),
        )
        .order_by(Allocation.year.desc(), Allocation.offer_id, Allocation.term_year, Allocation.id)
    )
    if status in ("draft", "final"):
        query = query.where(Allocation.status == status)
    number, per_page = page_args(50)
    page = paginate(session, query, number, per_page)
    return render_template("allocations/index.html", page=page, status=status)


@blueprint.route("/offers/<int:offer_id>")
@access("staff")
def offer(offer_id: int):
    session = get_session()
    found = services.load_offer(session, offer_id)
    if found is None:
        abort(404)
    allocations = list(session.scalars(select(Allocation).where(Allocation.offer_id == found.id)))
    years = []
    for term_year in range(1, found.term_years + 1):
        mine = {a.status: a for a in allocations if a.term_year == term_year}
        years.append(
            {
                "term_year": term_year,
                "year": billed_year(found, term_year),
                "label": term_label(found, term_year),
                "draft": mine.get("draft"),
                "final": mine.get("final"),
            }
        )
    return render_template("allocations/offer.html", offer=found, years=years)


# ---------------------------------------------------------------------------------------------
# The workspace


class Workspace:
    """What the workspace shows for one offer and term year."""

    def __init__(self, offer: Offer, term_year: int) -> None:
        session = get_session()
        self.offer = offer
        self.term_year = term_year
        self.year = billed_year(offer, term_year)
        self.label = term_label(offer, term_year)
        self.draft = services.find(session, offer.id, term_year, "draft")
        self.final = services.find(session, offer.id, term_year, "final")
        self.choices = formulas.choices(session)
        self.stored: dict[str, Allocation] = {}
        for key, allocation in (("draft", self.draft), ("final", self.final)):
            if allocation is not None:
                self.stored[key] = allocation
                self.choices.insert(
                    0,
                    formulas.Choice(
                        key,
                        f"{key.capitalize()}: {allocation.formula_name}",
                        services.definition_of(allocation.inputs),
                    ),
                )
        self.by_key = {choice.key: choice for choice in self.choices}
        self.messages: list[str] = []
        self.table: SplitTable | None = None
        self.facts: list[dict[str, Any]] = []
        self.facts_year: dict[str, dict[str, Any]] = {}
        self.needed: list[str] = []
        #: The usage the split read: `UsageFigures.as_json`, as an allocation keeps it.
        self.usage: dict[str, Any] | None = None
        self.comparison: Comparison | None = None
        self.compare_keys: list[str] = []
        self.changes: list[str] = []
        if self.draft is not None:
            self.changes = services.input_changes(session, self.draft, offer)

    @property
    def years(self) -> list[int]:
        """Return the years the facts this formula reads were taken from."""
        return years_used(
            {
                c: {n: y for n, y in f.items() if n in self.needed}
                for c, f in self.facts_year.items()
            }
        )

    def compare_selected(self, current: str | None) -> list[str]:
        """Return the formulas the compare form shows selected (the current one and another)."""
        if self.compare_keys:
            return self.compare_keys
        other = next((c.key for c in self.choices if c.key != current), "")
        return [current or "", other]

    def default_key(self) -> str:
        if self.final is not None:
            return "final"
        if self.draft is not None:
            return "draft"
        saved = next((c.key for c in self.choices if c.formula is not None), None)
        return saved or DEFAULT_CHOICE

    def show_stored(self, allocation: Allocation) -> None:
        self.table = SplitTable.from_allocation(allocation).drop_empty_parts()
        self.facts_year = {line.code: line.facts_year or {} for line in allocation.lines}
        self._facts(allocation.inputs, services.definition_of(allocation.inputs))
        self.usage = (allocation.inputs or {}).get("usage_figures")

    def show_split(self, split: services.Split) -> None:
        self.table = SplitTable.from_result(split.result).drop_empty_parts()
        self.facts_year = split.facts_year
        self._facts(split.scenario, split.definition)
        usage = split.source.usage
        self.usage = usage.as_json(split.source.members) if usage is not None else None

    def _facts(self, scenario: dict[str, Any], definition: dict[str, Any]) -> None:
        self.needed = [
            n
            for n in formulas.facts_needed(definition)
            if n not in ("solo_price", "previous_share")
        ]
        self.facts = facts_table(scenario.get("members", []), self.facts_year, self.needed)

    def compare(self, keys: list[str]) -> None:
        """Put up to three formulas side by side (stored ones as stored, others computed)."""
        known = []
        for key in keys:
            if key in self.by_key and key not in known:
                known.append(key)
        self.compare_keys = known[:MAX_COMPARE]
        if len(self.compare_keys) < 2:
            return
        computed = [k for k in self.compare_keys if k not in self.stored]
        outcomes: dict[str, SplitTable | str] = {}
        try:
            splits = services.preview_many(
                get_session(),
                self.offer,
                self.term_year,
                [self.by_key[k].definition for k in computed],
            )
        except ServiceError as error:
            splits = [error] * len(computed)
        for key, split in zip(computed, splits, strict=True):
            outcomes[key] = (
                SplitTable.from_result(split.result)
                if isinstance(split, services.Split)
                else split.message
            )
        for key in self.compare_keys:
            if key in self.stored:
                outcomes[key] = SplitTable.from_allocation(self.stored[key])
        self.comparison = Comparison.build(
            [self.by_key[k].name for k in self.compare_keys],
            [outcomes[k] for k in self.compare_keys],
        )


def _canonical(definition: dict[str, Any]) -> dict[str, Any] | None:
    """Return a definition as the editor would write it (to tell an edited formula apart)."""
    probe = FormulaFields(formdata=None, meta={"csrf": False})
    probe.load(definition)
    return probe.definition()


def _show_problem(form: FormulaFields, space: Workspace, problem: ServiceError) -> None:
    errors = list(getattr(problem, "errors", ()) or ())
    if errors:
        space.messages += form.show_errors(errors)
    else:
        space.messages.append(problem.message)


def _saved_name(space: Workspace, form: WorkspaceForm, definition: dict[str, Any]):
    """Return the name and saved formula a draft records for the editor's formula."""
    base = space.by_key.get(form.choice.data or "")
    if base is None:
        return "Custom formula", None
    if base.key in space.stored:
        stored = space.stored[base.key]
        name = stored.formula_name
        formula = formulas.get_formula(get_session(), stored.formula_id)
    else:
        name, formula = base.name, base.formula
    if _canonical(base.definition) == definition:
        return name, formula
    return f"{name} (adjusted)"[:255], None


@blueprint.route("/offers/<int:offer_id>/<int:term_year>", methods=["GET", "POST"])
@access("staff")
def workspace(offer_id: int, term_year: int):
    session = get_session()
    offer_ = _offer_year(offer_id, term_year)
    space = Workspace(offer_, term_year)
    status = 200
    if request.method == "POST":
        form = WorkspaceForm()
        response = _post_workspace(form, space)
        if response is not None:
            return response
        status = 422 if (form.has_errors() or space.messages) else 200
    else:
        form = WorkspaceForm(formdata=None)
        key = request.args.get("choice") or space.default_key()
        choice = space.by_key.get(key) or space.by_key.get(space.default_key())
        if choice is None:
            choice = formulas.find_choice(session, DEFAULT_CHOICE)
        form.load(choice.definition)
        form.choice.data = choice.key
        if choice.key in space.stored:
            space.show_stored(space.stored[choice.key])
        else:
            try:
                space.show_split(services.preview(session, offer_, term_year, choice.definition))
            except ServiceError as problem:
                _show_problem(form, space, problem)
    form.version.data = str(space.draft.version) if space.draft is not None else ""
    form.set_usage_choices(*usage_choices(session))
    compare = request.args.getlist("compare")
    if not compare and request.args.get("compare_with"):
        compare = [form.choice.data, request.args["compare_with"]]
    space.compare(compare)
    return render_template(
        "allocations/workspace.html",
        space=space,
        form=form,
        version_form=VersionForm(),
        fact_names=fact_names(session),
        compare_selected=space.compare_selected(form.choice.data),
        chart=_chart(space.table) if space.table and space.table.rows else None,
    ), status


def _post_workspace(form: WorkspaceForm, space: Workspace):
    """Preview or save the formula panel's formula; return a redirect, or None to render."""
    session = get_session()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return None
    definition = form.definition()
    if definition is None:
        return None
    try:
        definition = formulas.clean_definition(definition)
        split = services.preview(session, space.offer, space.term_year, definition)
    except ServiceError as problem:
        _show_problem(form, space, problem)
        return None
    space.show_split(split)
    if request.form.get("action") != "save":
        return None
    name, formula = _saved_name(space, form, _canonical(definition) or definition)
    try:
        draft = services.save_draft(
            session,
            space.offer,
            space.term_year,
            definition,
            name=name,
            formula=formula,
            version=_version(form.version.data) if space.draft is not None else None,
        )
    except ServiceError as error:
        session.rollback()
        space.messages.append(error.message)
        return None
    session.commit()
    flash(
        f"Draft saved with '{draft.formula_name}': the members owe "
        f"{money(draft.total, draft.currency)}.",
        "success",
    )
    return redirect(
        url_for(
            "allocations.workspace",
            offer_id=space.offer.id,
            term_year=space.term_year,
            choice="draft",
        )
    )


def _version(value: str | None) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() and len(text) < 10 else -1


# ---------------------------------------------------------------------------------------------
# One allocation


def _allocation_or_404(allocation_id: int) -> Allocation:
    allocation = services.load_allocation(get_session(), allocation_id)
    if allocation is None:
        abort(404)
    scope = member_scope()
    if scope is not None and not services.visible_to_member(allocation, scope):
        abort(404)
    return allocation


def _shown(allocation: Allocation) -> dict[str, Any]:
    """Return what a user may see of an allocation: all of it for staff, its own line otherwise."""
    scope = member_scope()
    lines = services.member_lines(allocation, scope)
    table = SplitTable.from_allocation(allocation, lines)
    if scope is None:
        table.drop_empty_parts()
    definition = services.definition_of(allocation.inputs)
    needed = [
        n for n in formulas.facts_needed(definition) if n not in ("solo_price", "previous_share")
    ]
    facts_year = {
        line.code: {n: y for n, y in (line.facts_year or {}).items() if n in needed}
        for line in lines
    }
    members = [{"code": line.code, "attributes": line.attributes} for line in lines]
    usage = (allocation.inputs or {}).get("usage_figures")
    return {
        "usage": usage,
        "usage_names": {usage["resource_id"]: usage["resource"]} if usage else {},
        "table": table,
        "definition": definition,
        "needed": needed,
        "facts": facts_table(members, facts_year, needed),
        "years": years_used(facts_year),
        "own": scope is not None,
    }


@blueprint.route("/<int:allocation_id>.xlsx")
@access("user")
def export(allocation_id: int):
    allocation = _allocation_or_404(allocation_id)
    shown = _shown(allocation)
    sheets = allocation_sheets(
        allocation, shown["table"], shown["facts"], shown["needed"], shown["usage"]
    )
    suffix = f"-{current_user.member.code}" if shown["own"] else ""
    return send(sheets, f"allocation-{allocation.offer_id}-{allocation.year}{suffix}.xlsx")


@blueprint.route("/<int:allocation_id>")
@access("user")
def detail(allocation_id: int):
    allocation = _allocation_or_404(allocation_id)
    shown = _shown(allocation)
    scope = member_scope()
    table = shown["table"]
    return render_template(
        "allocations/detail.html",
        allocation=allocation,
        **shown,
        chart=_chart(table) if scope is None and table.rows else None,
        version_form=VersionForm(),
        changes=services.input_changes(get_session(), allocation)
        if not allocation.is_final and scope is None
        else [],
    )


@blueprint.route("/<int:allocation_id>/recompute", methods=["POST"])
@access("staff")
def recompute(allocation_id: int):
    session = get_session()
    allocation = _allocation_or_404(allocation_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    changed = services.recompute(session, allocation, form.version_number())
    session.commit()
    if changed:
        flash("The draft was recomputed from the offer's current figures.", "success")
    else:
        flash("Nothing changed since the draft was computed.", "info")
    return redirect(
        url_for(
            "allocations.workspace",
            offer_id=allocation.offer_id,
            term_year=allocation.term_year,
            choice="draft",
        )
    )


@blueprint.route("/<int:allocation_id>/finalize", methods=["GET", "POST"])
@access("coordinator")
def finalize(allocation_id: int):
    session = get_session()
    allocation = _allocation_or_404(allocation_id)
    if allocation.is_final:
        flash("This allocation is already final.", "info")
        return redirect(url_for("allocations.detail", allocation_id=allocation.id))
    form = VersionForm()
    changes = services.input_changes(session, allocation)
    if form.validate_on_submit():
        services.finalize(session, allocation, current_user, form.version_number())
        session.commit()
        total = money(allocation.total, allocation.currency)
        flash(f"Allocation finalized: the members owe {total}.", "success")
        return redirect(url_for("allocations.detail", allocation_id=allocation.id))
    if request.method == "POST":
        abort(400)
    table = SplitTable.from_allocation(allocation)
    return render_template(
        "allocations/finalize.html",
        allocation=allocation,
        table=table,
        form=form,
        changes=changes,
    )
