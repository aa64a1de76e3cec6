"""The home page at a glance and the members list with latest facts."""

from __future__ import annotations

import re

from sqlalchemy import event

from costshare.db import get_engine
from tests.factories import create_member


def test_home_shows_the_consortium_at_a_glance(as_coordinator, world) -> None:
    body = as_coordinator.get("/").get_data(as_text=True)
    assert re.search(r'id="stat-members">\s*2<', body)
    assert "negotiating" in body


def test_member_users_land_on_their_own_page(as_member, world) -> None:
    response = as_member.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/portal/")  # the member portal
    page = as_member.get(response.headers["Location"]).get_data(as_text=True)
    assert world.own.name in page


def test_members_list_is_paginated_50_a_page_with_latest_facts(as_coordinator, session) -> None:
    for n in range(60):
        create_member(
            session, code=f"Z{n:03d}", facts={(2024, "fte"): 100 + n, (2026, "fte"): 2000 + n}
        )
    first = as_coordinator.get("/members/?q=z").get_data(as_text=True)
    assert len(re.findall(r'href="/members/\d+"', first)) == 50
    assert "Page 1 of 2" in first
    assert "Z000" in first and "Z050" not in first
    # The latest year's value is shown, with its year.
    assert re.search(r"2,000\s*<span[^>]*>2026</span>", first)
    second = as_coordinator.get("/members/?q=z&page=2").get_data(as_text=True)
    assert len(re.findall(r'href="/members/\d+"', second)) == 10


def test_members_list_sorts_and_searches(as_coordinator, session) -> None:
    create_member(session, code="AAA", name="Zeta Library")
    create_member(session, code="ZZZ", name="Alpha Library")
    by_name = as_coordinator.get("/members/?sort=name").get_data(as_text=True)
    assert by_name.index("Alpha Library") < by_name.index("Zeta Library")
    by_code_desc = as_coordinator.get("/members/?sort=-code").get_data(as_text=True)
    assert by_code_desc.index("ZZZ") < by_code_desc.index("AAA")
    assert "Zeta" not in as_coordinator.get("/members/?q=alpha").get_data(as_text=True)


def test_members_list_queries_do_not_grow_with_rows(app, as_coordinator, session) -> None:
    def count_queries(url: str) -> int:
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        engine = get_engine(app)
        event.listen(engine, "before_cursor_execute", before)
        try:
            assert as_coordinator.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return len(statements)

    for n in range(5):
        create_member(session, code=f"Q{n:03d}", facts={(2026, "fte"): n + 1})
    few = count_queries("/members/?q=q")
    for n in range(5, 45):
        create_member(session, code=f"Q{n:03d}", facts={(2026, "fte"): n + 1, (2025, "budget"): 5})
    many = count_queries("/members/?q=q")
    assert few == many
