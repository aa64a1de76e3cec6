"""A coordinator allocates the demo's Meridian offer: preview, compare, finalize, read-only.

(It starts from the demo's `meridian` offer — 12 members joined, a list price
with participation discounts — until the offer pages' journey helper exists.)
"""

from __future__ import annotations

from decimal import Decimal

from tests.browser.conftest import log_in

OFFER = "Meridian Journals Complete 2027"


def _split(page) -> dict[str, tuple[Decimal, list[Decimal]]]:
    """Read the split table: each member's amount and its explanation parts."""
    rows = {}
    for row in page.locator("#split-table tbody tr").all():
        code = row.get_attribute("data-code")
        amount = Decimal(row.locator("td.amount").get_attribute("data-value"))
        parts = [Decimal(cell.get_attribute("data-value")) for cell in row.locator("td.part").all()]
        rows[code] = (amount, parts)
    return rows


def test_coordinator_compares_two_formulas_and_finalizes(page, live_server) -> None:
    log_in(page, live_server, "coordinator@demo.costshare.org")
    page.goto(f"{live_server}/allocations/?status=draft")
    page.click(f"text={OFFER}")
    page.click("a.button:has-text('Workspace')")
    page.wait_for_load_state("networkidle")
    assert page.locator("#draft-panel").is_visible()

    # Choose a preset: the page shows its split at once (no button needed with JavaScript).
    with page.expect_navigation():
        page.select_option("select#choice", label="90 % FTE, 10 % equal")
    split = _split(page)
    assert len(split) == 12
    for amount, parts in split.values():
        assert sum(parts) == amount
    assert page.locator("#reconcile .badge").inner_text() == "✓ adds up"
    assert page.locator("#facts-years").inner_text().strip() == "2026"

    # A fact that no member has is named beside its field as it is typed.
    page.fill("#components-0-attribute", "library_size")
    error = page.locator("#components-0-attribute-error")
    error.wait_for()
    assert "have no attribute 'library_size'" in error.inner_text()
    page.fill("#components-0-attribute", "fte")
    error.wait_for(state="detached")

    # Two formulas side by side, differences coloured.
    with page.expect_navigation():
        page.select_option("#compare-1", label="Equal split")
    assert page.locator("#compare-table tbody tr").count() == 12
    assert page.locator("#compare-table td.diff").count() > 0

    # Keep the FTE formula as the draft, then finalize it.
    with page.expect_navigation():
        page.click("#save-draft")
    assert "Draft saved with '90 % FTE, 10 % equal'" in page.locator(".flash-success").inner_text()
    total = page.locator("#stat-total").inner_text()
    page.click("#finalize-link")
    assert page.locator("#finalize-total").inner_text() == total
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
