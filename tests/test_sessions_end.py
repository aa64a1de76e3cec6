"""A password reset or change ends the sessions that logged in with the old password."""

from __future__ import annotations

import pytest

from tests.conftest import Client
from tests.factories import PASSWORD

NEW_PASSWORD = "a new long password"


@pytest.fixture
def logged_in(app, session):
    """Return a function that gives a fresh client logged in as `email`."""
    app.test_client_class = Client

    def log_in(email: str) -> Client:
        client = app.test_client()
        client.login(email)
        assert client.get("/account").status_code == 200
        return client

    return log_in


def logged_out(client: Client) -> bool:
    response = client.get("/account")
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_password_reset_ends_the_users_sessions(logged_in, world) -> None:
    coordinator = logged_in(world.coordinator.email)
    negotiator = logged_in(world.negotiator.email)
    response = coordinator.post_form(f"/users/{world.negotiator.id}/reset-password")
    assert response.status_code == 200
    assert logged_out(negotiator)
    assert not logged_out(coordinator)


def test_changing_ones_password_ends_the_other_sessions_but_not_this_one(logged_in, world) -> None:
    laptop = logged_in(world.member_user.email)
    phone = logged_in(world.member_user.email)
    response = laptop.post_form(
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert logged_out(phone)
    assert not logged_out(laptop)
    # The phone logs in again with the new password.
    phone.login(world.member_user.email, NEW_PASSWORD)
    assert not logged_out(phone)


def test_a_session_cookie_with_only_the_user_id_is_refused(app, logged_in, world) -> None:
    client = logged_in(world.coordinator.email)
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(world.coordinator.id)
    assert logged_out(client)


def test_a_session_cookie_with_a_wrong_token_is_refused(app, logged_in, world) -> None:
    client = logged_in(world.coordinator.email)
    with client.session_transaction() as cookie:
        cookie["_user_id"] = f"{world.coordinator.id}:0123456789abcdef"
    assert logged_out(client)


def test_a_coordinator_resetting_its_own_password_stays_logged_in(logged_in, world) -> None:
    here = logged_in(world.coordinator.email)
    elsewhere = logged_in(world.coordinator.email)
    response = here.post_form(f"/users/{world.coordinator.id}/reset-password")
    assert response.status_code == 200
    assert logged_out(elsewhere)
    assert not logged_out(here)


def test_sessions_from_before_a_deactivation_stay_ended_after_reactivation(
    logged_in, world
) -> None:
    coordinator = logged_in(world.coordinator.email)
    negotiator = logged_in(world.negotiator.email)
    coordinator.post_form(f"/users/{world.negotiator.id}/deactivate")
    assert logged_out(negotiator)
    coordinator.post_form(f"/users/{world.negotiator.id}/activate")
    # A cookie kept from before (a lost laptop, say) does not come back to life.
    assert logged_out(negotiator)
    negotiator.login(world.negotiator.email)
    assert not logged_out(negotiator)
