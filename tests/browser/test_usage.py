"""A coordinator imports COUNTER files and reads the figures; a member sees only its own."""

from __future__ import annotations

from tests.browser.conftest import log_in
from tests.usage.support import Line, Report

PLATFORM = "Browser Test Platform"  # no resource names it: nothing else on the server moves


def _report(bad_row: int | None = None) -> bytes:
    lines = [
        Line(
            f"Browser Journal {n}",
            "Total_Item_Requests",
            {"2026-09": n, "2026-10": 2 * n},
            platform=PLATFORM,
        )
        for n in (1, 2, 3)
    ]
    return Report(
        "TR", "2026-09", "2026-10", lines, institution="Pearl River Arts College Library"
    ).tsv(bad_row)


def test_coordinator_imports_files_and_reads_the_usage(page, live_server) -> None:
    log_in(page, live_server, "coordinator@demo.costshare.org")
    page.click("nav >> text=Usage")
    page.click("text=Import files")
    page.select_option("select[name=member_id]", label="PRAC · Pearl River Arts College Library")
    page.set_input_files(
        "input[type=file]",
        files=[
            {"name": "prac-tr.tsv", "mimeType": "text/tab-separated-values", "buffer": _report()},
            {"name": "broken.tsv", "mimeType": "text/tab-separated-values", "buffer": _report(2)},
        ],
    )
    with page.expect_navigation():
        page.click("#upload-form input[type=submit]")
    results = page.locator("#upload-results li")
    assert results.count() == 2
    assert "prac-tr.tsv: imported for PRAC" in results.nth(0).inner_text()
    assert "6 records" in results.nth(0).inner_text()  # 3 journals × 2 months
    assert 'broken.tsv, row 16, column "Sep-2026"' in results.nth(1).inner_text()

    with page.expect_navigation():
        results.nth(0).locator("a").click()
    assert page.locator("#batch-unmatched tbody tr").count() == 3  # kept, listed
    with page.expect_navigation():
        page.click("dl.facts >> text=PRAC")
    row = page.locator("#usage-by-resource tr.unmatched", has_text=PLATFORM)
    assert PLATFORM in row.inner_text()
    # 1 + 2 + 3 in September, 2 + 4 + 6 in October: 18 in all.
    assert row.locator("td.strong").inner_text() == "18"
    with page.expect_navigation():
        page.select_option("select[name=metric]", "Total_Item_Requests")
    assert "metric=Total_Item_Requests" in page.url


def test_a_member_sees_its_own_usage_and_no_one_elses(page, live_server) -> None:
    log_in(page, live_server, "coordinator@demo.costshare.org")
    page.goto(f"{live_server}/usage/")
    gzcc = page.locator("#usage-members a", has_text="GZCC").get_attribute("href")
    sysu = page.locator("#usage-members a", has_text="SYSU").get_attribute("href")
    page.click("text=Log out")
    log_in(page, live_server, "finance@gzcc.demo.costshare.org")
    page.goto(f"{live_server}{gzcc}")
    assert page.locator("h1").inner_text() == "Usage of GZCC"
    table = page.locator("#usage-by-resource").inner_text()
    assert "Meridian Journals Complete" in table and "members" in table  # the consortium's average
    body = page.locator("main").inner_text()
    assert "SYSU" not in body and "SCUT" not in body
    assert page.locator("#cost-per-use tbody tr").count() >= 1
    response = page.goto(f"{live_server}{sysu}")
    assert response.status == 404
