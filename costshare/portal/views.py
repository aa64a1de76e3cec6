"""A member user's own page: invoices, shares of each deal, savings, usage."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select

from costshare.access import access, ensure_member_visible, member_scope
from costshare.charts import Series, line_chart
from costshare.db import get_session, today
from costshare.formatting import money
from costshare.members.models import Member
from costshare.portal import services
from costshare.usage.figures import cost_per_use

blueprint = Blueprint("portal", __name__, url_prefix="/portal")


@blueprint.route("/")
@access("user")
def index():
    scope = member_scope()
    if scope is not None:
        return _page(scope)
    members = get_session().scalars(select(Member).order_by(Member.code)).all()
    return render_template("portal/choose.html", members=members)


@blueprint.route("/members/<int:member_id>")
@access("user")
def member(member_id: int):
    ensure_member_visible(member_id)
    return _page(member_id)


def _page(member_id: int):
    session = get_session()
    found = session.get(Member, member_id)
    if found is None:
        abort(404)
    invoices = services.invoices_of(session, member_id)
    shares = services.shares_of(session, member_id)
    savings = services.savings_by_year(shares)
    chart = None
    currencies = sorted({cur for by_currency in savings.values() for cur in by_currency})
    if len(savings) > 1 and len(currencies) == 1:
        cur = currencies[0]
        years = sorted(savings)
        chart = line_chart(
            [str(y) for y in years],
            [
                Series("Alone (solo price)", [savings[y][cur].solo for y in years]),
                Series("Through the consortium", [savings[y][cur].paid_with_solo for y in years]),
            ],
            f"{found.code}: alone vs through the consortium, by year ({cur})",
            fmt=lambda value: money(value, cur),
        )
    return render_template(
        "portal/member.html",
        member=found,
        invoices=invoices,
        shares=shares,
        savings=savings,
        chart=chart,
        balance=services.balance_of(invoices, today()),
        cost_per_use=cost_per_use(
            session, member_id=member_id, for_member_user=current_user.is_member_user
        ),
        today=today(),
    )
