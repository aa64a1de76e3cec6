"""Resources tests need (PostgreSQL, Chromium, the shared COUNTER corpus).

Without one, a test skips; under COSTSHARE_STRICT=1 (CI) it fails instead, so a
run cannot pass by quietly testing less.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, text

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
COUNTER_CORPUS = SHARED_DATA / "counter"
CHROMIUM = "/usr/bin/chromium"


def strict() -> bool:
    return os.environ.get("COSTSHARE_STRICT") == "1"


def require(available: bool, reason: str) -> None:
    """Skip (or, under COSTSHARE_STRICT=1, fail) when a resource is missing."""
    if available:
        return
    if strict():
        pytest.fail(f"COSTSHARE_STRICT=1 and a resource is missing: {reason}")
    pytest.skip(reason)


def require_chromium() -> str:
    require(
        Path(CHROMIUM).exists() or shutil.which("chromium") is not None,
        "Chromium is not installed (apt-get install -y chromium)",
    )
    return CHROMIUM


def require_corpus() -> Path:
    require(COUNTER_CORPUS.is_dir(), f"the COUNTER corpus is missing at {COUNTER_CORPUS}")
    return COUNTER_CORPUS


@contextmanager
def scratch_database(server: URL, name: str) -> Iterator[str]:
    """Create the PostgreSQL database `name` on `server` afresh, yield its URL, drop it after.

    Raises sqlalchemy's OperationalError before yielding when no server answers.
    """
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
