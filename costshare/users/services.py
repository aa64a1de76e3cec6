"""User administration: invite, deactivate, reactivate, reset a password (coordinators)."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from costshare.audit.services import record, snapshot
from costshare.auth.models import ApiToken, User
from costshare.auth.services import create_user, set_password
from costshare.db import utcnow
from costshare.errors import ServiceError
from costshare.members.models import Member

#: What the audit trail keeps of a user (never the password hash).
USER_FIELDS = ["email", "name", "role", "member_id", "active"]


def temporary_password() -> str:
    """Return a one-time password, shown once to the coordinator who hands it over."""
    return secrets.token_urlsafe(12)


def invite_user(
    session: Session, email: str, name: str | None, role: str, member_id: int | None
) -> tuple[User, str]:
    """Create a user with a temporary password; return it with the password (shown once)."""
    code = None
    if role == "member":
        member = session.get(Member, member_id) if member_id else None
        if member is None:
            raise ServiceError("Choose the member this user belongs to.", field="member_id")
        code = member.code
    password = temporary_password()
    user = create_user(session, email, password, role, code, name or None)
    record(
        session,
        "user.invite",
        user,
        f"Invited {user.email} as {user.role}",
        after=snapshot(user, USER_FIELDS),
    )
    return user, password


def set_active(session: Session, user: User, active: bool, acting: User) -> int:
    """Deactivate (no login, its API tokens revoked) or reactivate a user; return tokens revoked."""
    if user.id == acting.id and not active:
        raise ServiceError("You cannot deactivate your own account.")
    if user.active == active:
        return 0
    revoked = 0
    if not active:
        now = utcnow()
        for token in session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        ):
            token.revoked_at = now
            revoked += 1
    user.active = active
    user.session_epoch += 1
    session.flush()
    verb = "Reactivated" if active else "Deactivated"
    record(
        session,
        "user.activate" if active else "user.deactivate",
        user,
        f"{verb} {user.email}" + (f" and revoked {revoked} API token(s)" if revoked else ""),
        {"active": not active},
        {"active": active},
    )
    return revoked


def reset_password(session: Session, user: User) -> str:
    """Give a user a new temporary password (shown once); the old one stops working."""
    password = temporary_password()
    set_password(user, password)
    session.flush()
    record(session, "user.password_reset", user, f"Reset the password of {user.email}")
    return password
