"""Usage figures: master reports over views, consortium averages, cost per use, formula input.

Every expected number is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from costshare.allocations.inputs import build_scenario
from costshare.allocations.services import preview
from costshare.errors import ServiceError
from costshare.usage.figures import (
    Window,
    consortium_averages,
    cost_per_use,
    member_table,
    member_usage_summary,
    per_use,
    resource_table,
)
from costshare.usage.importing import import_usage
from costshare.usage.services import clean_usage_spec, usage_attribute
from tests.counter.corpus import corpus_file
from tests.factories import create_final_allocation, create_member, create_offer, create_resource
from tests.usage.support import Line, Report, journal_report, usage_spec

JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
Q1 = Window(JAN, MAR)


@pytest.fixture
def resource(session):
    return create_resource(session, counter_platform="Meridian Online")


@pytest.fixture
def member(session):
    return create_member(session, code="AAA")


def load(session, member, report: Report) -> None:
    import_usage(session, report.tsv(), member=member, filename=f"{report.report_id}.tsv")


def only_row(table):
    assert len(table.rows) == 1
    return table.rows[0]


# --- master report over standard views ---------------------------------------------------------


def test_the_master_report_wins_for_the_months_it_covers(session, member, resource) -> None:
    load(session, member, journal_report({"2026-01": 5, "2026-02": 5, "2026-03": 5}, "TR_J1"))
    # The TR covers February and March; it counts 7 in February and nothing in March.
    load(session, member, journal_report({"2026-02": 7}, "TR", begin="2026-02", end="2026-03"))
    row = only_row(member_table(session, member.id, "Total_Item_Requests", Q1))
    # January from the view (5), February from the TR (7), March: the TR's zero, not the
    # view's 5. Total 5 + 7 = 12 — never 5 + 5 + 5 + 7.
    assert row.counts == {JAN: 5, FEB: 7}
    assert row.total == 12
    assert row.sources == {JAN: {"TR_J1"}, FEB: {"TR"}}
    assert row.reports == ["TR", "TR_J1"]
    assert row.source_label == "TR_J1 (2026-01); TR (2026-02)"


def test_views_of_journals_and_books_add_up_and_the_fuller_view_wins(
    session, member, resource
) -> None:
    load(session, member, journal_report({"2026-01": 3}, "TR_J1"))
    books = Report(
        "TR_B1",
        "2026-01",
        "2026-01",
        [Line("Book", "Total_Item_Requests", {"2026-01": 4}, data_type="Book")],
    )
    load(session, member, books)
    row = only_row(member_table(session, member.id, "Total_Item_Requests", Q1))
    assert row.counts == {JAN: 7}  # journals 3 + books 4: different titles
    # TR_J3 holds all of TR_J1 (and the OA_Gold requests J1 leaves out): it replaces J1.
    load(session, member, journal_report({"2026-01": 6}, "TR_J3"))
    row = only_row(member_table(session, member.id, "Total_Item_Requests", Q1))
    assert row.counts == {JAN: 10}  # journals 6 (J3) + books 4 (B1)
    assert row.sources[JAN] == {"TR_J3", "TR_B1"}


def test_karger_j3_replaces_j1_in_its_month_only(session, member) -> None:
    karger = create_resource(session, counter_platform="Karger")
    for relative in (
        "folio-mod-erm-usage/standardviews/tr_j1.json",  # TR_J1 Jan–Mar 2021, TIR 1776
        "folio-mod-erm-usage-counter/tr_j3.json",  # TR_J3 Jan 2021, TIR 798
    ):
        import_usage(session, corpus_file(relative), member=member)
    table = resource_table(
        session, karger.id, "Total_Item_Requests", Window(dt.date(2021, 1, 1), dt.date(2021, 3, 1))
    )
    row = only_row(table)
    # January from TR_J3 (798); February and March from TR_J1: 1776 − 587 (its January).
    assert row.counts[dt.date(2021, 1, 1)] == 798
    assert row.total == 798 + 1776 - 587
    assert row.label == "AAA"


# --- consortium figures ----------------------------------------------------------------------


def test_a_resource_is_shown_per_member_with_the_consortiums_average(session, resource) -> None:
    a = create_member(session, code="A1")
    b = create_member(session, code="B1")
    c = create_member(session, code="C1")
    create_member(session, code="D1")  # no usage: not counted in the average
    load(session, a, journal_report({"2026-01": 4, "2026-02": 6}, institution_id="x:a"))
    load(session, b, journal_report({"2026-01": 30}, institution_id="x:b"))
    table = resource_table(session, resource.id, "Total_Item_Requests", Q1)
    assert [(row.label, row.total) for row in table.rows] == [("B1", 30), ("A1", 10)]
    assert table.month_total(JAN) == 34
    # Two members using it: either could work out the other's figure from the average.
    average = consortium_averages(session, [resource.id], "Total_Item_Requests", Q1)[resource.id]
    assert (average.members, average.per_member, average.withheld) == (2, None, True)
    assert average.uses == 0  # nothing of the total is handed out either
    load(session, c, journal_report({"2026-01": 5}, institution_id="x:c"))
    # Three members, but February was used by A1 alone: withheld over the quarter.
    average = consortium_averages(session, [resource.id], "Total_Item_Requests", Q1)[resource.id]
    assert (average.members, average.per_member, average.withheld) == (3, None, True)
    january = Window(JAN, JAN)
    average = consortium_averages(session, [resource.id], "Total_Item_Requests", january)
    # January: (4 + 30 + 5) uses / 3 members using it = 13.0 per member.
    assert (average[resource.id].uses, average[resource.id].members) == (39, 3)
    assert average[resource.id].per_member == Decimal("13.0")


def test_a_members_summary_names_no_other_member(session, resource) -> None:
    a = create_member(session, code="A1")
    b = create_member(session, code="B1")
    c = create_member(session, code="C1")
    load(session, a, journal_report({"2026-01": 4, "2026-02": 6}, institution_id="x:a"))
    load(session, b, journal_report({"2026-01": 30, "2026-02": 2}, institution_id="x:b"))
    load(session, c, journal_report({"2026-01": 1, "2026-02": 1}, institution_id="x:c"))
    summary = member_usage_summary(session, a.id)
    assert summary.window == Window(dt.date(2025, 3, 1), FEB)  # 12 months to its last
    [line] = summary.resources
    assert (line.resource_id, line.metric, line.uses, line.months_with_usage) == (
        resource.id,
        "Total_Item_Requests",
        10,
        2,
    )
    # Consortium: 10 + 32 + 2 = 44 uses by 3 members (B1 and C1 counted, never named).
    assert (line.consortium.uses, line.consortium.members) == (44, 3)
    assert line.consortium.per_member == Decimal("14.7")  # 44 / 3 = 14.666…
    assert line.reports == ["TR"]


# --- cost per use ------------------------------------------------------------------------------


def test_cost_per_use_divides_the_allocated_amount_by_the_uses(session, resource) -> None:
    a = create_member(session, code="A1")
    b = create_member(session, code="B1")
    c = create_member(session, code="C1")
    d = create_member(session, code="D1")
    offer = create_offer(session, resource=resource, joined=[a, b, c, d])  # term 2027
    create_final_allocation(
        session,
        offer,
        {
            a: {"amount": "6300.00"},
            b: {"amount": "1234.57"},
            c: {"amount": "500.00"},
            d: {"amount": "465.43"},
        },
    )
    load(session, a, journal_report({"2027-01": 2000, "2027-02": 2200}, institution_id="x:a"))
    load(session, b, journal_report({"2027-03": 1000}, institution_id="x:b"))
    # Usage outside the term (2026) does not count.
    load(
        session,
        b,
        journal_report({"2026-12": 999}, institution_id="x:b", platform="Meridian Online"),
    )
    rows = {row.member_code: row for row in cost_per_use(session, offer_id=offer.id)}
    assert rows["A1"].uses == 4200 and rows["A1"].months_with_usage == 2
    assert rows["A1"].cost_per_use == Decimal("1.50")  # 6300.00 / 4200
    assert rows["B1"].cost_per_use == Decimal("1.23")  # 1234.57 / 1000 = 1.23457
    assert rows["C1"].uses == 0 and rows["C1"].cost_per_use is None
    # Two members with usage: the consortium's figure would give each the other's.
    assert rows["A1"].consortium_members == 2
    assert rows["A1"].consortium_cost_per_use is None
    load(session, d, journal_report({"2027-05": 800}, institution_id="x:d"))
    rows = {row.member_code: row for row in cost_per_use(session, offer_id=offer.id)}
    # Consortium: (6300.00 + 1234.57 + 465.43) / (4200 + 1000 + 800) = 8000.00 / 6000
    # = 1.3333… → 1.33; C1 has no usage and stays out of it.
    assert rows["A1"].consortium_cost_per_use == Decimal("1.33")
    assert rows["A1"].consortium_members == 3
    assert rows["A1"].window == Window(dt.date(2027, 1, 1), dt.date(2027, 12, 1))
    assert rows["A1"].years == [2027]


def test_a_member_sees_its_own_rows_beside_the_consortiums(session, resource) -> None:
    a = create_member(session, code="A1")
    b = create_member(session, code="B1")
    c = create_member(session, code="C1")
    offer = create_offer(session, resource=resource, joined=[a, b, c])
    create_final_allocation(
        session,
        offer,
        {a: {"amount": "100.00"}, b: {"amount": "300.00"}, c: {"amount": "200.00"}},
    )
    load(session, a, journal_report({"2027-01": 3000}, institution_id="x:a"))
    load(session, b, journal_report({"2027-01": 1000}, institution_id="x:b"))
    load(session, c, journal_report({"2027-02": 1000}, institution_id="x:c"))
    [row] = cost_per_use(session, member_id=a.id)
    assert row.member_code == "A1"
    assert row.cost_per_use == Decimal("0.0333")  # 100.00 / 3000 = 0.03333…: four places
    assert row.consortium_cost_per_use == Decimal("0.12")  # 600.00 / 5000


def test_cost_per_use_over_a_chosen_window(session, resource) -> None:
    a = create_member(session, code="A1")
    offer = create_offer(session, resource=resource, joined=[a])
    create_final_allocation(session, offer, {a: {"amount": "90.00"}})
    load(session, a, journal_report({"2026-11": 10, "2026-12": 20, "2027-01": 60}))
    [row] = cost_per_use(session, window=Window(dt.date(2026, 11, 1), dt.date(2026, 12, 1)))
    assert (row.uses, row.cost_per_use) == (30, Decimal("3.00"))  # 90.00 / (10 + 20)


def test_per_use_rounds_half_even() -> None:
    assert per_use(Decimal("2.5"), 2) == Decimal("1.25")
    assert per_use(Decimal("1.125"), 1) == Decimal("1.12")  # half to even
    assert per_use(Decimal("10"), 0) is None


# --- usage as a formula input -------------------------------------------------------------------


@pytest.fixture
def deal(session, resource):
    a = create_member(session, code="A1")
    b = create_member(session, code="B1")
    offer = create_offer(session, resource=resource, joined=[a, b], pricing={"total": "10000.00"})
    # 2026 is the 12 months before the 2027 term; 2027's own usage is not the window.
    load(
        session,
        a,
        journal_report({"2026-01": 100, "2026-12": 50, "2027-01": 999}, institution_id="x:a"),
    )
    return offer, a, b


def test_usage_resolves_to_each_members_uses_in_the_window(session, deal) -> None:
    offer, a, b = deal
    values = usage_attribute(session, offer, [a, b], usage_spec(), 2027)
    assert values == {a.id: Decimal(150), b.id: Decimal(0)}  # 100 + 50; B1 counted as zero


def test_a_member_without_usage_can_refuse_the_split(session, deal) -> None:
    offer, a, b = deal
    with pytest.raises(ServiceError) as refused:
        usage_attribute(session, offer, [a, b], usage_spec(missing="refuse"), 2027)
    assert refused.value.field == "usage.missing"
    assert "for B1: import their usage, or count members without usage as zero" in str(
        refused.value
    )
    assert refused.value.details["members"] == ["B1"]


def test_an_explicit_window_and_a_stand_in_resource(session, deal) -> None:
    offer, a, b = deal
    stand_in = create_resource(session, counter_platform="Nova Host")
    load(session, b, journal_report({"2025-06": 40}, platform="Nova Host", institution_id="x:b"))
    spec = usage_spec(resource_id=stand_in.id, window={"begin": "2025-01", "end": "2025-12"})
    assert usage_attribute(session, offer, [a, b], spec, 2027) == {
        a.id: Decimal(0),
        b.id: Decimal(40),
    }


def test_a_usage_formula_splits_the_price_by_usage(session, deal) -> None:
    offer, _, b = deal
    load(session, b, journal_report({"2026-06": 50}, institution_id="x:b"))
    definition = {
        "formula": {"components": [{"kind": "attribute", "attribute": "usage", "weight": 1}]},
        "usage": usage_spec(),
    }
    scenario = build_scenario(session, offer, definition).scenario
    assert [m["attributes"]["usage"] for m in scenario["members"]] == [150, 50]
    assert "usage" not in scenario  # the engine gets attributes, not the settings
    split = preview(session, offer, 1, definition)
    # 10,000.00 × 150 / 200 = 7,500.00 and × 50 / 200 = 2,500.00.
    assert {line["code"]: line["amount"] for line in split.result["lines"]} == {
        "A1": Decimal("7500.00"),
        "B1": Decimal("2500.00"),
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"colour": "red"}, "usage.colour"),
        ({"metric": "Downloads"}, "usage.metric"),
        ({"missing": None}, "usage.missing"),
        ({"attribute": "Usage Count"}, "usage.attribute"),
        ({"attribute": "solo_price"}, "usage.attribute"),
        ({"window": {"months": 0}}, "usage.window.months"),
        ({"window": {"begin": "2026-05", "end": "2026-01"}}, "usage.window.end"),
        ({"window": {"begin": "2026-13", "end": "2027-01"}}, "usage.window"),
        ({"resource_id": "3"}, "usage.resource_id"),
    ],
)
def test_usage_settings_are_checked_field_by_field(changes, field) -> None:
    with pytest.raises(ServiceError) as refused:
        clean_usage_spec(usage_spec(**changes))
    assert refused.value.field == field
