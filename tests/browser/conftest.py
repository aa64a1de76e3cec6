"""A live server with the demo consortium, and Chromium driven by Playwright.

Every test in this folder is marked `browser` (run by `make test-browser`).
The server runs the real app in a thread on a fresh SQLite file (or on
`TEST_DATABASE_URL`'s database when set), migrated and seeded with the demo.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from config import TestConfig
from costshare import create_app, migrate
from costshare.db import get_engine, get_session
from costshare.demo import DEMO_PASSWORD, seed_demo
from tests.resources import require_chromium

BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


#: When Chromium drops a connection while the live server sends a static file (it leaves
#: a page before its favicon arrives), Werkzeug's development server leaves that file for
#: the garbage collector, which warns in a later test. Only that warning is let through.
STATIC_FILE_LEFT_OPEN = [
    pytest.mark.filterwarnings(
        "ignore:unclosed file <_io.BufferedReader name='[^']*/costshare/static/:ResourceWarning"
    ),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <_io.FileIO name='[^']*/costshare/static/"
        ":pytest.PytestUnraisableExceptionWarning"
    ),
]


def pytest_collection_modifyitems(items):
    for item in items:
        if BROWSER_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            for mark in STATIC_FILE_LEFT_OPEN:
                item.add_marker(mark)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("live")
    os.environ.setdefault("COSTSHARE_INSTANCE_PATH", str(folder))
    url = f"sqlite:///{folder / 'live.db'}"
    migrate.upgrade("head", database_url=url)
    config = TestConfig(url)
    app = create_app(config)
    with app.app_context():
        session = get_session()
        seed_demo(session)
        session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        get_engine(app).dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


def log_in(page, live_server: str, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_load_state("networkidle")
