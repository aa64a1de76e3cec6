"""The demo's usage comes through the import service, as real-looking COUNTER files."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from costshare.demo import seed_demo
from costshare.members.models import Member
from costshare.offers.models import Resource
from costshare.usage.figures import Window, member_table
from costshare.usage.models import UsageImport, UsageItem


def test_the_demo_imports_generated_counter_files(app, session) -> None:
    with app.app_context():
        summary = seed_demo(session)
    assert "79 COUNTER files imported" in summary
    batches = session.scalars(select(UsageImport)).all()
    assert {b.source for b in batches} == {"demo"}
    assert {b.report_id for b in batches} == {"TR", "TR_J1", "TR_B1", "DR"}
    assert {b.filename.rsplit(".", 1)[1] for b in batches} == {"tsv", "csv", "json"}
    unmatched = set(session.scalars(select(UsageItem.name).where(UsageItem.resource_id.is_(None))))
    assert unmatched == {"Meridian Archive of Botany", "Meridian Archive of Mechanics"}


def test_the_demo_shows_a_master_report_over_its_view(app, session) -> None:
    with app.app_context():
        seed_demo(session)
    sysu = session.scalar(select(Member).where(Member.code == "SYSU"))
    lotus = session.scalar(select(Resource).where(Resource.name == "Lotus Academic E-books"))
    quarter = Window(dt.date(2026, 1, 1), dt.date(2026, 3, 1))
    table = member_table(session, sysu.id, "Total_Item_Requests", quarter)
    row = next(r for r in table.rows if r.key == lotus.id)
    # SYSU imported both a TR and a TR_B1 view for these months: only the TR counts.
    assert row.reports == ["TR"]
