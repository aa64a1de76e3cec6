"""Every route has an access rule, and the rule holds — driven by a registry.

`REGISTRY` (tests/access_registry.py and each tests/<feature>/access.py) lists
every endpoint of the app with the URL arguments to try it
with: always objects of *another* member than the logged-in member user's, so
a member user must get 404 wherever a member's object is involved. The test
fails for any endpoint missing from the registry, so a new route cannot ship
without being tried here.
"""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from costshare.access import rule_for
from tests.access_registry import build_objects, registry
from tests.factories import World

REGISTRY = registry()


def _rules(app: Flask):
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_in_the_registry(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - REGISTRY.keys())
    assert not missing, f"add these endpoints to tests/test_access.py REGISTRY: {missing}"
    stale = sorted(REGISTRY.keys() - endpoints)
    assert not stale, f"these registry entries name no route: {stale}"


def test_every_route_declares_a_rule(app: Flask) -> None:
    assert all(rule_for(rule.endpoint, app) is not None for rule in app.url_map.iter_rules())


def _url(app: Flask, world: World, rule) -> str:
    entry = REGISTRY[rule.endpoint]
    args = entry.args(world) if entry.args else {}
    with app.test_request_context():
        return url_for(rule.endpoint, **args)


def _request(client, method: str, url: str, api_token: str | None = None, data=None):
    headers = {"Authorization": f"Bearer {api_token}"} if api_token else {}
    if method == "GET":
        return client.get(url, headers=headers)
    if url.startswith("/api/"):
        return client.open(url, method=method, json=data or {}, headers=headers)
    payload = dict(data or {})
    if client.cookie_jar_has_session():
        payload.setdefault("csrf_token", client.csrf())
    return client.open(url, method=method, data=payload, headers=headers)


@pytest.fixture
def world_with_tokens(world: World, session) -> World:
    from costshare.auth.models import ApiToken

    world.objects["other_token_id"] = (
        session.query(ApiToken).filter_by(user_id=world.other_member_user.id).first().id
    )
    build_objects(session, world)
    return world


def test_anonymous_users_are_sent_to_login_or_get_401(app, client, world_with_tokens) -> None:
    world = world_with_tokens
    for rule, method in _rules(app):
        if rule_for(rule.endpoint, app) == "public":
            continue
        url = _url(app, world, rule)
        response = client.open(url, method=method)
        if rule.endpoint.startswith("api."):
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.is_json and "error" in response.get_json()
        elif method == "GET":
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/login" in response.headers["Location"]
        else:
            # A post without a session has no CSRF token either: refused before anything runs.
            assert response.status_code in (302, 400), (method, url, response.status_code)


def test_member_users_get_404_for_everything_of_another_member(
    app, as_member, world_with_tokens
) -> None:
    world = world_with_tokens
    client = as_member
    for rule, method in _rules(app):
        entry = REGISTRY[rule.endpoint]
        if entry.member != "404" or rule.endpoint == "static":
            continue
        url = _url(app, world, rule)
        data = entry.data(world) if entry.data else None
        if rule.endpoint.startswith("api."):
            response = _request(client, method, url, world.tokens["member"], data)
        else:
            response = _request(client, method, url, data=data)
        assert response.status_code == 404, (method, url, response.status_code)


def test_negotiators_cannot_reach_coordinator_actions(
    app, as_negotiator, world_with_tokens
) -> None:
    world = world_with_tokens
    client = as_negotiator
    for rule, method in _rules(app):
        if rule_for(rule.endpoint, app) != "coordinator":
            continue
        url = _url(app, world, rule)
        entry = REGISTRY[rule.endpoint]
        data = entry.data(world) if entry.data else None
        token = world.tokens["negotiator"] if rule.endpoint.startswith("api.") else None
        response = _request(client, method, url, token, data)
        assert response.status_code == 403, (method, url, response.status_code)


def test_the_api_ignores_the_session_cookie(as_coordinator) -> None:
    # Logged in by cookie but without a token: the API must not recognise the browser.
    assert as_coordinator.get("/api/v1/members").status_code == 401
