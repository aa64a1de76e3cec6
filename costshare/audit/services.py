"""Write audit events: who changed what, when, with the values before and after."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from costshare.audit.models import AuditEvent


def plain(value: Any) -> Any:
    """Return `value` as JSON-safe data (Decimal and dates as strings)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """Return the column values of a model object (or the named ones) as plain data."""
    mapper = inspect(obj).mapper
    names = fields or [
        c.key for c in mapper.column_attrs if c.key not in ("created_at", "updated_at")
    ]
    return {name: plain(getattr(obj, name)) for name in names}


def record(
    session: Session,
    action: str,
    obj: Any,
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    user_id: int | None = None,
) -> AuditEvent:
    """Add an audit event for `obj`; the acting user is the request's user unless given."""
    if user_id is None and has_request_context() and current_user.is_authenticated:
        user_id = current_user.id
    session.flush()
    event = AuditEvent(
        user_id=user_id,
        action=action,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        summary=summary,
        before=plain(before) if before is not None else None,
        after=plain(after) if after is not None else None,
    )
    session.add(event)
    return event


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return only the fields that differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
