"""Fixtures: the app on a migrated database, a per-test transaction, clients, users.

The schema is built by running the migrations (never `create_all`), on SQLite
by default or on the database `TEST_DATABASE_URL` names. Each test runs inside
an outer transaction that is rolled back; the app's sessions join it through
savepoints, so a view's `commit()` is real to the view and gone after the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from config import TestConfig
from costshare import create_app, migrate
from costshare.db import get_engine
from tests import factories
from tests.resources import require, scratch_database

DEFAULT_POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migrate.upgrade("head", database_url=url)
    return url


@pytest.fixture(scope="session")
def postgres_database_url(database_url: str) -> Iterator[str]:
    """A migrated PostgreSQL database for tests about PostgreSQL itself, in either run.

    The suite's own database when `TEST_DATABASE_URL` names PostgreSQL; otherwise a
    database made for this run on the server `TEST_POSTGRES_SERVER` names (default: the
    local one) and dropped afterwards. No server: the test skips, or fails when strict.
    """
    if database_url.startswith("postgresql"):
        yield database_url
        return
    server = make_url(os.environ.get("TEST_POSTGRES_SERVER", DEFAULT_POSTGRES_SERVER))
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_database(server, f"costshare_pg_{os.getpid()}"))
        except OperationalError:
            require(False, f"no PostgreSQL server answers at {server.render_as_string()}")
        migrate.upgrade("head", database_url=url)
        yield url


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    os.environ.setdefault("COSTSHARE_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
    application = create_app(TestConfig(database_url))
    yield application
    get_engine(application).dispose()


@pytest.fixture
def make_app(database_url: str, tmp_path, monkeypatch):
    """Build extra apps on the suite's database (e.g. with other settings); closed afterwards."""
    monkeypatch.setenv("COSTSHARE_INSTANCE_PATH", str(tmp_path))
    made: list[Flask] = []

    def make(**settings) -> Flask:
        config = TestConfig(database_url)
        for key, value in settings.items():
            setattr(config, key, value)
        application = create_app(config)
        made.append(application)
        return application

    yield make
    for application in made:
        get_engine(application).dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session inside a transaction rolled back after the test; requests share it."""
    connection = get_engine(app).connect()
    outer = connection.begin()
    maker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    original = app.extensions["costshare.sessionmaker"]
    app.extensions["costshare.sessionmaker"] = maker
    db_session = maker()
    try:
        yield db_session
    finally:
        db_session.close()
        app.extensions["costshare.sessionmaker"] = original
        outer.rollback()
        connection.close()


class Client(FlaskClient):
    """A test client that logs in through the form and posts forms with their CSRF token."""

    _csrf: str | None = None

    def login(self, email: str, password: str = factories.PASSWORD) -> None:
        page = self.get("/login")
        token = _csrf_in(page.get_data(as_text=True))
        response = self.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        self._csrf = None

    def cookie_jar_has_session(self) -> bool:
        return self.get_cookie("session") is not None

    def csrf(self) -> str:
        if self._csrf is None:
            page = self.get("/account")
            self._csrf = _csrf_in(page.get_data(as_text=True))
        return self._csrf

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        """POST `data` as a form with this session's CSRF token."""
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.csrf())
        return self.post(url, data=payload, **kwargs)


def _csrf_in(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def client(app: Flask, session: Session) -> Client:
    app.test_client_class = Client
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask, session: Session):
    return app.test_cli_runner()


@pytest.fixture
def world(session: Session, app: Flask) -> factories.World:
    """Two members with everything that belongs to a member, users of every role, and tokens."""
    with app.app_context():
        return factories.build_world(session)


@pytest.fixture
def as_coordinator(client: Client, world: factories.World) -> Client:
    client.login(world.coordinator.email)
    return client


@pytest.fixture
def as_negotiator(client: Client, world: factories.World) -> Client:
    client.login(world.negotiator.email)
    return client


@pytest.fixture
def as_member(client: Client, world: factories.World) -> Client:
    """Logged in as finance staff of member A (`world.own`)."""
    client.login(world.member_user.email)
    return client
