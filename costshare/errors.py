"""Error pages and JSON errors: a user never sees a traceback.

Services raise `ServiceError` (a sentence for the user, and the form field it
belongs to); a database constraint that still fires is turned into a sentence
by `constraint_message`.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from sqlalchemy import UniqueConstraint
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException


class ServiceError(ValueError):
    """A use case refused: `message` is for the user, `field` names the form field."""

    status = 422

    def __init__(self, message: str, field: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class ConflictError(ServiceError):
    """Someone else changed the object since it was read."""

    status = 409


def ensure_version(obj: Any, version: int | None, what: str) -> None:
    """Refuse to save `obj` when it changed since the user read it (no lost update)."""
    if version is not None and obj.version != version:
        raise ConflictError(
            f"Someone else saved this {what} after you opened it. "
            "Reload the page to see their changes, then make yours again."
        )


#: Named constraints and the sentence each one means to a user.
CONSTRAINT_MESSAGES = {
    "uq_member_code": "Another member already has this code.",
    "uq_member_fact_member_year_name": "This member already has a value for this fact and year.",
    "uq_vendor_name": "A vendor with this name already exists.",
    "uq_resource_vendor_name": "This vendor already has a resource with this name.",
    "uq_quote_round_offer_number": "This offer already has a round with this number.",
    "uq_solo_price_round_member": "This round already has a solo price for this member.",
    "uq_participation_offer_member": "This member is already listed on this offer.",
    "uq_formula_name": "A formula with this name already exists.",
    "uq_allocation_offer_year_status": (
        "This offer already has an allocation in this state for this year."
    ),
    "uq_invoice_number": "An invoice with this number already exists.",
    "invoice_immutable": (
        "An issued invoice cannot be changed: void it (which issues a credit note) "
        "and issue a corrected invoice."
    ),
    "uq_invoice_sequence_year": "Another invoice took this number at the same moment; try again.",
    "uq_user_email": "A user with this email already exists.",
    "uq_usage_import_member_checksum": "This file has already been imported for this member.",
    "uq_sushi_credential_member_vendor": (
        "This member already has SUSHI credentials for this vendor."
    ),
    "non_negative": "Amounts and figures cannot be negative.",
    "iso_code": "A currency must be a three-letter ISO 4217 code such as EUR.",
    "term_ends_after_start": "The term must end after it starts.",
    "member_role_has_member": "A member user belongs to exactly one member; staff to none.",
}


def _sqlite_unique_columns() -> dict[str, str]:
    """Map SQLite's "table.col, table.col" wording of a unique violation to the constraint name.

    SQLite names a failed CHECK constraint but, for UNIQUE, only lists the columns.
    """
    from costshare.models import Base

    names = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and isinstance(constraint.name, str):
                columns = ", ".join(f"{table.name}.{c.name}" for c in constraint.columns)
                names[columns] = constraint.name
    return names


def constraint_name(error: IntegrityError) -> str | None:
    """Return the name of the constraint an IntegrityError reports, when it can be told."""
    text = str(error.orig)
    name = getattr(getattr(error.orig, "diag", None), "constraint_name", None)  # PostgreSQL
    if name:
        return name
    if text.startswith("UNIQUE constraint failed: "):
        return _sqlite_unique_columns().get(text.removeprefix("UNIQUE constraint failed: ").strip())
    if text.startswith("CHECK constraint failed: "):
        return text.removeprefix("CHECK constraint failed: ").strip()
    return None


def constraint_message(error: IntegrityError) -> str:
    """Turn a constraint violation into the sentence that explains it."""
    name = constraint_name(error) or ""
    for key, message in CONSTRAINT_MESSAGES.items():
        if key in name:
            return message
    text = str(error.orig).upper()
    if "FOREIGN KEY" in text:
        return "This refers to something that does not exist, or is still used elsewhere."
    if "UNIQUE" in text or "DUPLICATE" in text:
        return "This would create a duplicate."
    return "The change breaks a rule of the data and was not saved."


#: What a user reads when the database cannot answer right now (SQLite "database is
#: locked" after the busy timeout, a PostgreSQL server restarting): nothing was saved.
DATABASE_BUSY_MESSAGE = "The database is busy, please try again in a moment."
#: Seconds a client is told to wait before retrying (the `Retry-After` header).
DATABASE_BUSY_RETRY_AFTER = 5


#: What SQLite says when another writer holds the database, or the file cannot be reached.
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "unable to open")


def database_unavailable(error: OperationalError) -> bool:
    """Tell a busy or unreachable database (try again) from a broken one (a 500).

    SQLite raises OperationalError for a missing table too; only a lock or an
    unreachable file is "busy". PostgreSQL's OperationalError is the server or
    connection failing, a deadlock or a serialization failure: all worth a retry.
    """
    if error.orig is not None and type(error.orig).__module__.startswith("sqlite3"):
        text = str(error.orig).lower()
        return any(phrase in text for phrase in _SQLITE_UNAVAILABLE)
    return True


def wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def json_error(status: int, message: str, details: Any = None):
    response = jsonify({"error": message, "details": details})
    response.status_code = status
    return response


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if wants_json():
            response = json_error(status, error.description or error.name)
            if status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="costshare"'
            return response
        return render_template("errors/error.html", error=error, status=status), status

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        if wants_json():
            return json_error(error.status, error.message, error.details)
        return render_template(
            "errors/error.html", status=error.status, message=error.message
        ), error.status

    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        message = constraint_message(error)
        if wants_json():
            return json_error(409, message)
        return render_template("errors/error.html", status=409, message=message), 409

    @app.errorhandler(StaleDataError)
    def stale_data(error: StaleDataError):
        message = "Someone else saved this in the meantime; reload the page and try again."
        if wants_json():
            return json_error(409, message)
        return render_template("errors/error.html", status=409, message=message), 409

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError):
        if not database_unavailable(error):
            return unexpected(error)
        app.logger.warning(
            "Database unavailable on %s %s: %s", request.method, request.path, error.orig
        )
        # Roll back now, so nothing is stored half-way (a session whose flush failed
        # refuses every query until it is rolled back).
        session = g.get("db_session")
        if session is not None:
            with contextlib.suppress(OperationalError):  # the server may be gone altogether
                session.rollback()
        if wants_json():
            response = json_error(503, DATABASE_BUSY_MESSAGE)
        else:
            # The page is drawn for nobody: reading the logged-in user would ask the
            # database again. If even that fails, a line of text says it.
            g._login_user = app.login_manager.anonymous_user()
            try:
                body = render_template(
                    "errors/error.html", status=503, message=DATABASE_BUSY_MESSAGE
                )
            except Exception:  # the answer must not become a 500
                app.logger.exception("The busy page could not be drawn")
                body = DATABASE_BUSY_MESSAGE
            response = app.make_response((body, 503))
        response.headers["Retry-After"] = str(DATABASE_BUSY_RETRY_AFTER)
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        message = "Something went wrong on our side. The error was logged; please try again."
        if wants_json():
            return json_error(500, message)
        return render_template("errors/error.html", status=500, message=message), 500
