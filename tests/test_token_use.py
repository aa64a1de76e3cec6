"""Recording when an API token was last used never costs the request its answer."""

from __future__ import annotations

import sqlite3

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from costshare.auth.models import ApiToken


def bearer(world) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens['coordinator']}"}


def test_a_busy_database_skips_the_use_record_not_the_answer(
    client, world, session, monkeypatch
) -> None:
    """Ten clients starting at once all record their first use; SQLite lets one write."""
    from costshare.auth import services

    def busy(*args, **kwargs):
        raise OperationalError(
            "UPDATE api_token", {}, sqlite3.OperationalError("database is locked")
        )

    monkeypatch.setattr(services, "_write_use", busy)
    response = client.get("/api/v1/members", headers=bearer(world))
    assert response.status_code == 200
    assert response.get_json()["count"] >= 2


def test_the_use_is_recorded(client, world, session) -> None:
    response = client.get("/api/v1/members", headers=bearer(world))
    assert response.status_code == 200
    session.expire_all()
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == world.coordinator.id))
    assert token.last_used_at is not None
