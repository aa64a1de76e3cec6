"""Cost per use over many resources: each resource judged by its own metric, in few queries."""

from __future__ import annotations

from costshare.usage.figures import cost_per_use
from costshare.usage.importing import import_usage
from tests.factories import (
    QueryCounter,
    create_final_allocation,
    create_member,
    create_offer,
    create_resource,
)
from tests.usage.support import journal_report


def add_resources(session, member, count: int, start: int) -> dict[int, str]:
    """Add `count` billed resources with usage; return the metric each one should be judged by.

    Even ones (journals) have only Unique_Item_Requests imported, odd ones only
    Total_Item_Requests: each resource's own imports decide its metric.
    """
    expected = {}
    for n in range(start, start + count):
        platform = f"Query Platform {n}"
        metric = "Unique_Item_Requests" if n % 2 == 0 else "Total_Item_Requests"
        resource = create_resource(session, kind="journals", counter_platform=platform)
        offer = create_offer(session, resource=resource, joined=[member])
        create_final_allocation(session, offer, {member: {"amount": "100.00"}})
        report = journal_report(
            {"2027-01": 10 + n},
            metric=metric,
            platform=platform,
            title=f"Journal {n}",
            issn=f"{1000 + n:04d}-000X",
        )
        import_usage(session, report.tsv(), member=member, filename=f"tr-{n}.tsv")
        expected[resource.id] = metric
    return expected


def test_cost_per_use_queries_do_not_grow_with_resources(app, session) -> None:
    member = create_member(session, code="QRY")
    expected = add_resources(session, member, 2, start=0)
    with QueryCounter(app) as few:
        rows = cost_per_use(session, member_id=member.id)
    assert {row.resource_id: row.metric for row in rows} == expected

    expected |= add_resources(session, member, 6, start=2)
    with QueryCounter(app) as many:
        rows = cost_per_use(session, member_id=member.id)
    assert {row.resource_id: row.metric for row in rows} == expected
    # Journal n had 10 + n uses in January 2027 of its one metric.
    assert sorted(row.uses for row in rows) == list(range(10, 18))
    assert many.count == few.count
