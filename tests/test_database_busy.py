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


def test_a_database_that_stays_down_still_gets_the_busy_page(
    as_coordinator, busy, monkeypatch
) -> None:
    """Drawing the page must not ask the database again (for the logged-in user, say)."""
    from sqlalchemy.orm import Session

    from costshare.home import services

    busy(services, "glance")
    as_coordinator.get("/account")  # logged in and known
    monkeypatch.setattr(Session, "execute", lambda *args, **kwargs: (_ for _ in ()).throw(locked()))
    response = as_coordinator.get("/")
    assert response.status_code == 503
    assert "The database is busy, please try again in a moment" in response.get_data(as_text=True)
    assert response.headers["Retry-After"]


def test_a_broken_schema_is_an_error_not_busy(as_coordinator, monkeypatch) -> None:
    """A missing table (a migration not run) is not worth retrying: a 500 page, logged."""
    from costshare.home import services

    def missing_table(*args, **kwargs):
        raise OperationalError(
            "SELECT * FROM member", {}, sqlite3.OperationalError("no such table: member")
        )

    monkeypatch.setattr(services, "glance", missing_table)
    response = as_coordinator.get("/")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "busy" not in body and "no such table" not in body
