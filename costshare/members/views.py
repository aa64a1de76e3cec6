"""Member pages: the list with each member's latest facts, and one member's page."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from costshare.access import access, ensure_member_visible
from costshare.db import get_session, today
from costshare.members import queries
from costshare.members.models import Member
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


def member_list_query(search: str, sort: str):
    query = select(Member)
    if search:
        like = f"%{search.lower()}%"
        query = query.where(
            or_(func.lower(Member.code).like(like), func.lower(Member.name).like(like))
        )
    column = SORTS.get(sort.lstrip("-"), Member.code)
    order = column.desc() if sort.startswith("-") else column.asc()
    return query.order_by(order, Member.id)


@blueprint.route("/")
@access("staff")
def index():
    session = get_session()
    search = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "code")
    number, per_page = page_args(50)
    page = paginate(session, member_list_query(search, sort), number, per_page)
    ids = [m.id for m in page.items]
    year = today().year
    return render_template(
        "members/index.html",
        page=page,
        search=search,
        sort=sort,
        facts=queries.latest_facts(session, ids),
        deals=queries.deals_joined(session, ids),
        bills=queries.bills_for_year(session, ids, year),
        year=year,
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
                selectinload(Participation.offer)
                .selectinload(Offer.resource)
                .selectinload(Resource.vendor)
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
