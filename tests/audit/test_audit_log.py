"""The audit log page: who changed what and when, before and after, filtered by object."""

from __future__ import annotations

import re


def test_changes_are_listed_with_before_and_after_and_filtered_by_object(
    as_coordinator, world
) -> None:
    as_coordinator.post_form(
        f"/members/{world.own.id}/edit",
        {"code": "OWN", "name": "Own Library, renamed", "billing_currency": "EUR", "active": "y"},
    )
    as_coordinator.post_form(
        f"/members/{world.other.id}/edit",
        {
            "code": "OTHER",
            "name": "Other Library, renamed",
            "billing_currency": "EUR",
            "active": "y",
        },
    )
    body = as_coordinator.get(f"/audit/?type=Member&id={world.own.id}").get_data(as_text=True)
    assert "Edited member OWN" in body and "Edited member OTHER" not in body
    assert "coordinator@example.org" in body
    # name: old → new
    assert re.search(
        r'<th>name</th>\s*<td class="old">Own University Library</td>\s*<td class="arrow">→</td>'
        r'\s*<td class="new">Own Library, renamed</td>',
        body,
    )
    by_action = as_coordinator.get("/audit/?action=member.").get_data(as_text=True)
    assert "Edited member OTHER" in by_action
    nobody = as_coordinator.get(f"/audit/?user={world.negotiator.id}").get_data(as_text=True)
    assert "No changes match." in nobody


def test_negotiators_read_the_log_and_junk_filters_are_ignored(as_negotiator, world) -> None:
    response = as_negotiator.get("/audit/?type=Nonsense&id=abc&user=99999999999999&page=-3")
    assert response.status_code == 200
