"""Member pages: the list, one member, editing, facts grids, import and export."""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from pathlib import Path

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
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from costshare.access import access, ensure_member_visible
from costshare.db import get_session, today
from costshare.downloads import content_disposition
from costshare.members import queries, services
from costshare.members.fields import (
    add_error,
    save_form,
    submitted,
    whole_number,
)
from costshare.members.forms import (
    ConfirmImportForm,
    GridForm,
    ImportForm,
    MemberForm,
    fact_name_problem,
)
from costshare.members.grid import build_grid, read_grid
from costshare.members.importing import (
    ImportRefused,
    apply_import,
    export_table,
    plan_import,
)
from costshare.members.models import Member, MemberFact
from costshare.members.tabular import (
    FileRefused,
    file_kind,
    read_rows,
    shown_name,
    write_csv,
    write_xlsx,
)
from costshare.offers.models import Offer, Participation, Resource
from costshare.pagination import page_args, paginate

blueprint = Blueprint("members", __name__, url_prefix="/members")

#: Sort keys offered on the list, and the columns they order by.
SORTS = {
    "code": Member.code,
    "name": Member.name,
    "sector": Member.sector,
    "currency": Member.billing_currency,
}
#: An uploaded file waits this long between its preview and the import.
IMPORT_KEEP_SECONDS = 24 * 3600
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def member_list_query(search: str, sort: str, sector: str = ""):
    query = select(Member)
    if search:
        like = f"%{search.lower()}%"
        query = query.where(
            or_(func.lower(Member.code).like(like), func.lower(Member.name).like(like))
        )
    if sector:
        query = query.where(Member.sector == sector)
    column = SORTS.get(sort.lstrip("-"), Member.code)
    order = column.desc() if sort.startswith("-") else column.asc()
    return query.order_by(order, Member.id)


def _sectors(session) -> list[str]:
    return list(
        session.scalars(
            select(Member.sector)
            .where(Member.sector.is_not(None))
            .distinct()
            .order_by(Member.sector)
        )
    )


#: The facts the members list shows, each from its latest year.
LISTED_FACTS = ("fte", "budget", "income")


@blueprint.route("/")
@access("staff")
def index():
    session = get_session()
    search = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "code")[:20]
    sector = request.args.get("sector", "").strip()[:64]
    number, per_page = page_args(50)
    page = paginate(session, member_list_query(search, sort, sector), number, per_page)
    ids = [m.id for m in page.items]
    year = today().year
    return render_template(
        "members/index.html",
        page=page,
        search=search,
        sort=sort,
        sector=sector,
        sectors=_sectors(session),
        facts=queries.latest_facts(session, ids, LISTED_FACTS),
        deals=queries.deals_joined(session, ids),
        bills=queries.bills_for_year(session, ids, year),
        year=year,
        listed_facts=LISTED_FACTS,
    )


@blueprint.route("/<int:member_id>")
@access("user")
def detail(member_id: int):
    ensure_member_visible(member_id)
    session = get_session()
    member = session.get(Member, member_id, options=[selectinload(Member.facts)])
    if member is None:
        abort(404)
    years = sorted({f.year for f in member.facts})
    grid: dict[str, dict[int, object]] = defaultdict(dict)
    for fact in member.facts:
        grid[fact.name][fact.year] = fact.value
    participations = list(
        session.scalars(
            select(Participation)
            .where(Participation.member_id == member_id)
            .join(Participation.offer)
            .options(
                joinedload(Participation.offer)
                .joinedload(Offer.resource)
                .joinedload(Resource.vendor)
            )
            .order_by(Offer.term_start.desc())
        )
    )
    return render_template(
        "members/detail.html",
        member=member,
        years=years,
        grid=dict(sorted(grid.items())),
        participations=participations,
    )


def _member_or_404(member_id: int) -> Member:
    member = get_session().get(Member, member_id)
    if member is None:
        abort(404)
    return member


@blueprint.route("/new", methods=["GET", "POST"])
@access("coordinator")
def new():
    form = MemberForm()
    if request.method == "GET":
        form.billing_currency.data = current_app.config["BASE_CURRENCY"]
    done = save_form(
        form,
        lambda: services.create_member(get_session(), form.values()),
        lambda member: f"Member {member.code} added. Add its facts next.",
        lambda member: url_for("members.edit_facts", member_id=member.id),
    )
    if done:
        return done
    status = 422 if form.errors or form.form_errors else 200
    return render_template("members/form.html", form=form, member=None), status


@blueprint.route("/<int:member_id>/edit", methods=["GET", "POST"])
@access("coordinator")
def edit(member_id: int):
    member = _member_or_404(member_id)
    form = MemberForm(obj=member)
    done = save_form(
        form,
        lambda: services.update_member(get_session(), member, form.values()),
        lambda changed: "Member saved." if changed else "Nothing changed.",
        lambda _: url_for("members.detail", member_id=member.id),
    )
    if done:
        return done
    status = 422 if form.errors or form.form_errors else 200
    return render_template("members/form.html", form=form, member=member), status


# --- facts ----------------------------------------------------------------------------


@blueprint.route("/<int:member_id>/facts", methods=["GET", "POST"])
@access("coordinator")
def edit_facts(member_id: int):
    """One member's facts: a row per fact, a column per year, plus room for new ones."""
    session = get_session()
    member = session.get(Member, member_id, options=[selectinload(Member.facts)])
    if member is None:
        abort(404)
    names = sorted({f.name for f in member.facts} or {"fte", "budget"})
    labels = {name: name for name in names}
    form = GridForm()
    if submitted(form):
        posted = read_grid(request.form, labels, fact_name_problem, typed_rows=True)
        if not posted.grid.errors:
            cells = [
                services.FactCell(member.id, year, name, value)
                for (name, year), value in posted.cells.items()
            ]
            saved = services.save_facts(session, cells, {member.id: member})
            session.commit()
            flash(_saved_sentence(saved), "success")
            return redirect(url_for("members.detail", member_id=member.id))
        grid = posted.grid
        grid.new_rows, grid.new_cols = 0, 0
        status = 422
    else:
        years = sorted({f.year for f in member.facts}) or [today().year]
        stored = {(f.name, f.year): f.value for f in member.facts}
        grid = build_grid([(n, n) for n in names], years, stored, new_rows=3)
        status = 422 if form.form_errors else 200
    return render_template("members/facts_member.html", member=member, grid=grid, form=form), status


def _saved_sentence(saved: services.FactsSaved) -> str:
    if not saved.changed:
        return "Nothing changed."
    return f"Facts saved: {saved.created} added, {saved.updated} changed, {saved.removed} removed."


def _facts_page(fact: str, form: GridForm, posted=None):
    """Render one fact for the members of one page (50 a page), years as columns."""
    session = get_session()
    search = request.args.get("q", "").strip()[:100]
    number, per_page = page_args(50)
    page = paginate(session, member_list_query(search, "code"), number, per_page)
    names = services.fact_names(session)
    if posted is not None:
        grid = posted.grid
    else:
        ids = [m.id for m in page.items]
        years = services.fact_years(session, fact) or [today().year]
        stored = {}
        if ids:
            rows = session.execute(
                select(MemberFact.member_id, MemberFact.year, MemberFact.value).where(
                    MemberFact.member_id.in_(ids), MemberFact.name == fact
                )
            )
            stored = {(str(m), y): v for m, y, v in rows}
        grid = build_grid([(str(m.id), m.code) for m in page.items], years, stored)
    names_by_id = {str(m.id): m for m in page.items}
    return render_template(
        "members/facts.html",
        fact=fact,
        names=names,
        page=page,
        search=search,
        grid=grid,
        members=names_by_id,
        form=form,
    )


def _fact_arg() -> str:
    fact = request.args.get("fact", "").strip()[:64] or "fte"
    if fact_name_problem(fact):
        abort(404)
    return fact


@blueprint.route("/facts")
@access("staff")
def facts():
    """One fact for every member (50 a page), a column per year."""
    return _facts_page(_fact_arg(), GridForm())


@blueprint.route("/facts", methods=["POST"])
@access("coordinator")
def save_facts():
    fact = _fact_arg()
    form = GridForm()
    session = get_session()
    if not submitted(form):
        return _facts_page(fact, form), 400
    keys = [request.form.get(f"row-{i}", "") for i in range(1000) if f"row-{i}" in request.form]
    ids = [i for i in map(whole_number, keys) if i is not None]
    members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(ids)))}
    labels = {str(m.id): m.code for m in members.values()}
    posted = read_grid(request.form, labels, lambda key: None, typed_rows=False)
    if posted.grid.errors:
        return _facts_page(fact, form, posted), 422
    cells = [
        services.FactCell(int(key), year, fact, value)
        for (key, year), value in posted.cells.items()
    ]
    saved = services.save_facts(session, cells, members)
    session.commit()
    flash(_saved_sentence(saved), "success")
    return redirect(url_for("members.facts", fact=fact, **_keep_args()))


def _keep_args() -> dict[str, str]:
    return {k: request.args[k] for k in ("q", "page") if request.args.get(k)}


# --- import and export ------------------------------------------------------------------


def _imports_folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_old_uploads(folder: Path) -> None:
    limit = time.time() - IMPORT_KEEP_SECONDS
    for path in folder.glob("*-*.*"):
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _stored_upload(token: str) -> Path | None:
    """Return the file this user uploaded under `token`, if it is still there."""
    folder = _imports_folder()
    for kind in ("csv", "xlsx"):
        path = folder / f"{current_user.id}-{token}.{kind}"
        if path.is_file():
            return path
    return None


def _plan(path: Path):
    with path.open("rb") as stream:
        rows = read_rows(stream, path.name)
        return plan_import(get_session(), rows, current_app.config["BASE_CURRENCY"])


@blueprint.route("/import", methods=["GET", "POST"])
@access("coordinator")
def import_members():
    """Upload a file and see what it would change; nothing is written yet."""
    form = ImportForm()
    refused = None
    plan = None
    token = None
    if submitted(form):
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            add_error(form, "file", "Choose a CSV or XLSX file.")
        else:
            folder = _imports_folder()
            _forget_old_uploads(folder)
            token = secrets.token_urlsafe(24)
            path = None
            try:
                kind = file_kind(upload.filename, upload.stream.read(4))
                upload.stream.seek(0)
                path = folder / f"{current_user.id}-{token}.{kind}"
                upload.save(path)
                plan = _plan(path)
            except FileRefused as error:
                add_error(form, "file", f"{shown_name(upload.filename)}: {error.message}")
            except ImportRefused as error:
                refused = error
            if plan is None:
                token = None
                if path is not None:
                    path.unlink(missing_ok=True)
    status = 422 if (form.errors or form.form_errors or refused) else 200
    return render_template(
        "members/import.html",
        form=form,
        refused=refused,
        plan=plan,
        confirm=ConfirmImportForm(formdata=None, token=token) if plan is not None else None,
        filename=getattr(form.file.data, "filename", None),
    ), status


@blueprint.route("/import/confirm", methods=["POST"])
@access("coordinator")
def confirm_import():
    """Import the file checked in the preview: all of it, in one transaction."""
    form = ConfirmImportForm()
    if not submitted(form):
        flash("The import could not be confirmed; upload the file again.", "error")
        return redirect(url_for("members.import_members"))
    path = _stored_upload(form.token.data)
    if path is None:
        flash("That upload is no longer here (it is kept for a day); upload it again.", "error")
        return redirect(url_for("members.import_members"))
    try:
        plan = _plan(path)
    except (FileRefused, ImportRefused):
        # The data changed since the preview in a way that now refuses the file.
        path.unlink(missing_ok=True)
        flash("The file no longer imports cleanly; upload it again to see why.", "error")
        return redirect(url_for("members.import_members"))
    session = get_session()
    result = apply_import(session, plan)
    session.commit()
    path.unlink(missing_ok=True)
    flash(
        f"Imported: {result.created} members added, {result.updated} updated, "
        f"{result.unchanged} unchanged; {result.facts} facts added or changed.",
        "success",
    )
    return redirect(url_for("members.index"))


@blueprint.route("/export.<any(csv, xlsx):fmt>")
@access("staff")
def export(fmt: str):
    """Every member with every fact, in the layout the import reads."""
    headers, rows = export_table(get_session())
    stamp = today().isoformat()
    if fmt == "csv":
        body, mimetype = write_csv(headers, rows), "text/csv; charset=utf-8"
    else:
        body, mimetype = write_xlsx("members", headers, rows), XLSX_TYPE
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": content_disposition(f"members-{stamp}.{fmt}")},
    )
