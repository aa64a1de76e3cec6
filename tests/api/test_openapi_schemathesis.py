"""Schemathesis against `/api/v1/openapi.json`: no 5xx, no answer that contradicts the document.

Bounded: a few examples per operation, on the per-test database of the suite
with the two-member world loaded and a coordinator's token (so write
endpoints are exercised too, and every change is rolled back afterwards).
Each operation is driven through its Hypothesis strategy directly.

All of schemathesis' checks run but one: `positive_data_acceptance` expects
every schema-valid body to succeed, while the API rightly answers 422 (a
documented status) for input that fits the schema yet cannot be computed —
a scenario whose members lack a fact, a formula whose bounds cannot hold.
"""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

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
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

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
