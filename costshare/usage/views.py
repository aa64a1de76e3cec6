"""Usage pages: overview, a member's and a resource's usage, imports, history, SUSHI.

A member user reaches only its own member's usage page (404 for any other), which
shows the consortium's averages but names no other member. Everything else is for
staff; importing, removing and SUSHI are for coordinators.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from costshare.access import access, ensure_member_visible
from costshare.charts import Series, line_chart, stacked_bars
from costshare.db import get_session
from costshare.errors import ServiceError
from costshare.members.fields import add_error, choices, submitted
from costshare.members.models import Member
from costshare.offers.models import Resource, Vendor
from costshare.pagination import page_args, paginate
from costshare.urls import bounded_id
from costshare.usage import figures, services
from costshare.usage.forms import METRIC_CHOICES, CredentialForm, HarvestForm, UploadForm
from costshare.usage.importing import period_label
from costshare.usage.models import SushiCredential, UsageImport, UsageItem
from costshare.usage.reports import metric_label
from costshare.usage.sushi import RETRY_DELAYS, harvest
from costshare.xlsx import Column, Sheet, send

blueprint = Blueprint("usage", __name__, url_prefix="/usage")

#: Rows drawn as their own line in a chart; the rest are added up as "Other".
CHART_LINES = 6


@blueprint.app_template_filter("metric")
def metric_filter(metric: str) -> str:
    return metric_label(metric or "")


# --- shared pieces ------------------------------------------------------------------------


def _window(last: Any) -> tuple[figures.Window | None, str | None]:
    """Return the months asked for (?begin=YYYY-MM&end=YYYY-MM), or the last twelve with usage."""
    begin = figures.parse_month(request.args.get("begin"))
    end = figures.parse_month(request.args.get("end"))
    problem = None
    if (request.args.get("begin") and begin is None) or (request.args.get("end") and end is None):
        problem = "Months are written YYYY-MM; the last twelve months with usage are shown."
        begin = end = None
    if begin and end and (end < begin or figures.Window(begin, end).size > figures.MAX_MONTHS):
        problem = (
            f"Choose a last month after the first, at most {figures.MAX_MONTHS} months on;"
            " the last twelve months with usage are shown."
        )
        begin = end = None
    if begin and not end:
        end = figures.add_months(begin, figures.DEFAULT_MONTHS - 1)
    if end and not begin:
        begin = figures.add_months(end, -(figures.DEFAULT_MONTHS - 1))
    if begin and end:
        return figures.Window(begin, end), problem
    if last is None:
        return None, problem
    return figures.Window.ending(last), problem


def _month_label(month: Any, many: bool) -> str:
    return f"{month:%m/%y}" if many else f"{month:%b %y}"


def _short(name: str, size: int = 24) -> str:
    return name if len(name) <= size else name[: size - 1] + "…"


def _chart(table: figures.Table, title: str) -> Markup | None:
    """Return a line per top row over the table's months (the rest as "Other")."""
    if not table.rows or not table.total:
        return None
    months = table.months
    labels = [_month_label(m, len(months) > 13) for m in months]
    top = table.rows[:CHART_LINES]
    series = [Series(_short(row.label), [row.counts.get(m, 0) for m in months]) for row in top]
    rest = table.rows[CHART_LINES:]
    if rest:
        other = [sum(r.counts.get(m, 0) for r in rest) for m in months]
        series.append(Series(f"{len(rest)} others", other, color="#9aa5b1"))
    width = max(760, 46 * len(months))
    return line_chart(labels, series, title, width=width)


def _xlsx(table: figures.Table, first: str, title: str, filename: str):
    months = table.months
    columns = [
        Column(first),
        *(Column(f"{m:%Y-%m}", "integer") for m in months),
        Column("Total", "integer"),
        Column("Source reports"),
    ]
    rows = [
        [row.label, *(row.counts.get(m, 0) for m in months), row.total, row.source_label]
        for row in table.rows
    ]
    totals = ["Total", *(table.month_total(m) for m in months), table.total, ""]
    notes = [f"{title}: {metric_label(table.metric)}, {table.window.label}"]
    return send([Sheet(title, columns, rows, totals, notes=notes)], filename)


def _metric_choices(available: list[str]) -> list[Any]:
    known = set(available)
    return [c for c in METRIC_CHOICES if c.value in known] or METRIC_CHOICES[:1]


# --- overview ---------------------------------------------------------------------------------


@blueprint.route("/")
@access("staff")
def index():
    session = get_session()
    available = figures.metrics_of(session)
    metric = figures.pick_metric(request.args.get("metric"), available)
    last = session.scalar(select(func.max(UsageImport.end)).where(UsageImport.record_count > 0))
    window, problem = _window(figures.month_of(last) if last else None)
    totals = figures.resource_totals(session, metric, window) if window else {}
    resource_ids = [rid for rid in totals if rid is not None]
    resources = {
        r.id: r
        for r in session.scalars(
            select(Resource)
            .where(Resource.id.in_(resource_ids))
            .options(selectinload(Resource.vendor))
        )
    }
    ranked = sorted(resource_ids, key=lambda rid: (-totals[rid].uses, resources[rid].name))
    chart = None
    if ranked and window:
        top = ranked[:12]
        chart = stacked_bars(
            [_short(resources[rid].name) for rid in top],
            [Series(metric_label(metric), [totals[rid].uses for rid in top])],
            f"{metric_label(metric)}, {window.label}, all members",
        )
    members = session.execute(
        select(
            Member.id,
            Member.code,
            Member.name,
            func.count(UsageImport.id),
            func.sum(UsageImport.record_count),
            func.max(UsageImport.end),
        )
        .join(UsageImport, UsageImport.member_id == Member.id)
        .group_by(Member.id, Member.code, Member.name)
        .order_by(Member.code)
    ).all()
    stats = session.execute(
        select(func.count(UsageImport.id), func.coalesce(func.sum(UsageImport.record_count), 0))
    ).one()
    unmatched_items = session.scalar(
        select(func.count(UsageItem.id))
        .join(UsageImport, UsageImport.id == UsageItem.import_id)
        .where(UsageItem.resource_id.is_(None), UsageImport.record_count > 0)
    )
    recent = list(
        session.scalars(
            select(UsageImport)
            .options(selectinload(UsageImport.member))
            .order_by(UsageImport.created_at.desc(), UsageImport.id.desc())
            .limit(6)
        )
    )
    return render_template(
        "usage/index.html",
        metric=metric,
        metrics=_metric_choices(available),
        window=window,
        problem=problem,
        totals=totals,
        ranked=ranked,
        resources=resources,
        chart=chart,
        members=members,
        stats=stats,
        unmatched_items=unmatched_items,
        recent=recent,
    )


# --- one member, one resource -------------------------------------------------------------


@dataclass
class Figures:
    """What the member and resource pages share: the metric, the months, the table."""

    metric: str
    metrics: list[Any]
    window: figures.Window | None
    problem: str | None
    table: figures.Table
    #: Cost per use over the months shown rather than the billed term years.
    over_window: bool


def _figures(available: list[str], last: Any, build: Any) -> Figures:
    metric = figures.pick_metric(request.args.get("metric"), available)
    window, problem = _window(last)
    if window is None:
        table = figures.Table(metric, figures.Window.ending(figures.this_month()), [])
    else:
        table = build(metric, window)
    over_window = request.args.get("cpu") == "window" and window is not None
    return Figures(metric, _metric_choices(available), window, problem, table, over_window)


@blueprint.route("/members/<int:member_id>")
@access("user")
def member(member_id: int):
    ensure_member_visible(member_id)
    session = get_session()
    found = session.get(Member, member_id)
    if found is None:
        abort(404)
    page = _figures(
        figures.metrics_of(session, member_id=member_id),
        figures.latest_month(session, member_id=member_id),
        lambda metric, window: figures.member_table(session, member_id, metric, window),
    )
    if request.args.get("format") == "xlsx" and page.window:
        name = f"usage-{found.code}-{page.metric}.xlsx"
        return _xlsx(page.table, "Resource", f"{found.code} usage", name)
    averages = {}
    if page.window:
        ids = [row.key for row in page.table.rows if isinstance(row.key, int)]
        averages = figures.consortium_averages(session, ids, page.metric, page.window)
    cpu = figures.cost_per_use(
        session,
        member_id=member_id,
        window=page.window if page.over_window else None,
        for_member_user=current_user.is_member_user,
    )
    batches = []
    if not current_user.is_member_user:
        batches = list(
            session.scalars(
                select(UsageImport)
                .where(UsageImport.member_id == member_id)
                .order_by(UsageImport.created_at.desc(), UsageImport.id.desc())
                .limit(8)
            )
        )
    title = f"{found.code}: {metric_label(page.metric)} per month"
    return render_template(
        "usage/member.html",
        member=found,
        averages=averages,
        chart=_chart(page.table, title) if page.window else None,
        cpu=cpu,
        batches=batches,
        **vars(page),
    )


@blueprint.route("/resources/<int:resource_id>")
@access("staff")
def resource(resource_id: int):
    session = get_session()
    found = session.get(Resource, resource_id, options=[selectinload(Resource.vendor)])
    if found is None:
        abort(404)
    page = _figures(
        figures.metrics_of(session, resource_id=resource_id, kind=found.kind),
        figures.latest_month(session, resource_id=resource_id),
        lambda metric, window: figures.resource_table(session, resource_id, metric, window),
    )
    if request.args.get("format") == "xlsx" and page.window:
        name = f"usage-resource-{found.id}-{page.metric}.xlsx"
        return _xlsx(page.table, "Member", found.name, name)
    cpu = figures.cost_per_use(
        session, resource_id=resource_id, window=page.window if page.over_window else None
    )
    title = f"{found.name}: {metric_label(page.metric)} per month"
    return render_template(
        "usage/resource.html",
        resource=found,
        chart=_chart(page.table, title) if page.window else None,
        cpu=cpu,
        **vars(page),
    )


# --- importing ------------------------------------------------------------------------------


@dataclass
class FileResult:
    filename: str
    status: str  # imported | duplicate | refused
    message: str
    batch_id: int | None = None


def _member_choices(session) -> list[Any]:
    rows = session.execute(select(Member.id, Member.code, Member.name).order_by(Member.code))
    return choices(
        [("", "— take it from the file's institution id —")]
        + [(str(i), f"{code} · {name}") for i, code, name in rows]
    )


@blueprint.route("/import", methods=["GET", "POST"])
@access("coordinator")
def upload():
    session = get_session()
    form = UploadForm()
    form.member_id.choices = _member_choices(session)
    results: list[FileResult] = []
    status = 200
    if submitted(form):
        chosen = session.get(Member, int(form.member_id.data)) if form.member_id.data else None
        for storage in form.files.data or []:
            if not getattr(storage, "filename", ""):
                continue
            name = PurePath(storage.filename.replace("\\", "/")).name[:255] or "upload"
            try:
                imported = services.import_usage(
                    session,
                    storage.stream,
                    filename=name,
                    member=chosen,
                    platform=form.platform.data,
                    source_kind="upload",
                    user_id=current_user.id,
                )
            except services.DuplicateImport as duplicate:
                results.append(FileResult(name, "duplicate", duplicate.message, duplicate.batch.id))
            except services.UsageImportError as error:
                if error.field == "platform":
                    add_error(form, "platform", error.message)
                    break
                results.append(FileResult(name, "refused", error.message))
            else:
                results.append(FileResult(name, "imported", imported.sentence(), imported.batch.id))
        session.commit()
        if not any(r.status != "refused" for r in results):
            status = 422
    elif form.is_submitted():
        status = 422
    return render_template("usage/upload.html", form=form, results=results), status


@blueprint.route("/imports")
@access("staff")
def imports():
    session = get_session()
    query = (
        select(UsageImport)
        .options(selectinload(UsageImport.member), selectinload(UsageImport.created_by))
        .order_by(UsageImport.created_at.desc(), UsageImport.id.desc())
    )
    member_id = bounded_id(request.args.get("member", type=int))
    shown_member = None
    if member_id is not None:
        shown_member = session.get(Member, member_id)
        query = query.where(UsageImport.member_id == member_id)
    number, per_page = page_args(50)
    page = paginate(session, query, number, per_page)
    return render_template("usage/imports.html", page=page, shown_member=shown_member)


def _found(model: Any, ident: int, *relations: Any) -> Any:
    """Return the row with its relations loaded, or answer 404."""
    row = get_session().get(model, ident, options=[selectinload(r) for r in relations])
    if row is None:
        abort(404)
    return row


def _batch_or_404(import_id: int) -> UsageImport:
    return _found(UsageImport, import_id, UsageImport.member, UsageImport.created_by)


@blueprint.route("/imports/<int:import_id>")
@access("staff")
def batch(import_id: int):
    session = get_session()
    found = _batch_or_404(import_id)
    matched = session.execute(
        select(UsageItem.resource_id, Resource.name, func.count(UsageItem.id))
        .outerjoin(Resource, Resource.id == UsageItem.resource_id)
        .where(UsageItem.import_id == found.id)
        .group_by(UsageItem.resource_id, Resource.name)
        .order_by(Resource.name)
    ).all()
    unmatched = list(
        session.scalars(
            select(UsageItem)
            .where(UsageItem.import_id == found.id, UsageItem.resource_id.is_(None))
            .order_by(UsageItem.id)
            .limit(100)
        )
    )
    summary = found.summary or {}
    months = sorted({m for per in (summary.get("totals_by_month") or {}).values() for m in per})
    return render_template(
        "usage/batch.html",
        batch=found,
        summary=summary,
        months=months[:36],
        matched=matched,
        unmatched=unmatched,
        period=period_label(found.begin, found.end),
    )


@blueprint.route("/imports/<int:import_id>/remove", methods=["POST"])
@access("coordinator")
def remove(import_id: int):
    session = get_session()
    found = _batch_or_404(import_id)  # the app's CSRFProtect checked the token already
    removed = services.remove_batch(session, found, user_id=current_user.id)
    session.commit()
    flash(f"Batch {import_id} removed with its {removed:,} records.", "success")
    return redirect(url_for("usage.imports"))


@blueprint.route("/unmatched")
@access("staff")
def unmatched():
    session = get_session()
    groups = session.execute(
        select(
            UsageItem.platform,
            UsageItem.data_type,
            func.count(UsageItem.id),
            func.count(func.distinct(UsageImport.member_id)),
            func.min(UsageItem.name),
        )
        .join(UsageImport, UsageImport.id == UsageItem.import_id)
        .where(UsageItem.resource_id.is_(None), UsageImport.record_count > 0)
        .group_by(UsageItem.platform, UsageItem.data_type)
        .order_by(func.count(UsageItem.id).desc(), UsageItem.platform)
        .limit(300)
    ).all()
    return render_template("usage/unmatched.html", groups=groups)


@blueprint.route("/rematch", methods=["POST"])
@access("coordinator")
def match_again():
    session = get_session()
    changed, left = services.rematch(session, user_id=current_user.id)
    session.commit()
    flash(
        f"Usage matched again: {changed:,} items changed resource; {left:,} match none.",
        "success",
    )
    return redirect(url_for("usage.unmatched"))


# --- SUSHI --------------------------------------------------------------------------------


@blueprint.route("/sushi")
@access("staff")
def credentials():
    session = get_session()
    rows = list(
        session.scalars(
            select(SushiCredential)
            .join(Member, Member.id == SushiCredential.member_id)
            .join(Vendor, Vendor.id == SushiCredential.vendor_id)
            .options(selectinload(SushiCredential.member), selectinload(SushiCredential.vendor))
            .order_by(Vendor.name, Member.code)
        )
    )
    return render_template("usage/credentials.html", credentials=rows)


def _credential_form(session, credential: SushiCredential | None) -> CredentialForm:
    form = CredentialForm(obj=credential)
    members = session.execute(select(Member.id, Member.code, Member.name).order_by(Member.code))
    vendors = session.execute(select(Vendor.id, Vendor.name).order_by(Vendor.name))
    form.member_id.choices = choices(
        [("", "—")] + [(str(i), f"{code} · {name}") for i, code, name in members]
    )
    form.vendor_id.choices = choices([("", "—")] + [(str(i), name) for i, name in vendors])
    if request.method == "GET" and credential is not None:
        form.member_id.data = str(credential.member_id)
        form.vendor_id.data = str(credential.vendor_id)
        form.api_key.data = ""
    return form


def _save_credential(credential: SushiCredential | None):
    session = get_session()
    form = _credential_form(session, credential)
    if submitted(form):
        try:
            saved = services.save_credential(
                session, form.values(), credential, user_id=current_user.id
            )
        except ServiceError as error:
            add_error(form, error.field, error.message)
        else:
            session.commit()
            flash(
                f"SUSHI credentials of {saved.member.code} for {saved.vendor.name} saved.",
                "success",
            )
            return redirect(url_for("usage.credentials"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("usage/credential_form.html", form=form, credential=credential), status


@blueprint.route("/sushi/new", methods=["GET", "POST"])
@access("coordinator")
def new_credential():
    return _save_credential(None)


def _credential_or_404(credential_id: int) -> SushiCredential:
    return _found(SushiCredential, credential_id, SushiCredential.member, SushiCredential.vendor)


@blueprint.route("/sushi/<int:credential_id>/edit", methods=["GET", "POST"])
@access("coordinator")
def edit_credential(credential_id: int):
    return _save_credential(_credential_or_404(credential_id))


@blueprint.route("/sushi/<int:credential_id>/remove", methods=["POST"])
@access("coordinator")
def remove_credential(credential_id: int):
    found = _credential_or_404(credential_id)
    session = get_session()
    label = f"{found.member.code} for {found.vendor.name}"
    services.delete_credential(session, found, user_id=current_user.id)
    session.commit()
    flash(f"SUSHI credentials of {label} removed.", "success")
    return redirect(url_for("usage.credentials"))


@blueprint.route("/sushi/<int:credential_id>/harvest", methods=["GET", "POST"])
@access("coordinator")
def harvest_report(credential_id: int):
    session = get_session()
    found = _credential_or_404(credential_id)
    form = HarvestForm()
    outcome = None
    status = 200
    if request.method == "GET":
        last = figures.add_months(figures.this_month(), -1)
        form.begin.data = f"{figures.add_months(last, -11):%Y-%m}"
        form.end.data = f"{last:%Y-%m}"
    if submitted(form):
        try:
            outcome = harvest(
                session,
                found,
                form.report.data,
                figures.parse_month(form.begin.data),
                figures.parse_month(form.end.data),
                user_id=current_user.id,
                delays=current_app.config.get("SUSHI_RETRY_DELAYS", RETRY_DELAYS),
            )
        except ServiceError as error:
            add_error(form, error.field if error.field != "report" else "report", error.message)
        else:
            session.commit()
            if outcome.ok:
                flash(outcome.message, "success")
                return redirect(url_for("usage.credentials"))
    if form.errors or form.form_errors or (outcome is not None and not outcome.ok):
        status = 422
    return render_template(
        "usage/harvest.html", form=form, credential=found, outcome=outcome
    ), status
