"""Users, their roles, and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import TYPE_CHECKING

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from costshare.db import Base
from costshare.models_base import TimestampMixin, one_of

if TYPE_CHECKING:
    from costshare.members.models import Member

ROLES = ("coordinator", "negotiator", "member")


class User(UserMixin, TimestampMixin, Base):
    """A person who logs in: a coordinator, a negotiator, or a member's finance staff."""

    __tablename__ = "app_user"
    __table_args__ = (
        UniqueConstraint("email", name="uq_user_email"),
        one_of("role", ROLES),
        # A member user belongs to exactly one member; staff of the consortium to none.
        CheckConstraint("(role = 'member') = (member_id IS NOT NULL)", "member_role_has_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; logins compare lower-case.
    email: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    active: Mapped[bool] = mapped_column(default=True)
    #: Counts deactivations and reactivations: part of the session token, so a session
    #: from before a deactivation stays ended when the user is active again.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    last_login_at: Mapped[dt.datetime | None]

    member: Mapped[Member | None] = relationship()
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users at login
        return self.active

    @property
    def session_token(self) -> str:
        """Return a short keyed digest of the password hash, the active flag and the epoch.

        A login session keeps it beside the user's id: setting a new password,
        deactivating or reactivating the user changes it, and every session made
        before ends.
        """
        message = f"{self.password_hash}|{int(self.active)}|{self.session_epoch}".encode()
        key = str(current_app.secret_key).encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]

    def get_id(self) -> str:
        """Return what the login session stores: "<id>:<session_token>"."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    @property
    def is_staff(self) -> bool:
        """Return True for consortium staff (coordinators and negotiators)."""
        return self.role in ("coordinator", "negotiator")

    @property
    def is_member_user(self) -> bool:
        return self.role == "member"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(Base):
    """A bearer token for the JSON API; only its hash is stored."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_api_token_token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of the token; tokens are long random strings, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64))
    #: The first characters, shown so a user can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix}… user={self.user_id}>"
