"""Users: invitations, roles, deactivation, password resets (coordinators only)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from costshare.access import access
from costshare.auth.forms import ConfirmForm
from costshare.auth.models import ROLES, ApiToken, User
from costshare.db import get_session
from costshare.errors import ServiceError
from costshare.members.fields import add_error, submitted
from costshare.members.models import Member
from costshare.pagination import page_args, paginate
from costshare.users import services
from costshare.users.forms import InviteUserForm

blueprint = Blueprint("users", __name__, url_prefix="/users")


def _member_choices(session) -> list[tuple[int, str]]:
    rows = session.execute(select(Member.id, Member.code, Member.name).order_by(Member.code))
    return [(0, "—"), *((mid, f"{code} · {name}") for mid, code, name in rows)]


@blueprint.route("/")
@access("coordinator")
def index():
    session = get_session()
    role = request.args.get("role", "")
    role = role if role in ROLES else ""
    search = request.args.get("q", "").strip()[:100]
    query = select(User).options(joinedload(User.member)).order_by(User.email)
    if role:
        query = query.where(User.role == role)
    if search:
        like = f"%{search.lower()}%"
        query = query.where(func.lower(User.email).like(like) | func.lower(User.name).like(like))
    number, per_page = page_args(50)
    page = paginate(session, query, number, per_page)
    ids = [u.id for u in page.items]
    tokens = {}
    if ids:
        tokens = dict(
            session.execute(
                select(ApiToken.user_id, func.count())
                .where(ApiToken.user_id.in_(ids), ApiToken.revoked_at.is_(None))
                .group_by(ApiToken.user_id)
            ).all()
        )
    return render_template(
        "users/index.html",
        page=page,
        role=role,
        roles=ROLES,
        search=search,
        tokens=tokens,
        confirm=ConfirmForm(formdata=None),
    )


@blueprint.route("/invite", methods=["GET", "POST"])
@access("coordinator")
def invite():
    """Create an account with a one-time password to hand over (no mail is sent yet)."""
    session = get_session()
    form = InviteUserForm()
    form.member_id.choices = _member_choices(session)
    if submitted(form):
        try:
            user, password = services.invite_user(
                session, form.email.data, form.name.data, form.role.data, form.member_id.data
            )
        except ServiceError as error:
            field = {"member": "member_id"}.get(error.field or "", error.field)
            add_error(form, field, error.message)
        else:
            session.commit()
            return _password_page(user, password, new=True)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("users/invite.html", form=form), status


def _user_or_404(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _confirmed() -> bool:
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("The form has expired; reload the page and try again.", "error")
        return False
    return True


@blueprint.route("/<int:user_id>/deactivate", methods=["POST"])
@access("coordinator")
def deactivate(user_id: int):
    return _set_active(user_id, False)


@blueprint.route("/<int:user_id>/activate", methods=["POST"])
@access("coordinator")
def activate(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    session = get_session()
    user = _user_or_404(user_id)
    if _confirmed():
        try:
            revoked = services.set_active(session, user, active, current_user)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            session.commit()
            if active:
                flash(f"{user.email} can log in again.", "success")
            else:
                tokens = f" and its {revoked} API token(s) stopped working" if revoked else ""
                flash(f"{user.email} can no longer log in{tokens}.", "success")
    return redirect(url_for("users.index"))


@blueprint.route("/<int:user_id>/reset-password", methods=["POST"])
@access("coordinator")
def reset_password(user_id: int):
    session = get_session()
    user = _user_or_404(user_id)
    if not _confirmed():
        return redirect(url_for("users.index"))
    password = services.reset_password(session, user)
    session.commit()
    if user.id == current_user.id:
        # A reset ends the user's sessions; the coordinator who reset its own keeps this one.
        login_user(user)
    return _password_page(user, password, new=False)


def _password_page(user: User, password: str, new: bool):
    """Show a temporary password once; no browser or proxy may keep a copy."""
    response = make_response(
        render_template("users/password.html", user=user, password=password, new=new)
    )
    response.headers["Cache-Control"] = "no-store"
    return response
