"""The negotiation page's usage trend counts a member's master report, never its views too."""

from __future__ import annotations

import datetime as dt

from costshare.negotiation.services import usage_trend
from costshare.usage.importing import import_usage
from tests.factories import create_member, create_offer, create_resource
from tests.usage.support import journal_report


def test_usage_trend_takes_the_master_report_over_its_views(session) -> None:
    resource = create_resource(session, counter_platform="Meridian Online")
    member = create_member(session, code="TRND")
    offer = create_offer(
        session,
        resource=resource,
        joined=[member],
        term_start=dt.date(2026, 1, 1),
        term_end=dt.date(2026, 12, 31),
    )
    view = journal_report({"2026-01": 5, "2026-02": 5}, "TR_J1")
    master = journal_report({"2026-01": 6, "2026-02": 7}, "TR", begin="2026-01", end="2026-02")
    import_usage(session, view.tsv(), member=member, filename="TR_J1.tsv")
    import_usage(session, master.tsv(), member=member, filename="TR.tsv")
    # The TR covers both months: 6 and 7 — not 6 + 5 and 7 + 5.
    assert usage_trend(session, offer)["Total_Item_Requests"] == {"2026-01": 6, "2026-02": 7}
