"""The member portal: a member user lands on its own page and reaches nothing of another member."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from costshare.db import utcnow
from costshare.usage.models import UsageImport, UsageItem, UsageRecord
from tests.invoices.support import issued_run


@pytest.fixture
def issued(session, world, app):
    with app.test_request_context():
        billing = issued_run(session, world)
    return billing


def test_a_member_user_lands_on_its_portal_with_its_invoices(as_member, world, issued) -> None:
    response = as_member.get("/", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == "/portal/"
    assert world.own.name in page
    own = issued.invoice_of(world.own)
    assert own.number in page and "€7,986.64" in page  # gross, by hand in test_billing
    other = issued.invoice_of(world.other)
    assert other.number not in page and "CN¥" not in page


def test_shares_show_their_explanation_and_savings(as_member, world, issued) -> None:
    page = as_member.get("/portal/").get_data(as_text=True)
    shares = page[page.index('id="portal-shares"') :]
    # Alpha: equal part 2,500.00 + FTE part 3,800.00 = 6,300.00; alone 7,000.00 → saves 700.00.
    assert "€6,300.00" in shares and "Equal part (50 %): €2,500.00" in shares
    assert "By FTE (50 %), FTE 12,500: €3,800.00" in shares
    assert "€700.00" in shares
    # Beta: 1,234.57, alone 1,500.00 → 265.43; the floor held.
    assert "€265.43" in shares and "The floor held" in shares
    # This year's savings: 700.00 + 265.43 = 965.43 of 8,500.00 alone (11.4 %).
    assert re.search(r'id="portal-saved">€965\.43<', page)


def test_cost_per_use_beside_the_consortium_figure(as_member, session, world, issued):
    resource = issued.alpha.offer.resource
    batch = UsageImport(
        member=world.own,
        checksum="a" * 64,
        filename="own.tsv",
        release="5.1",
        report_id="DR",
        created_at=utcnow(),
    )
    item = UsageItem(usage_import=batch, resource=resource, name=resource.name)
    session.add_all([batch, item])
    session.flush()
    for month, count in ((1, 2000), (2, 2200)):
        session.add(
            UsageRecord(
                import_id=batch.id,
                item_id=item.id,
                member_id=world.own.id,
                metric="Searches_Regular",
                month=dt.date(2027, month, 1),
                count=count,
            )
        )
    session.flush()
    page = as_member.get("/portal/").get_data(as_text=True)
    usage = page[page.index('id="portal-usage"') :]
    # 2,000 + 2,200 = 4,200 searches; 6,300.00 / 4,200 = 1.50 a search.
    assert "4,200" in usage and "€1.50" in usage
    # Only this member has usage of the deal: the consortium's figure is its own, and no
    # other member is named.
    assert "1 member with usage" in usage
    assert world.other.code not in usage


@pytest.mark.parametrize("kind", ["page", "pdf", "api", "api_pdf"])
def test_another_members_invoice_is_404_everywhere(as_member, world, issued, kind) -> None:
    other = issued.invoice_of(world.other)
    headers = {"Authorization": f"Bearer {world.tokens['member']}"}
    url = {
        "page": f"/billing/invoices/{other.id}",
        "pdf": f"/billing/invoices/{other.id}.pdf",
        "api": f"/api/v1/invoices/{other.id}",
        "api_pdf": f"/api/v1/invoices/{other.id}.pdf",
    }[kind]
    response = as_member.get(url, headers=headers if kind.startswith("api") else {})
    assert response.status_code == 404


def test_a_member_downloads_its_own_pdf(as_member, world, issued) -> None:
    own = issued.invoice_of(world.own)
    response = as_member.get(f"/billing/invoices/{own.id}.pdf?download=1")
    assert response.status_code == 200 and response.data == own.pdf
    assert "attachment" in response.headers["Content-Disposition"]
    page = as_member.get(f"/billing/invoices/{own.id}").get_data(as_text=True)
    assert "Record payment" not in page and "Void" not in page  # coordinator actions hidden


def test_drafts_stay_hidden_from_members(as_member, session, world) -> None:
    from tests.invoices.support import draft_run

    billing = draft_run(session, world)
    draft = billing.invoice_of(world.own)
    assert as_member.get(f"/billing/invoices/{draft.id}").status_code == 404
    assert "draft" not in as_member.get("/portal/").get_data(as_text=True).lower()


def test_staff_choose_a_member_and_see_its_page(as_negotiator, world, issued) -> None:
    page = as_negotiator.get("/portal/").get_data(as_text=True)
    assert f"/portal/members/{world.own.id}" in page
    page = as_negotiator.get(f"/portal/members/{world.other.id}").get_data(as_text=True)
    assert issued.invoice_of(world.other).number in page
