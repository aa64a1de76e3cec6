"""Creating and editing members, and their yearly facts in the two grids."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from costshare.audit.models import AuditEvent
from costshare.members.models import Member, MemberFact
from tests.factories import create_member


def _facts(session, member) -> dict[tuple[str, int], Decimal]:
    rows = session.execute(
        select(MemberFact.name, MemberFact.year, MemberFact.value).where(
            MemberFact.member_id == member.id
        )
    )
    return {(n, y): v for n, y, v in rows}


def test_a_coordinator_adds_a_member_and_the_change_is_audited(as_coordinator, session) -> None:
    response = as_coordinator.post_form(
        "/members/new",
        {
            "code": "SCAU",
            "name": "华南农业大学图书馆 South China Agricultural University Library",
            "sector": "university",
            "billing_currency": "cny",
            "tax_treatment": "standard",
            "tax_rate": "0.06",
            "finance_contact_email": "Finance@SCAU.example.org",
            "active": "y",
        },
    )
    assert response.status_code == 302
    member = session.scalar(select(Member).where(Member.code == "SCAU"))
    assert member.billing_currency == "CNY"  # typed lower-case, stored as the ISO code
    assert member.tax_rate == Decimal("0.06")
    assert member.finance_contact_email == "finance@scau.example.org"
    assert response.headers["Location"].endswith(f"/members/{member.id}/facts")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "member.create"))
    assert event.object_id == member.id and event.after["code"] == "SCAU"


def test_a_taken_code_is_told_beside_the_field_whatever_its_case(as_coordinator, world) -> None:
    response = as_coordinator.post_form(
        "/members/new", {"code": "own", "name": "Another", "billing_currency": "EUR"}
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert re.search(r'id="code-error"[^>]*>Another member already has the code OWN\.', body)


def test_bad_values_get_a_sentence_each_and_nothing_is_saved(as_coordinator, session) -> None:
    response = as_coordinator.post_form(
        "/members/new",
        {
            "code": "has space",
            "name": "",
            "billing_currency": "EURO",
            "tax_rate": "-1",
            "finance_contact_email": "not-an-email",
            "tax_treatment": "bribery",
        },
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    for field in ("code", "name", "billing_currency", "tax_rate", "finance_contact_email"):
        assert f'id="{field}-error"' in body, field
    assert "Cannot be negative." in body
    assert session.scalar(select(Member).where(Member.code == "has space")) is None


def test_a_coordinator_edits_a_member(as_coordinator, world, session) -> None:
    response = as_coordinator.post_form(
        f"/members/{world.own.id}/edit",
        {
            "code": "OWN",
            "name": "Own University Library (renamed)",
            "billing_currency": "EUR",
            "tax_treatment": "exempt",
            "active": "y",
        },
    )
    assert response.status_code == 302
    session.refresh(world.own)
    assert world.own.name == "Own University Library (renamed)"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "member.update"))
    assert event.before["tax_treatment"] == "standard" and event.after["tax_treatment"] == "exempt"


def test_a_members_facts_are_added_changed_and_removed_in_its_grid(
    as_coordinator, world, session
) -> None:
    # The world gives OWN fte 2025 = 12000, fte 2026 = 12500, budget 2026 = 400000.
    page = as_coordinator.get(f"/members/{world.own.id}/facts").get_data(as_text=True)
    assert 'name="row-0" value="budget"' in page and 'name="col-1" value="2026"' in page
    response = as_coordinator.post_form(
        f"/members/{world.own.id}/facts",
        {
            "row-0": "budget",
            "row-1": "fte",
            "row-2": "articles",  # a new fact typed in a blank row
            "col-0": "2025",
            "col-1": "2026",
            "col-2": "2027",  # a new year typed in the last column
            "cell-0-0": "",
            "cell-0-1": "",  # budget 2026 emptied: removed
            "cell-1-0": "12,000",  # same value, with a thousands separator
            "cell-1-1": "12600.5",  # changed
            "cell-1-2": "13000",  # new
            "cell-2-2": "321",
        },
    )
    assert response.status_code == 302
    assert _facts(session, world.own) == {
        ("fte", 2025): Decimal("12000"),
        ("fte", 2026): Decimal("12600.5"),
        ("fte", 2027): Decimal("13000"),
        ("articles", 2027): Decimal("321"),
    }
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "member.facts"))
    assert Decimal(event.before["budget 2026"]) == Decimal("400000")
    assert event.after["budget 2026"] is None


def test_a_bad_cell_is_marked_and_nothing_is_saved(as_coordinator, world, session) -> None:
    before = _facts(session, world.own)
    response = as_coordinator.post_form(
        f"/members/{world.own.id}/facts",
        {
            "row-0": "fte",
            "row-1": "Bad Name",
            "col-0": "2026",
            "col-1": "20x6",
            "cell-0-0": "lots",
            "cell-0-1": "5",
            "cell-1-0": "-3",
        },
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Write a number such as 1250 or 1250.50." in body
    assert "A year between 1900 and 2200." in body
    assert "Fact names use lower-case letters" in body
    assert _facts(session, world.own) == before


def test_one_fact_for_every_member_fifty_a_page(as_coordinator, world, session) -> None:
    for n in range(55):
        create_member(session, code=f"G{n:03d}", facts={(2026, "fte"): 100 + n})
    page = as_coordinator.get("/members/facts?fact=fte&q=g").get_data(as_text=True)
    # 50 members × 3 columns: 2025 and 2026 (the world's fte years) and a new year.
    assert page.count('name="cell-') == 50 * 3
    assert "Page 1 of 2" in page
    member = session.scalar(select(Member).where(Member.code == "G000"))
    response = as_coordinator.post_form(
        "/members/facts?fact=fte&q=g",
        {
            "row-0": str(member.id),
            "col-0": "2026",
            "col-1": "2027",
            "cell-0-0": "150",
            "cell-0-1": "160",
        },
    )
    assert response.status_code == 302
    assert _facts(session, member) == {("fte", 2026): Decimal("150"), ("fte", 2027): Decimal("160")}


def test_the_facts_grid_refuses_rows_that_are_not_members(as_coordinator, world) -> None:
    response = as_coordinator.post_form(
        "/members/facts?fact=fte", {"row-0": "999999", "col-0": "2026", "cell-0-0": "1"}
    )
    assert response.status_code == 422
    assert "This row is not part of the grid." in response.get_data(as_text=True)


def test_a_member_user_sees_its_own_page_without_edit_buttons(as_member, world) -> None:
    body = as_member.get(f"/members/{world.own.id}").get_data(as_text=True)
    assert world.own.name in body
    assert "Edit member" not in body and "Edit facts" not in body


def test_the_members_list_filters_by_sector(as_coordinator, session) -> None:
    create_member(session, code="HOSP1", sector="health")
    create_member(session, code="UNI1", sector="university")
    body = as_coordinator.get("/members/?sector=health").get_data(as_text=True)
    assert "HOSP1" in body and "UNI1" not in body


def test_the_fact_names_in_use_are_listed_once_each_alphabetically(session, world) -> None:
    from costshare.members.services import fact_names

    # The world's members have fte (2025, 2026) and budget (2026); add two more names.
    create_member(session, facts={(2024, "zeta"): 1, (2025, "zeta"): 2, (2026, "alpha"): 3})
    assert fact_names(session) == ["alpha", "budget", "fte", "zeta"]
