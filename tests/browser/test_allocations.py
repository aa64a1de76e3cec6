"""A coordinator enters an offer, five members join, two formulas side by side, finalize.

The offer comes from the offer pages' own journey (tests/browser/offer_journey.py):
list prices 76,000 + 65,000 + 58,000 + 54,000 + 48,000 = 301,000.00, and with five
members 15 % off: the price is 301,000 × 0.85 = 255,850.00.
    equal split:           255,850 ÷ 5 = 51,170.00 each
    proportional savings:  every member saves 15 %, so pays 85 % of its list price:
                           64,600.00, 55,250.00, 49,300.00, 45,900.00, 40,800.00
"""

from __future__ import annotations

from decimal import Decimal

from tests.browser.conftest import log_in
from tests.browser.offer_journey import create_list_discount_offer

OFFER = "Atlas Analytics bundle 2027 (allocation journey)"
PROPORTIONAL = {
    "SYSU": Decimal("64600.00"),
    "SCUT": Decimal("55250.00"),
    "JNU": Decimal("49300.00"),
    "SZU": Decimal("45900.00"),
    "GDUT": Decimal("40800.00"),
}


def _split(page) -> dict[str, tuple[Decimal, list[Decimal]]]:
    """Read the split table: each member's amount and its explanation parts."""
    rows = {}
    for row in page.locator("#split-table tbody tr").all():
        code = row.get_attribute("data-code")
        amount = Decimal(row.locator("td.amount").get_attribute("data-value"))
        parts = [Decimal(cell.get_attribute("data-value")) for cell in row.locator("td.part").all()]
        rows[code] = (amount, parts)
    return rows


def test_coordinator_allocates_a_new_offer_and_finalizes(page, live_server) -> None:
    log_in(page, live_server, "coordinator@demo.costshare.org")
    offer_url = create_list_discount_offer(page, live_server, OFFER)
    offer_id = offer_url.rstrip("/").rsplit("/", 1)[1]

    # The offer's allocation: its one term year, no draft yet.
    page.goto(f"{live_server}/allocations/offers/{offer_id}")
    page.click("#term-years a.button:has-text('Workspace')")
    page.wait_for_load_state("networkidle")
    assert page.locator("#no-draft").is_visible()

    # An equal split, worked by hand: 51,170.00 each; the parts add up to each amount.
    with page.expect_navigation():
        page.select_option("select#choice", value="preset:equal")
    split = _split(page)
    assert {code: amount for code, (amount, _) in split.items()} == dict.fromkeys(
        PROPORTIONAL, Decimal("51170.00")
    )
    for amount, parts in split.values():
        assert sum(parts) == amount
    assert page.locator("#recon-total").inner_text() == "€255,850.00"
    assert page.locator("#reconcile .badge").inner_text() == "✓ adds up"

    # A fact that no member has is named beside its field as it is typed.
    page.fill("#components-0-attribute", "library_size")
    page.select_option("#components-0-kind", "attribute")
    error = page.locator("#components-0-attribute-error")
    error.wait_for()
    assert "have no attribute 'library_size'" in error.inner_text()

    # Two formulas side by side, the differences coloured.
    with page.expect_navigation():
        page.select_option("#compare-1", value="preset:csu-fte-equal")
    assert page.locator("#compare-table tbody tr").count() == 5
    assert page.locator("#compare-table td.diff").count() >= 5

    # Keep proportional savings as the draft: every member pays 85 % of its list price.
    page.select_option("#method", "proportional_savings")
    with page.expect_navigation():
        page.click("#save-draft")
    assert "the members owe €255,850.00" in page.locator(".flash-success").inner_text()
    assert {code: amount for code, (amount, _) in _split(page).items()} == PROPORTIONAL

    # Finalize, after a confirmation that states the total.
    page.click("#finalize-link")
    assert page.locator("#finalize-total").inner_text() == "€255,850.00"
    with page.expect_navigation():
        page.click("#confirm-finalize")
    assert page.locator("#allocation-status").inner_text() == "final"
    assert page.locator("#read-only").is_visible()
    assert page.locator("text=Finalize…").count() == 0

    # From now on the year is read-only: no draft can be saved over it.
    page.click("a.button:has-text('Workspace')")
    page.wait_for_load_state("networkidle")
    assert page.locator("#final-panel").is_visible()
    assert page.locator("#save-draft").count() == 0
