"""Formula texts with NUL, control characters or half a Unicode pair: a sentence, not a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from costshare.allocations.models import Formula
from costshare.errors import ServiceError
from costshare.formulas import services

DEFINITION = {"formula": {"components": [{"kind": "equal", "weight": 1}]}}


def _auth(world) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens['coordinator']}"}


def _formulas(session) -> int:
    return session.scalar(select(func.count()).select_from(Formula))


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a\u0000b", "definition": DEFINITION},
        {"name": "a\ud800b", "definition": DEFINITION},
        {"name": "\udfffalone", "definition": DEFINITION},
        {"name": "bell\u0007", "definition": DEFINITION},
        {"name": "two\nlines", "definition": DEFINITION},
        {"name": "Fine", "description": "text\u0000", "definition": DEFINITION},
        {"name": "Fine", "source": "\ud83d", "definition": DEFINITION},
        {
            "name": "Fine",
            "definition": {
                "formula": {"components": [{"kind": "attribute", "attribute": "\ud800"}]}
            },
        },
    ],
)
def test_the_api_answers_400_json_and_stores_nothing(client, world, session, body) -> None:
    before = _formulas(session)
    response = client.post("/api/v1/formulas", json=body, headers=_auth(world))
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]
    assert _formulas(session) == before


def test_the_api_keeps_line_breaks_in_a_description(client, world, session) -> None:
    response = client.post(
        "/api/v1/formulas",
        json={"name": "Lines", "description": "one\ntwo\tthree", "definition": DEFINITION},
        headers=_auth(world),
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["description"] == "one\ntwo\tthree"


def test_an_allocation_named_with_nul_is_refused(client, world, session) -> None:
    response = client.post(
        "/api/v1/allocations",
        json={"offer_id": world.own_offer.id, "name": "x\u0000", "definition": DEFINITION},
        headers=_auth(world),
    )
    assert response.status_code == 400
    assert response.get_json()["error"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "a\x00b"}, "name"),
        ({"name": "a\ud800b"}, "name"),
        ({"name": "tab\there"}, "name"),
        ({"name": "Fine", "description": "nul\x00"}, "description"),
        ({"name": "Fine", "source": "esc\x1b[31m"}, "source"),
    ],
)
def test_the_service_refuses_with_a_sentence(session, fields, field) -> None:
    before = _formulas(session)
    with pytest.raises(ServiceError) as refused:
        services.create_formula(session, definition=DEFINITION, **fields)
    assert refused.value.field == field
    assert refused.value.message.startswith(f"The {field} ")
    assert _formulas(session) == before
