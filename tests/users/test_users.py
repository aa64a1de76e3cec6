"""User administration: invite with a one-time password, deactivate, reactivate, reset."""

from __future__ import annotations

import re

from sqlalchemy import select

from costshare.audit.models import AuditEvent
from costshare.auth.models import ApiToken, User


def _password(html: str) -> str:
    return re.search(r'id="temporary-password">([^<]+)<', html).group(1)


def _log_in(app, email: str, password: str) -> int:
    """Log in through the form in a fresh browser; return the answer's status."""
    fresh = app.test_client()
    page = fresh.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = fresh.post("/login", data={"email": email, "password": password, "csrf_token": csrf})
    return response.status_code


def test_a_coordinator_invites_a_member_user_who_logs_in_with_the_password_shown_once(
    app, as_coordinator, world, session
) -> None:
    response = as_coordinator.post_form(
        "/users/invite",
        {
            "email": "Accounts@Own.example.org",
            "name": "Accounts office",
            "role": "member",
            "member_id": str(world.own.id),
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "no mail is sent" in html
    password = _password(html)
    user = session.scalar(select(User).where(User.email == "accounts@own.example.org"))
    assert user.role == "member" and user.member_id == world.own.id
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.invite"))
    assert "password_hash" not in event.after and password not in str(event.after)

    assert _log_in(app, "accounts@own.example.org", password) == 302


def test_an_invitation_checks_role_and_member(as_coordinator, world) -> None:
    response = as_coordinator.post_form(
        "/users/invite", {"email": "x@example.org", "role": "member", "member_id": "0"}
    )
    assert response.status_code == 422
    assert "A member user belongs to one member: choose it." in response.get_data(as_text=True)
    response = as_coordinator.post_form(
        "/users/invite",
        {"email": "x@example.org", "role": "negotiator", "member_id": str(world.own.id)},
    )
    assert "Only member users belong to a member" in response.get_data(as_text=True)
    response = as_coordinator.post_form(
        "/users/invite", {"email": world.negotiator.email, "role": "negotiator", "member_id": "0"}
    )
    assert "already exists" in response.get_data(as_text=True)


def test_a_deactivated_user_cannot_log_in_and_its_tokens_stop_working(
    app, as_coordinator, world, session
) -> None:
    token = world.tokens["member"]
    assert (
        app.test_client()
        .get("/api/v1/members", headers={"Authorization": f"Bearer {token}"})
        .status_code
        == 200
    )
    response = as_coordinator.post_form(f"/users/{world.member_user.id}/deactivate")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, world.member_user.id).active is False
    assert (
        session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == world.member_user.id))
        is not None
    )
    assert (
        app.test_client()
        .get("/api/v1/members", headers={"Authorization": f"Bearer {token}"})
        .status_code
        == 401
    )

    assert _log_in(app, world.member_user.email, "correct horse battery") == 400

    assert as_coordinator.post_form(f"/users/{world.member_user.id}/activate").status_code == 302
    session.expire_all()
    assert session.get(User, world.member_user.id).active is True


def test_a_coordinator_cannot_deactivate_itself(as_coordinator, world, session) -> None:
    response = as_coordinator.post_form(f"/users/{world.coordinator.id}/deactivate")
    page = as_coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "You cannot deactivate your own account." in page
    session.expire_all()
    assert session.get(User, world.coordinator.id).active is True


def test_a_password_reset_gives_a_new_one_time_password(app, as_coordinator, world) -> None:
    response = as_coordinator.post_form(f"/users/{world.negotiator.id}/reset-password")
    password = _password(response.get_data(as_text=True))
    assert _log_in(app, world.negotiator.email, "correct horse battery") == 400
    assert _log_in(app, world.negotiator.email, password) == 302


def test_the_user_list_filters_by_role(as_coordinator, world) -> None:
    body = as_coordinator.get("/users/?role=member").get_data(as_text=True)
    assert world.member_user.email in body and world.negotiator.email not in body
