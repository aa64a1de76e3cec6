"""Error pages without tracebacks, security headers and cookies."""

from __future__ import annotations

import io


def test_404_page(as_coordinator) -> None:
    response = as_coordinator.get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_api_404_is_json(client, world) -> None:
    response = client.get(
        "/api/v1/nothing", headers={"Authorization": f"Bearer {world.tokens['coordinator']}"}
    )
    assert response.status_code == 404
    assert response.get_json()["error"]


def test_api_401_is_json_with_a_challenge(client) -> None:
    response = client.get("/api/v1/members")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(response.get_json()) == {"error", "details"}


def test_too_large_upload_gets_the_413_page(app, as_coordinator) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = as_coordinator.post_form(
            "/account/tokens", {"name": "x", "file": (io.BytesIO(b"x" * 5000), "big.tsv")}
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


def test_an_unexpected_error_shows_a_sentence_not_a_traceback(make_app, monkeypatch) -> None:
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    from costshare.home import services

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "glance", broken)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    from costshare.db import get_session
    from tests.factories import PASSWORD, create_user

    with app.app_context():
        session = get_session()
        user = create_user(session, "coordinator")
        session.commit()
        email = user.email
    try:
        client.post("/login", data={"email": email, "password": PASSWORD})
        response = client.get("/")
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Something went wrong on our side" in body
        assert "secret internals" not in body and "Traceback" not in body
    finally:
        with app.app_context():
            session = get_session()
            session.delete(session.get(type(user), user.id))
            session.commit()


def test_security_headers(client) -> None:
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_session_cookie_is_http_only_and_same_site(client, world) -> None:
    client.login(world.coordinator.email)
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_production_requires_a_secret_key_and_secure_cookies(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("COSTSHARE_ENV", "production")
    monkeypatch.setenv("COSTSHARE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    import pytest

    from config import Config

    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        Config()
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    config = Config()
    assert config.SESSION_COOKIE_SECURE is True


def test_a_secret_key_is_generated_once_outside_production(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("COSTSHARE_ENV", raising=False)
    monkeypatch.setenv("COSTSHARE_INSTANCE_PATH", str(tmp_path))
    from config import Config

    first, second = Config().SECRET_KEY, Config().SECRET_KEY
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
