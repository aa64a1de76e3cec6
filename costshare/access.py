"""Access rules: every route declares one, and one hook enforces them all.

A view is decorated with `@access("public" | "user" | "staff" | "coordinator")`.
`check_every_route_has_a_rule` runs when the app is built and refuses to start
if any endpoint lacks a rule, so a forgotten decorator cannot open a page.

- ``public``: anyone (the login page, static files, the OpenAPI document).
- ``user``: any logged-in user; the view itself limits a member user to its
  own member (see `member_scope`), answering 404 for anything else.
- ``staff``: coordinators and negotiators.
- ``coordinator``: coordinators only.

Pages send anonymous users to the login form; the JSON API (blueprint ``api``)
authenticates by bearer token only and answers 401. A member user asking for a
staff page gets 404 (it cannot learn what exists); a negotiator asking for a
coordinator action gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request
from flask_login import current_user

RULES = ("public", "user", "staff", "coordinator")
F = TypeVar("F", bound=Callable[..., Any])


def access(rule: str) -> Callable[[F], F]:
    """Declare who may reach the decorated view."""
    if rule not in RULES:
        raise ValueError(f"unknown access rule {rule!r}")

    def decorate(view: F) -> F:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorate


def rule_for(endpoint: str | None, app: Flask | None = None) -> str | None:
    """Return the access rule of `endpoint`, or None when it has none."""
    app = app or current_app
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return "public"
    view = app.view_functions.get(endpoint)
    view = getattr(view, "view_class", view)
    return getattr(view, "access_rule", None)


def check_every_route_has_a_rule(app: Flask) -> None:
    """Refuse to build an app in which some route has no access rule."""
    missing = sorted(
        rule.endpoint for rule in app.url_map.iter_rules() if rule_for(rule.endpoint, app) is None
    )
    if missing:
        raise RuntimeError(f"routes without an access rule: {', '.join(missing)}")


def enforce() -> Any:
    """Apply the current endpoint's rule (a `before_request` hook)."""
    if request.endpoint is None:  # no route matched: let the 404 handler answer
        return None
    rule = rule_for(request.endpoint)
    if rule is None:  # pragma: no cover - check_every_route_has_a_rule prevents it
        abort(500)
    if request.blueprint == "api":
        from costshare.auth.services import user_for_token

        # The API never uses the session cookie: that would let another site
        # post to it with a logged-in browser's cookies (the API has no CSRF token).
        user = user_for_token(request.headers.get("Authorization", ""))
        g._login_user = user if user is not None else current_app.login_manager.anonymous_user()
    if rule == "public":
        return None
    if not current_user.is_authenticated:
        if request.blueprint == "api":
            abort(401)
        return current_app.login_manager.unauthorized()
    if rule == "user":
        return None
    if current_user.is_member_user:
        abort(404)
    if rule == "coordinator" and not current_user.is_coordinator:
        abort(403)
    return None


def register(app: Flask) -> None:
    app.before_request(enforce)


def member_scope() -> int | None:
    """Return the member id a member user is limited to, or None for consortium staff."""
    if current_user.is_authenticated and current_user.is_member_user:
        return current_user.member_id
    return None


def ensure_member_visible(member_id: int) -> None:
    """Answer 404 when a member user asks for another member's object."""
    scope = member_scope()
    if scope is not None and scope != member_id:
        abort(404)
