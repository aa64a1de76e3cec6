"""Log in and out, change one's password, manage one's API tokens."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash

from costshare.access import access
from costshare.audit.services import record
from costshare.auth.forms import ChangePasswordForm, ConfirmForm, LoginForm, TokenForm
from costshare.auth.models import ApiToken, User
from costshare.auth.services import authenticate, create_token, set_password
from costshare.db import get_session, utcnow
from costshare.errors import ServiceError
from costshare.extensions import limiter, login_manager
from costshare.urls import bounded_id

blueprint = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Return the active user a session's "<id>:<token>" names while its token still holds.

    The token changes with the password (`User.session_token`): after a reset or a
    change, sessions that logged in before load no one and go back to the login page.
    """
    digits, _, token = session_id.partition(":")
    if not (token and digits.isascii() and digits.isdigit() and len(digits) <= 10):
        return None
    user_id = bounded_id(int(digits))
    if user_id is None:
        return None
    user = get_session().get(User, user_id)
    if user is None or not user.active:
        return None
    return user if hmac.compare_digest(user.session_token, token) else None


def _safe_next(target: str | None) -> str:
    """Return `target` if it stays on this site, else the home page."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("home.index")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@access("public")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        user = authenticate(session, form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("The email or the password is wrong.")
        else:
            session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


@blueprint.route("/logout", methods=["POST"])
@access("user")
def logout():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@blueprint.route("/account", methods=["GET"])
@access("user")
def account():
    return render_template(
        "auth/account.html",
        password_form=ChangePasswordForm(),
        token_form=TokenForm(),
        revoke_form=ConfirmForm(),
        tokens=_own_tokens(),
        new_token=None,
    )


def _own_tokens() -> list[ApiToken]:
    return list(
        get_session().scalars(
            select(ApiToken)
            .where(ApiToken.user_id == current_user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at)
        )
    )


@blueprint.route("/account/password", methods=["POST"])
@access("user")
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not check_password_hash(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append("This is not your current password.")
        else:
            try:
                set_password(current_user, form.password.data)
            except ServiceError as error:
                form.password.errors.append(error.message)
            else:
                record(get_session(), "user.password", current_user, "Changed own password")
                get_session().commit()
                # The new password ends every session made with the old one; this one
                # stays, under the new token.
                login_user(current_user._get_current_object())
                flash("Your password is changed.", "success")
                return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html",
        password_form=form,
        token_form=TokenForm(),
        revoke_form=ConfirmForm(),
        tokens=_own_tokens(),
        new_token=None,
    ), 400


@blueprint.route("/account/tokens", methods=["POST"])
@access("user")
def create_own_token():
    form = TokenForm()
    session = get_session()
    new_token = None
    status = 400
    if form.validate_on_submit():
        token, new_token = create_token(session, current_user, form.name.data)
        record(session, "token.create", token, f"Created API token {token.name}")
        session.commit()
        status = 201
    return render_template(
        "auth/account.html",
        password_form=ChangePasswordForm(),
        token_form=TokenForm(formdata=None),
        revoke_form=ConfirmForm(),
        tokens=_own_tokens(),
        new_token=new_token,
    ), status


@blueprint.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@access("user")
def revoke_own_token(token_id: int):
    form = ConfirmForm()
    session = get_session()
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id or token.revoked_at is not None:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    token.revoked_at = utcnow()
    record(session, "token.revoke", token, f"Revoked API token {token.name}")
    session.commit()
    flash(f"The token {token.name} is revoked.", "success")
    return redirect(url_for("auth.account"))
