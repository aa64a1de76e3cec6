"""Journeys through the offer pages that other browser tests continue from.

`create_list_discount_offer` is what a coordinator does for a new vendor quote:
create the offer, enter a list price with participation discounts as its
first round, invite members, record them joining, and type their solo
prices. It returns the offer's URL (its Pricing tab), ready to be allocated.
"""

from __future__ import annotations

import re

#: Five demo members and their solo (list) prices for the new offer.
FIVE = {
    "SYSU": "76000.00",
    "SCUT": "65000.00",
    "JNU": "58000.00",
    "SZU": "54000.00",
    "GDUT": "48000.00",
}
#: From 3 members 10 % off the list prices, from 5 members 15 % off.
TIERS = [("3", "10"), ("5", "15")]


def create_list_discount_offer(
    page,
    live_server: str,
    title: str,
    solo: dict[str, str] = FIVE,
    tiers: list[tuple[str, str]] = TIERS,
    resource: str = "Meridian Scientific Publishing — Meridian Journals Complete",
    invited_on: str = "2026-10-01",
    joined_on: str = "2026-11-20",
) -> str:
    """Create an offer with a list-price round and `solo`'s members joined; return its URL.

    The page must be logged in as a coordinator.
    """
    page.goto(f"{live_server}/offers/new")
    page.select_option("#resource_id", label=resource)
    page.fill("#title", title)
    page.fill("#term_start", "2027-01-01")
    page.fill("#term_end", "2027-12-31")
    page.fill("#currency", "EUR")
    page.select_option("#status", "negotiating")
    page.fill("#deadline", "2026-12-15")
    with page.expect_navigation():
        page.click("input[type=submit][value='Save offer']")
    assert "/rounds/new" in page.url, page.url

    page.fill("#label", "Vendor's first quote")
    page.select_option("#kind", "list_discount")
    for index, (members, discount) in enumerate(tiers):
        if page.locator(f"#tiers-{index}-min_members").count() == 0:
            page.click("button.add-row[data-table=tiers-table]")
        page.fill(f"#tiers-{index}-min_members", members)
        page.fill(f"#tiers-{index}-discount", discount)
    with page.expect_navigation():
        page.click("input[type=submit][value='Save round']")
    offer_url = page.url.split("?")[0]
    assert re.search(r"/offers/\d+$", offer_url), offer_url

    # Invite the members, then record that each of them joined.
    page.click("nav.tabs >> text=Participants")
    page.wait_for_load_state("networkidle")
    for code in solo:
        page.get_by_label(re.compile(f"^{code} ·")).check()
    page.fill("#invited_on", invited_on)
    with page.expect_navigation():
        page.click("input[type=submit][value='Invite']")
    for code in solo:
        row = page.locator(f"#participants-table tr[data-member='{code}']")
        row.locator("select").select_option("joined")
        row.locator("input[type=date]").nth(1).fill(joined_on)
    with page.expect_navigation():
        page.click("#save-participants")
    assert page.locator("#count-joined").inner_text().strip() == str(len(solo))

    # The list price of each member: its solo price in this round.
    page.click("text=Solo prices of the current round")
    page.wait_for_load_state("networkidle")
    for code, amount in solo.items():
        page.fill(f"input[aria-label='Solo price of {code}']", amount)
    with page.expect_navigation():
        page.click("button:has-text('Save solo prices')")
    page.goto(offer_url)
    return offer_url
