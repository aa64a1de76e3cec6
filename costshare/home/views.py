"""The home page: the consortium at a glance, or a member user's own page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from costshare.access import access
from costshare.db import get_session, today
from costshare.home import services

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
@access("user")
def index():
    if current_user.is_member_user:
        return redirect(url_for("portal.index"))
    year = today().year
    return render_template(
        "home/index.html", glance=services.glance(get_session(), year), year=year
    )


@blueprint.route("/healthz")
@access("public")
def health():
    get_session().execute(services.PING)
    return {"status": "ok"}
