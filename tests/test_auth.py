"""Logging in and out, passwords, API tokens, CSRF and the login rate limit."""

from __future__ import annotations

import re

from sqlalchemy import select

from costshare.auth.models import ApiToken, User
from tests.factories import PASSWORD


def test_login_and_logout(client, world) -> None:
    client.login(world.coordinator.email)
    home = client.get("/")
    assert home.status_code == 200
    assert "The consortium at a glance" in home.get_data(as_text=True)
    response = client.post_form("/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_said_beside_the_field(client, world) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": world.coordinator.email, "password": "wrong", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "The email or the password is wrong." in response.get_data(as_text=True)


def test_login_is_case_insensitive_on_the_email(client, world) -> None:
    client.login(world.coordinator.email.upper())
    assert client.get("/").status_code == 200


def test_an_inactive_user_cannot_log_in(client, world, session) -> None:
    world.negotiator.active = False
    session.flush()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": world.negotiator.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 400


def test_a_form_without_csrf_token_is_refused(client, world) -> None:
    response = client.post("/login", data={"email": world.coordinator.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still not logged in


def test_login_redirects_only_within_the_site(client, world) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/login?next=https://evil.example.com/",
        data={"email": world.coordinator.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_passwords_are_stored_hashed(session, world) -> None:
    user = session.get(User, world.coordinator.id)
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_change_own_password(as_member, world, session) -> None:
    response = as_member.post_form(
        "/account/password",
        {
            "current_password": PASSWORD,
            "password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 302
    as_member.post_form("/logout")
    as_member.login(world.member_user.email, "a new long password")


def test_change_password_needs_the_current_one(as_member) -> None:
    response = as_member.post_form(
        "/account/password",
        {
            "current_password": "nope",
            "password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 400
    assert "This is not your current password." in response.get_data(as_text=True)


def test_create_use_and_revoke_an_api_token(as_negotiator, world, session) -> None:
    response = as_negotiator.post_form("/account/tokens", {"name": "my script"})
    assert response.status_code == 201
    secret = re.search(r'id="new-token">([^<]+)<', response.get_data(as_text=True)).group(1)
    api = as_negotiator.get("/api/v1/members", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    token = session.scalar(select(ApiToken).where(ApiToken.name == "my script"))
    assert secret not in token.token_hash
    as_negotiator.post_form(f"/account/tokens/{token.id}/revoke")
    api = as_negotiator.get("/api/v1/members", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_login_attempts_are_rate_limited(make_app) -> None:
    app = make_app(LOGIN_RATE_LIMIT="3 per minute")
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    codes = [
        client.post("/login", data={"email": "nobody@example.org", "password": "x"}).status_code
        for _ in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    assert "Too many attempts" in client.post("/login", data={}).get_data(as_text=True)
