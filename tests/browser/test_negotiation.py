"""A negotiator plays out a what-if on the demo's list-price offer and saves it."""

from __future__ import annotations

import re

from tests.browser.conftest import log_in


def test_dropping_two_members_names_the_lost_tier_and_saves_the_scenario(page, live_server) -> None:
    log_in(page, live_server, "negotiator@demo.costshare.org")
    page.click("nav.mainnav >> text=Negotiation")
    page.click("#open-offers >> text=Meridian Journals Complete 2027")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Meridian Journals Complete 2027"
    assert page.locator("#tier").inner_text().startswith("Discount tier: 12+ members, 18 %")

    # Untick the two largest members: each toggle recomputes in place (no page load).
    page.evaluate("window.__sameDocument = true")
    for code in ("SYSU", "SCUT"):
        with page.expect_response(re.compile(r"/what-if$")):
            page.locator(f"label.toggle[data-code={code}] input").uncheck()
    page.wait_for_function("!document.querySelector('#negotiation-results[aria-busy]')")
    assert page.evaluate("window.__sameDocument") is True

    tier = page.locator("#tier").inner_text()
    assert "Tier lost: 12+ members, 18 % discount → now 10 % (6+ members)." in tier
    rows = page.locator("#whatif-table tbody tr")
    assert rows.count() == 12
    for code in ("SYSU", "SCUT"):
        assert "dropped" in page.locator(f"#whatif-table tr[data-code={code}]").inner_text()
    # Every member who stays has a new share, higher than before (the discount fell).
    for index in range(rows.count()):
        cells = rows.nth(index).locator("td")
        if "dropped" in cells.nth(0).inner_text():
            continue
        assert cells.nth(3).inner_text().startswith("€")
        assert cells.nth(4).inner_text().startswith("+€")
    assert "whatif=1" in page.url and "SYSU" not in page.url

    page.fill("#save-form input[name=name]", "Meridian without SYSU and SCUT")
    page.fill("#save-form textarea[name=note]", "Ask to keep 18 % from 10 members.")
    page.click("#save-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert re.search(r"/negotiation/scenarios/\d+$", page.url)
    assert (
        "Scenario 'Meridian without SYSU and SCUT' saved"
        in page.locator(".flash-success").inner_text()
    )
    banner = page.locator("#scenario-banner").inner_text()
    assert "Meridian without SYSU and SCUT" in banner and "Ask to keep 18 %" in banner
    assert "Tier lost" in page.locator("#tier").inner_text()
    assert not page.locator("label.toggle[data-code=SYSU] input").is_checked()
