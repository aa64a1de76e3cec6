"""A busy database gives a sentence and a 503, on pages and in the API, never a traceback."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError


def locked() -> OperationalError:
    return OperationalError(
        "UPDATE invoice SET status=?", {}, sqlite3.OperationalError("database is locked")
    )


@pytest.fixture
def busy(monkeypatch):
    def raise_locked(*args, **kwargs):
        raise locked()

    return lambda module, name: monkeypatch.setattr(module, name, raise_locked)


def test_a_locked_database_shows_a_page_with_a_sentence(as_coordinator, busy) -> None:
    from costshare.home import services

    busy(services, "glance")
    response = as_coordinator.get("/")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "The database is busy, please try again in a moment" in body
    assert "<title>Busy" in body or "<h1>Busy</h1>" in body
    assert "database is locked" not in body and "Traceback" not in body
    assert response.headers["Retry-After"]


def test_a_locked_database_answers_json_in_the_api(client, world, busy) -> None:
    from costshare.api import views

    busy(views, "paginate")
    response = client.get(
        "/api/v1/members", headers={"Authorization": f"Bearer {world.tokens['coordinator']}"}
    )
    assert response.status_code == 503
    body = response.get_json()
    assert set(body) == {"error", "details"}
    assert "The database is busy" in body["error"]
    assert "locked" not in body["error"]
    assert response.headers["Retry-After"]
