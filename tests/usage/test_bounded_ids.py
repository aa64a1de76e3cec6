"""Ids in query strings and JSON bodies are bounded once (`costshare.urls.bounded_id`).

An id in a URL is bounded by the app's `<int:…>` converter before any view runs; an id
a page or the API reads from its query string is "none" beyond what a row can have.
"""

from __future__ import annotations

import pytest

from costshare.urls import MAX_ID, bounded_id
from tests.usage.test_api import bearer

HUGE = "9" * 30


@pytest.mark.parametrize(
    ("value", "high", "expected"),
    [
        (1, MAX_ID, 1),
        (MAX_ID, MAX_ID, MAX_ID),  # 2,147,483,647: the largest 32-bit id
        (MAX_ID + 1, MAX_ID, None),
        (0, MAX_ID, None),
        (-5, MAX_ID, None),
        (None, MAX_ID, None),
        (True, MAX_ID, None),  # JSON true is no id
        ("12", MAX_ID, None),  # text is read with type=int first
        (2027, 9999, 2027),  # a year
        (10000, 9999, None),
    ],
)
def test_bounded_id(value, high, expected) -> None:
    assert bounded_id(value, high) == expected


def test_huge_ids_in_usage_query_strings_name_nothing(as_coordinator, client, world) -> None:
    for query in (f"member={HUGE}", "member=-3", "member=abc"):
        assert as_coordinator.get(f"/usage/imports?{query}").status_code == 200, query
    for query in (f"member_id={HUGE}", "member_id=0", "member_id=abc"):
        response = client.get(f"/api/v1/usage/imports?{query}", headers=bearer(world))
        assert response.status_code == 200, query
        assert response.json["count"] == 0  # no member has such an id
    for path in ("/api/v1/resources", "/api/v1/offers"):
        response = client.get(f"{path}?vendor_id={HUGE}", headers=bearer(world))
        assert response.status_code == 200, path
        # An id no vendor can have filters nothing out (as before: it is not a filter).
        assert response.json["count"] >= 1


def test_huge_ids_in_urls_are_404_before_any_view(as_coordinator, client, world) -> None:
    for path in (
        f"/usage/imports/{HUGE}",
        f"/usage/resources/{HUGE}",
        f"/usage/members/{HUGE}",
        f"/negotiation/offers/{HUGE}",
        f"/negotiation/scenarios/{HUGE}",
        f"/members/{HUGE}",
        f"/offers/{HUGE}",
        f"/vendors/{HUGE}",
    ):
        assert as_coordinator.get(path).status_code == 404, path
    for path in (f"/api/v1/usage/imports/{HUGE}", f"/api/v1/offers/{HUGE}"):
        assert client.get(path, headers=bearer(world)).status_code == 404, path
