"""Schemathesis against `/api/v1/openapi.json`: no 5xx, no answer that contradicts the document.

Bounded: a few examples per operation, on the per-test database of the suite
with the two-member world loaded and a coordinator's token (so write
endpoints are exercised too, and every change is rolled back afterwards).
Each operation is driven through its Hypothesis strategy directly.
"""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, given, settings

from costshare.api.openapi import build_document

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_the_api_keeps_its_document(app, world) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {world.tokens['coordinator']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations

    for operation in operations:

        @SETTINGS
        @given(case=operation.as_strategy())
        def exercise(case) -> None:
            case.call_and_validate(headers=headers)

        exercise()


def test_the_document_describes_every_api_route(app) -> None:
    with app.test_request_context():
        document = build_document(app)
    documented = {
        (path, method) for path, operations in document["paths"].items() for method in operations
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                routes.add((path, method.lower()))
    assert routes == documented
