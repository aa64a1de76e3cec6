"""Consortium figures cannot be worked out for one member by differencing two windows.

A member user chooses the months; a figure is shown only when every month in which the
resource was used had at least three members using it, and the consortium's cost per use
is shown to a member user for the billed years only. Expected numbers are worked out by
hand beside them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from costshare.usage.figures import Window, consortium_averages
from costshare.usage.importing import import_usage
from tests.factories import create_final_allocation, create_member
from tests.usage.support import journal_report


def bearer(world, role: str = "coordinator") -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[role]}"}


def load_usage(session, world, per_member) -> None:
    platform = world.own_offer.resource.counter_platform
    for member, counts in per_member:
        report = journal_report(counts, platform=platform, institution_id=f"x:{member.code}")
        import_usage(session, report.tsv(), member=member, filename=f"{member.code}.tsv")


@pytest.fixture
def sparse(session, world):
    """A, B, C use the resource in January 2027; only A (OWN) and B (OTHER) in March."""
    third = create_member(session, code="THIRD")
    load_usage(
        session,
        world,
        [
            (world.own, {"2027-01": 100, "2027-03": 40}),
            (world.other, {"2027-01": 200, "2027-03": 70}),
            (third, {"2027-01": 300}),
        ],
    )
    world.third = third
    return world


def average_of(client, world, begin: str, end: str) -> dict:
    response = client.get(
        f"/api/v1/usage/members/{world.own.id}?begin={begin}&end={end}",
        headers=bearer(world, "member"),
    )
    assert response.status_code == 200
    [row] = response.get_json()["rows"]
    return row


def test_two_windows_no_longer_give_away_one_members_month(client, sparse) -> None:
    # January to February: only January was used, by three members: 600 / 3 = 200.0.
    jan_feb = average_of(client, sparse, "2027-01", "2027-02")
    assert jan_feb["consortium_average_per_member"] == "200.0"
    assert jan_feb["consortium_members"] == 3
    # January to March would be (600 + 40 + 70) / 3 = 236.7; 3 × 236.7 − 3 × 200.0 − 40
    # = 70.1 ≈ OTHER's 70 in March. March had two members using it: withheld.
    jan_mar = average_of(client, sparse, "2027-01", "2027-03")
    assert jan_mar["total"] == 140  # the member's own figures stay
    assert jan_mar["consortium_average_per_member"] is None
    # March alone is withheld too (two members).
    assert average_of(client, sparse, "2027-03", "2027-03")["consortium_average_per_member"] is None


def test_every_used_month_with_three_members_shows_the_average(session, client, world) -> None:
    third = create_member(session, code="THIRD")
    load_usage(
        session,
        world,
        [
            (world.own, {"2027-01": 100, "2027-03": 40}),
            (world.other, {"2027-01": 200, "2027-03": 70}),
            (third, {"2027-01": 300, "2027-03": 5}),
        ],
    )
    # February unused; January and March each by three: (600 + 115) / 3 = 238.33 → 238.3.
    row = average_of(client, world, "2027-01", "2027-03")
    assert row["consortium_average_per_member"] == "238.3"
    assert row["consortium_members"] == 3


def test_a_month_used_by_two_withholds_the_average_in_figures(session, world) -> None:
    third = create_member(session, code="THIRD")
    load_usage(
        session,
        world,
        [
            (world.own, {"2027-01": 1, "2027-02": 2}),
            (world.other, {"2027-01": 3, "2027-02": 4}),
            (third, {"2027-01": 5}),
        ],
    )
    rid = world.own_offer.resource_id
    jan, feb = dt.date(2027, 1, 1), dt.date(2027, 2, 1)
    [withheld] = consortium_averages(
        session, [rid], "Total_Item_Requests", Window(jan, feb)
    ).values()
    assert (withheld.uses, withheld.per_member, withheld.withheld) == (0, None, True)
    assert withheld.members == 3
    [shown] = consortium_averages(session, [rid], "Total_Item_Requests", Window(jan, jan)).values()
    assert shown.per_member == Decimal("3.0")  # (1 + 3 + 5) / 3


def bill(session, world) -> None:
    create_final_allocation(
        session,
        world.own_offer,
        {
            world.own: {"amount": "6300.00"},
            world.other: {"amount": "1234.57"},
            world.third: {"amount": "465.43"},
        },
    )


def cost_rows(client, world, role: str, query: str = "") -> list[dict]:
    response = client.get(f"/api/v1/usage/cost-per-use{query}", headers=bearer(world, role))
    assert response.status_code == 200
    return response.get_json()["items"]


@pytest.fixture
def dense(session, world):
    """Every month used is used by three members."""
    third = create_member(session, code="THIRD")
    load_usage(
        session,
        world,
        [
            (world.own, {"2027-01": 2000, "2027-02": 2200}),
            (world.other, {"2027-01": 500, "2027-02": 500}),
            (third, {"2027-01": 400, "2027-02": 400}),
        ],
    )
    world.third = third
    bill(session, world)
    return world


def test_a_member_gets_the_consortium_cost_per_use_for_the_billed_years_only(client, dense) -> None:
    # (6300.00 + 1234.57 + 465.43) / (4200 + 1000 + 800) = 8000.00 / 6000 = 1.333… → 1.33
    [row] = cost_rows(client, dense, "member")
    assert row["cost_per_use"] == "1.50"  # 6300.00 / 4200
    assert row["consortium_cost_per_use"] == "1.33"
    # A window of its choosing: its own figures, no consortium figure.
    [row] = cost_rows(client, dense, "member", "?begin=2027-01&end=2027-01")
    assert row["uses"] == 2000 and row["cost_per_use"] == "3.15"  # 6300.00 / 2000
    assert row["consortium_cost_per_use"] is None
    # A coordinator still gets it: 8000.00 / (2000 + 500 + 400) = 2.7586… → 2.76.
    staff = cost_rows(client, dense, "coordinator", "?begin=2027-01&end=2027-01")
    assert {r["consortium_cost_per_use"] for r in staff} == {"2.76"}


def test_a_month_used_by_two_withholds_the_cost_per_use_from_members(
    session, client, sparse
) -> None:
    bill(session, sparse)
    # Over the billed year 2027: March was used by OWN and OTHER only.
    [row] = cost_rows(client, sparse, "member")
    assert row["cost_per_use"] == "45.00"  # 6300.00 / 140
    assert row["consortium_cost_per_use"] is None
    # Staff: 8000.00 / (600 + 110) = 11.267… → 11.27.
    staff = cost_rows(client, sparse, "coordinator")
    assert {r["consortium_cost_per_use"] for r in staff} == {"11.27"}


def test_the_member_page_says_why_the_cost_per_use_is_not_shown(as_member, dense) -> None:
    page = as_member.get(
        f"/usage/members/{dense.own.id}?begin=2027-01&end=2027-01&cpu=window"
    ).get_data(as_text=True)
    table = page[page.index('id="cost-per-use"') :]
    assert "shown for the billed years only" in table and "2.76" not in table
    page = as_member.get(f"/usage/members/{dense.own.id}").get_data(as_text=True)
    assert "1.33" in page[page.index('id="cost-per-use"') :]


def test_the_portal_knows_which_months_were_thin(session, sparse) -> None:
    from costshare.usage.figures import cost_per_use

    bill(session, sparse)
    [row] = cost_per_use(session, member_id=sparse.own.id)
    # The member portal reads this flag: March had two members with usage.
    assert row.consortium_thin_months is True
    assert row.consortium_cost_per_use == Decimal("11.27")  # staff's rule: 8000.00 / 710
    [row] = cost_per_use(session, member_id=sparse.own.id, for_member_user=True)
    assert row.consortium_cost_per_use is None
    assert row.consortium_withheld == "too few in some months to show"


def test_the_portal_page_holds_members_to_the_rule_and_staff_to_theirs(
    app, session, sparse, as_member
) -> None:
    from tests.conftest import Client

    bill(session, sparse)
    url = f"/portal/members/{sparse.own.id}"
    mine = as_member.get(url).get_data(as_text=True)
    assert "too few in some months to show" in mine and "11.27" not in mine
    app.test_client_class = Client
    coordinator = app.test_client()
    coordinator.login(sparse.coordinator.email)
    staff = coordinator.get(url).get_data(as_text=True)
    assert "11.27" in staff  # 8000.00 / 710, as the coordinator's rule gives
