"""The declarative base, column types, and one engine + session factory per app.

Views get the request's session with `get_session()`; services take a session,
`flush()` and never commit; the view commits once. The session is closed (and
anything uncommitted rolled back) when the app context ends.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import (
    JSON,
    DateTime,
    MetaData,
    Numeric,
    String,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Return today's date in UTC (the date the app stamps on documents)."""
    return utcnow().date()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone, PostgreSQL does; this makes both read back alike.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


#: Money: 18 digits, 4 after the point, enough for any currency grid
#: (JPY 1, EUR 0.01, BHD 0.001, a 0.05 cash unit) and below 10^14.
Money = Numeric(18, 4)
#: Facts and attributes (FTE, budgets, article counts): wider scale for ratios.
Quantity = Numeric(20, 6)
Currency = String(3)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        Decimal: Money,
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # pysqlite opens its own transactions lazily and never for SAVEPOINTs;
    # turning that off and emitting BEGIN ourselves gives real transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine for `url` with the settings this app relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def init_app(app: Flask) -> None:
    """Attach an engine and a session factory to `app` and close sessions per context."""
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False))
    app.extensions["costshare.engine"] = engine
    app.extensions["costshare.sessionmaker"] = sessionmaker(
        bind=engine, expire_on_commit=False, autoflush=True
    )
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["costshare.engine"]


def get_session() -> Session:
    """Return this app context's session, creating it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["costshare.sessionmaker"]()
    return g.db_session


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
