"""A coordinator enters a vendor's offer: a list price with discounts, five members joining."""

from __future__ import annotations

from tests.browser.conftest import log_in
from tests.browser.offer_journey import FIVE, create_list_discount_offer


def test_coordinator_enters_a_list_price_offer_and_five_members_join(page, live_server) -> None:
    log_in(page, live_server, "coordinator@demo.costshare.org")
    url = create_list_discount_offer(page, live_server, "Meridian Journals Complete 2027 (browser)")

    # The Pricing tab prices the round for the five who joined:
    # list prices 76,000 + 65,000 + 58,000 + 54,000 + 48,000 = 301,000;
    # five members reach the 15 % tier: 301,000 × 0.85 = 255,850.
    page.goto(url)
    table = page.locator("#rounds-table")
    assert "€255,850.00" in table.inner_text()
    assert "€301,000.00" in table.inner_text()  # solo prices together
    assert "€45,150.00" in table.inner_text()  # savings against going alone

    page.click("nav.tabs >> text=Participants")
    rows = page.locator("#participants-table tbody tr")
    assert rows.count() == len(FIVE)
    assert page.locator("#count-joined").inner_text() == "5"

    page.click("nav.tabs >> text=History")
    history = page.locator("#history-table").inner_text()
    assert "Invited 5 member(s)" in history and "(5 joined)" in history
    assert "Added round 1" in history


def test_the_pricing_editor_shows_only_the_chosen_kind(page, live_server) -> None:
    log_in(page, live_server, "coordinator@demo.costshare.org")
    page.goto(f"{live_server}/offers/")
    page.click("text=Northwind Business Source 2027")
    page.click("a:has-text('Add a quote round')")
    # The demo's round is a per-member price table: its table shows, the per-unit part does not.
    assert page.locator("#table-rows-table").is_visible()
    assert not page.locator("#rate").is_visible()
    page.select_option("#kind", "per_unit")
    assert page.locator("#rate").is_visible()
    assert not page.locator("#table-rows-table").is_visible()
    # An engine complaint is shown beside its field.
    page.fill("#rate", "0.34")
    page.fill("#unit_floor", "900")
    page.fill("#unit_cap", "500")
    with page.expect_navigation():
        page.click("input[type=submit][value='Save round']")
    assert page.locator("#unit_floor-error").inner_text() == (
        "The pricing floor 900.00 is above its cap 500.00."
    )
