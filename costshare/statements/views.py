"""Savings statements and consortium reports: pages and PDFs with the same figures and chart."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from costshare.access import access, ensure_member_visible
from costshare.db import get_session, today
from costshare.downloads import content_disposition
from costshare.invoices.services import BillingSettings
from costshare.members.models import Member
from costshare.pdf import render_pdf
from costshare.statements import services

blueprint = Blueprint("statements", __name__, url_prefix="/statements")


def _settings() -> BillingSettings:
    return BillingSettings.from_config(current_app.config)


def _pdf(template: str, context: dict, filename: str) -> Response:
    response = Response(render_pdf(template, context), mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(filename, "inline")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _year(years: list[int]) -> int:
    year = request.args.get("year", type=int)
    if year in years:
        return year
    return years[0] if years else today().year


@blueprint.route("/")
@access("staff")
def index():
    session = get_session()
    years = services.statement_years(session)
    year = _year(years)
    report = services.consortium_report(session, _settings(), year)
    funded = services.funder_statement(session, _settings(), year)
    return render_template(
        "statements/index.html", report=report, years=years, year=year, funded=funded
    )


@blueprint.route("/<int:year>/consortium.pdf")
@access("staff")
def consortium_pdf(year: int):
    report = services.consortium_report(get_session(), _settings(), year)
    return _pdf(
        "pdf/consortium.html", {"doc": report, "today": today()}, f"consortium-savings-{year}.pdf"
    )


def _member_or_404(member_id: int) -> Member:
    ensure_member_visible(member_id)
    member = get_session().get(Member, member_id)
    if member is None:
        abort(404)
    return member


@blueprint.route("/<int:year>/consortium.xlsx")
@access("staff")
def consortium_xlsx(year: int):
    from costshare.xlsx import Column, Sheet, send

    report = services.consortium_report(get_session(), _settings(), year)
    columns = [
        Column("Member"),
        Column("Name"),
        Column("Currency"),
        Column("Deals", "integer"),
        Column("Paid", "money"),
        Column("Alone (solo prices)", "money"),
        Column("Saved", "money"),
        Column("Saved %", "percent"),
    ]
    rows = [
        [
            r.code,
            r.name,
            r.currency,
            r.deals,
            r.totals.paid,
            r.totals.solo or None,
            r.totals.saved if r.totals.solo else None,
            r.totals.saved_pct,
        ]
        for r in report.rows
    ]
    totals = [
        ["Total", "", cur, report.deals, t.paid, t.solo, t.saved, t.saved_pct]
        for cur, t in report.totals.items()
    ]
    sheet = Sheet(
        f"Savings {year}",
        columns,
        rows + totals[:-1],
        totals=totals[-1] if totals else None,
        currency_column=2,
        notes=[f"{report.seller.name}: savings report {year}, from the final allocations"],
    )
    return send([sheet], f"consortium-savings-{year}.xlsx")


@blueprint.route("/<int:year>/members/<int:member_id>")
@access("user")
def member(year: int, member_id: int):
    found = _member_or_404(member_id)
    session = get_session()
    statement = services.member_statement(session, _settings(), found, year)
    return render_template(
        "statements/member.html",
        statement=statement,
        member=found,
        years=services.statement_years(session, member_id),
    )


@blueprint.route("/<int:year>/members/<int:member_id>.pdf")
@access("user")
def member_pdf(year: int, member_id: int):
    found = _member_or_404(member_id)
    statement = services.member_statement(get_session(), _settings(), found, year)
    return _pdf(
        "pdf/statement.html",
        {"doc": statement, "today": today()},
        f"savings-{found.code}-{year}.pdf",
    )


@blueprint.route("/<int:year>/funder")
@access("staff")
def funder(year: int):
    statement = services.funder_statement(get_session(), _settings(), year)
    return render_template("statements/funder.html", statement=statement)


@blueprint.route("/<int:year>/funder.pdf")
@access("staff")
def funder_pdf(year: int):
    statement = services.funder_statement(get_session(), _settings(), year)
    return _pdf(
        "pdf/funder.html", {"doc": statement, "today": today()}, f"subsidy-statement-{year}.pdf"
    )
