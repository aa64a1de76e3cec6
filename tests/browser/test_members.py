"""A coordinator imports facts from XLSX: a bad file is refused whole, a good one imports once."""

from __future__ import annotations

from tests.browser.conftest import log_in
from tests.factories import xlsx_bytes


def _upload(page, content: bytes) -> None:
    page.set_input_files(
        "input[type=file]",
        files=[
            {
                "name": "members.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": content,
            }
        ],
    )
    with page.expect_navigation():
        page.click("input[type=submit][value='Check the file']")


def test_coordinator_imports_facts_for_members(page, live_server) -> None:
    # The live server is shared by every browser test: this file only adds a fact
    # that nothing else reads, to two demo members.
    log_in(page, live_server, "coordinator@demo.costshare.org")
    page.goto(f"{live_server}/members/")
    page.click("text=Import…")
    header = ["code", "sector", "print_volumes:2026"]
    bad = [header, ["GZCC", "college", 120000], ["NOSUCH", "college", "x"], ["PRAC", "", -1]]
    _upload(page, xlsx_bytes(bad))
    problems = page.locator("#import-problems tbody tr")
    # Row 3: a new member without a name, and a value that is no number; row 4: a negative one.
    assert problems.count() == 3
    assert "on rows 3, 4" in page.locator("#import-refused").inner_text()

    good = [header, ["GZCC", "college", 120000], ["prac", "", 64000]]
    _upload(page, xlsx_bytes(good))
    assert page.locator("#count-update").inner_text() == "2"
    assert page.locator("#count-facts").inner_text() == "2"
    with page.expect_navigation():
        page.click("#confirm-import")
    assert "0 members added, 2 updated" in page.locator(".flash-success").inner_text()

    page.goto(f"{live_server}/members/import")
    _upload(page, xlsx_bytes(good))
    assert page.locator("#nothing-to-import").is_visible()
