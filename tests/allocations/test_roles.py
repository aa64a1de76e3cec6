"""Roles on the allocation and formula routes, pages and API alike.

tests/test_access.py checks every route of the app; these run the same checks
on this feature's routes alone (so they hold while other features are built),
plus what the registry cannot say: a negotiator may do everything here but
finalize and edit formulas.
"""

from __future__ import annotations

import importlib

import pytest
from flask import url_for

from costshare.access import rule_for

ENTRIES = {
    **importlib.import_module("tests.allocations.access").ENTRIES,
    **importlib.import_module("tests.formulas.access").ENTRIES,
}


@pytest.fixture
def objects(session, world):
    for name in ("tests.allocations.access", "tests.formulas.access"):
        importlib.import_module(name).build(session, world)
    session.flush()
    return world


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ENTRIES:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method


def _call(client, app, world, rule, method, token=None):
    entry = ENTRIES[rule.endpoint]
    with app.test_request_context():
        url = url_for(rule.endpoint, **(entry.args(world) if entry.args else {}))
    data = entry.data(world) if entry.data else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        return url, client.get(url, headers=headers)
    if url.startswith("/api/"):
        return url, client.open(url, method=method, json=data or {}, headers=headers)
    payload = dict(data or {})
    if client.cookie_jar_has_session():
        payload["csrf_token"] = client.csrf()
    return url, client.open(url, method=method, data=payload, headers=headers)


def test_every_route_of_the_feature_is_listed(app) -> None:
    mine = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("allocations", "formulas")
        or rule.endpoint.startswith(("api.calc", "api.formula", "api.allocation"))
    }
    assert mine == set(ENTRIES)


def test_anonymous_users_are_sent_to_log_in(app, client, objects) -> None:
    for rule, method in _routes(app):
        entry = ENTRIES[rule.endpoint]
        with app.test_request_context():
            url = url_for(rule.endpoint, **(entry.args(objects) if entry.args else {}))
        response = client.open(url, method=method)
        if rule.endpoint.startswith("api."):
            assert response.status_code == 401, (method, url)
        elif method == "GET":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code in (302, 400), (method, url)


def test_a_member_user_gets_404_for_everything_of_another_member(app, as_member, objects) -> None:
    for rule, method in _routes(app):
        if ENTRIES[rule.endpoint].member != "404":
            continue
        token = objects.tokens["member"] if rule.endpoint.startswith("api.") else None
        url, response = _call(as_member, app, objects, rule, method, token)
        assert response.status_code == 404, (method, url, response.status_code)


def test_a_negotiator_cannot_finalize_or_edit_formulas(app, as_negotiator, objects) -> None:
    coordinator_only = set()
    for rule, method in _routes(app):
        if rule_for(rule.endpoint, app) != "coordinator":
            continue
        coordinator_only.add(rule.endpoint)
        token = objects.tokens["negotiator"] if rule.endpoint.startswith("api.") else None
        url, response = _call(as_negotiator, app, objects, rule, method, token)
        assert response.status_code == 403, (method, url, response.status_code)
    assert coordinator_only == {
        "allocations.finalize",
        "api.allocation_finalize",
        "formulas.new",
        "formulas.edit",
        "api.formula_create",
    }


def test_a_negotiator_works_in_the_workspace_but_sees_no_finalize_button(
    as_negotiator, objects
) -> None:
    draft = objects.objects["draft_id"]
    html = as_negotiator.get(f"/allocations/offers/{objects.own_offer.id}/1").get_data(as_text=True)
    assert 'id="draft-panel"' in html and 'id="finalize-link"' not in html
    assert as_negotiator.get(f"/allocations/{draft}/finalize").status_code == 403
    response = as_negotiator.post_form(
        f"/allocations/{draft}/finalize", {"version": objects.objects["draft_version"]}
    )
    assert response.status_code == 403
