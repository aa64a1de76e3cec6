"""Users, passwords and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from costshare.auth.models import ROLES, ApiToken, User
from costshare.db import get_session, utcnow
from costshare.errors import ServiceError
from costshare.members.models import Member

MIN_PASSWORD_LENGTH = 10
TOKEN_USE_RESOLUTION = dt.timedelta(minutes=5)
TOKEN_PREFIX = "cs_"  # noqa: S105 - a public marker that tells tokens apart, not a secret
#: Mirrors the String(255) columns of a user's email and name and of a token's name.
TEXT_MAX = 255


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the active user with this email and password, or None."""
    user = find_user(session, email)
    if user is None:
        # Hash anyway so a wrong email takes as long as a wrong password.
        check_password_hash(hash_password("not-a-password"), password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    return user


def create_user(
    session: Session,
    email: str,
    password: str,
    role: str,
    member_code: str | None = None,
    name: str | None = None,
) -> User:
    """Create a user; a member user must name its member, staff must not."""
    email = email.strip().lower()
    if "@" not in email:
        raise ServiceError(f"'{email}' is not an email address.", field="email")
    if len(email) > TEXT_MAX:
        raise ServiceError(f"An email address has at most {TEXT_MAX} characters.", field="email")
    if name is not None and len(name) > TEXT_MAX:
        raise ServiceError(f"A name has at most {TEXT_MAX} characters.", field="name")
    if role not in ROLES:
        raise ServiceError(f"Unknown role '{role}': use one of {', '.join(ROLES)}.", field="role")
    if find_user(session, email) is not None:
        raise ServiceError(f"A user with the email {email} already exists.", field="email")
    check_password_strength(password)
    member = None
    if role == "member":
        if not member_code:
            raise ServiceError("A member user needs the code of its member.", field="member")
        member = session.scalar(select(Member).where(Member.code == member_code))
        if member is None:
            raise ServiceError(f"There is no member with the code {member_code}.", field="member")
    elif member_code:
        raise ServiceError(
            f"Only member users belong to a member; a {role} sees the whole consortium.",
            field="member",
        )
    user = User(
        email=email, name=name, password_hash=hash_password(password), role=role, member=member
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token for `user`; return it and the secret, shown only once."""
    name = name.strip() or "API token"
    if len(name) > TEXT_MAX:
        raise ServiceError(f"A token's name has at most {TEXT_MAX} characters.", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        token_hash=_digest(secret),
        prefix=secret[:10],
        created_at=utcnow(),
    )
    session.add(token)
    session.flush()
    return token, secret


def user_for_token(authorization: str) -> User | None:
    """Return the active user whose valid token is in an `Authorization: Bearer` header."""
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    session = get_session()
    token = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _digest(secret.strip()), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.user.active:
        return None
    user = token.user
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RESOLUTION:
        # Recorded at most every few minutes, so reading the API costs no write per call.
        _record_use(session, token.id, now)
    return user


def _record_use(session: Session, token_id: int, now: dt.datetime) -> None:
    """Record a token's use in a transaction of its own; a busy database only skips it.

    The read transaction ends first: on SQLite a write inside a transaction that has
    already read fails at once when another connection wrote meanwhile, while a fresh
    one waits for its turn. If the database stays busy, the answer matters more.
    """
    session.commit()
    try:
        _write_use(session, token_id, now)
        session.commit()
    except OperationalError:
        session.rollback()


def _write_use(session: Session, token_id: int, now: dt.datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
