"""A coordinator imports members from XLSX: a bad file is refused whole, a good one imports."""

from __future__ import annotations

import io

from openpyxl import Workbook

from tests.browser.conftest import log_in


def _xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


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


def test_coordinator_imports_members_and_facts(page, live_server) -> None:
    log_in(page, live_server, "coordinator@demo.costshare.org")
    page.goto(f"{live_server}/members/")
    page.click("text=Import…")
    header = ["code", "name", "sector", "fte:2026"]
    bad = [header, ["BR1", "Browser One", "college", 1200], ["BR 2", "", "college", "x"]]
    _upload(page, _xlsx(bad))
    problems = page.locator("#import-problems tbody tr")
    assert problems.count() == 3  # row 3: code, name and fte:2026
    assert "on row 3" in page.locator("#import-refused").inner_text()

    good = [header, ["BR1", "Browser One", "college", 1200], ["BR2", "Browser Two", "college", 800]]
    _upload(page, _xlsx(good))
    assert page.locator("#count-create").inner_text() == "2"
    with page.expect_navigation():
        page.click("#confirm-import")
    assert "2 members added" in page.locator(".flash-success").inner_text()

    page.goto(f"{live_server}/members/import")
    _upload(page, _xlsx(good))
    assert page.locator("#nothing-to-import").is_visible()
