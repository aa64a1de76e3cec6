"""A person logs in with the demo accounts and sees the right first page."""

from __future__ import annotations

from tests.browser.conftest import log_in


def test_coordinator_logs_in_and_sees_the_consortium(page, live_server) -> None:
    log_in(page, live_server, "coordinator@demo.costshare.org")
    assert page.locator("h1").first.inner_text() == "Pearl River Library Consortium"
    assert page.locator("#stat-members").inner_text().strip() == "14"
    page.click("text=Members")
    page.wait_for_load_state("networkidle")
    assert page.locator("#members-table tbody tr").count() == 14
    assert page.locator("text=中山大学图书馆 Sun Yat-sen University Library").is_visible()


def test_a_wrong_password_is_shown_beside_the_field(page, live_server) -> None:
    log_in(page, live_server, "coordinator@demo.costshare.org", "not the password")
    error = page.locator(".field.has-error .error").inner_text()
    assert error == "The email or the password is wrong."


def test_member_user_lands_on_its_own_page(page, live_server) -> None:
    log_in(page, live_server, "finance@gzcc.demo.costshare.org")
    assert "广州城市职业学院图书馆" in page.locator("h1").inner_text()
    assert page.locator("nav.mainnav >> text=Members").count() == 0
