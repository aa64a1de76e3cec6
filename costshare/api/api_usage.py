"""API: usage imports (upload, history, removal) and usage figures, cost per use.

Uploads are multipart (`file`, and optionally `member` — a member code — and
`platform`), read by the same import service as the pages: a file is imported
whole or not at all (422 naming file, row and column), the same file twice is a
409 naming the earlier batch. A member user reads only its own member's usage and
cost per use, beside consortium figures that name no other member.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from flask import abort, jsonify, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import BadRequest

from costshare.access import access, ensure_member_visible, member_scope
from costshare.api.openapi import PAGE_PARAMETERS, SCHEMAS, document, list_of, ref
from costshare.api.views import blueprint, paginated, whole_list
from costshare.db import get_session
from costshare.errors import ServiceError
from costshare.members.fields import clean_text
from costshare.members.models import Member
from costshare.offers.models import Resource
from costshare.urls import MAX_ID, bounded_id
from costshare.usage import figures, services
from costshare.usage.models import UsageImport
from costshare.usage.reports import METRICS

MONTH = {"type": "string", "pattern": r"^\d{4}-\d{2}$"}
COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}

SCHEMAS["UsageImport"] = {
    "type": "object",
    "required": ["id", "member_id", "member_code", "filename", "report_id", "record_count"],
    "properties": {
        "id": {"type": "integer"},
        "member_id": {"type": "integer"},
        "member_code": {"type": "string"},
        "filename": {"type": "string"},
        "source": {"type": "string"},
        "checksum": {"type": "string"},
        "release": {"type": "string"},
        "report_id": {"type": "string"},
        "platform": {"type": "string", "nullable": True},
        "begin": {"type": "string", "format": "date", "nullable": True},
        "end": {"type": "string", "format": "date", "nullable": True},
        "record_count": {"type": "integer"},
        "created_at": {"type": "string"},
        "totals": COUNTS,
        "unmatched_items": {"type": "integer"},
        "replaced": COUNTS,
        "exceptions": {"type": "array", "items": {"type": "object"}},
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
}
SCHEMAS["UsageRow"] = {
    "type": "object",
    "required": ["counts", "total", "reports"],
    "properties": {
        "resource_id": {"type": "integer", "nullable": True},
        "resource": {"type": "string", "nullable": True},
        "platform": {"type": "string", "nullable": True},
        "member_id": {"type": "integer"},
        "member_code": {"type": "string"},
        "counts": COUNTS,
        "total": {"type": "integer"},
        "reports": {"type": "array", "items": {"type": "string"}},
        "sources": {"type": "string"},
        "consortium_average_per_member": {
            **DECIMAL,
            "nullable": True,
            "description": (
                "null when fewer than three members used the resource, or when some month"
                " of the window in which it was used had fewer than three members using it"
                " (else windows differing by that month would give away a member's use)"
            ),
        },
        "consortium_members": {"type": "integer"},
    },
}
SCHEMAS["UsageTable"] = {
    "type": "object",
    "required": ["metric", "metrics", "begin", "end", "rows"],
    "properties": {
        "metric": {"type": "string"},
        "metrics": {"type": "array", "items": {"type": "string"}},
        "begin": {**MONTH, "nullable": True},
        "end": {**MONTH, "nullable": True},
        "rows": {"type": "array", "items": ref("UsageRow")},
    },
}
SCHEMAS["CostPerUse"] = {
    "type": "object",
    "required": ["offer_id", "member_id", "amount", "uses", "cost_per_use", "currency"],
    "properties": {
        "offer_id": {"type": "integer"},
        "offer_title": {"type": "string"},
        "resource_id": {"type": "integer"},
        "resource": {"type": "string"},
        "currency": {"type": "string"},
        "metric": {"type": "string"},
        "begin": MONTH,
        "end": MONTH,
        "member_id": {"type": "integer"},
        "member_code": {"type": "string"},
        "years": {"type": "array", "items": {"type": "integer"}},
        "amount": ref("Money"),
        "uses": {"type": "integer"},
        "months_with_usage": {"type": "integer"},
        "cost_per_use": {**DECIMAL, "nullable": True},
        "consortium_cost_per_use": {
            **DECIMAL,
            "nullable": True,
            "description": (
                "null when fewer than three members have usage of the resource; for a"
                " member user also when begin/end are given (shown for the billed years"
                " only) or when some month had fewer than three members using it"
            ),
        },
        "consortium_members": {"type": "integer"},
    },
}

FIGURE_PARAMETERS = [
    {"name": "metric", "in": "query", "schema": {"type": "string", "enum": list(METRICS)}},
    {"name": "begin", "in": "query", "schema": MONTH, "description": "first month, YYYY-MM"},
    {"name": "end", "in": "query", "schema": MONTH, "description": "last month, YYYY-MM"},
]


def import_json(batch: UsageImport) -> dict[str, Any]:
    summary = batch.summary or {}
    return {
        "id": batch.id,
        "member_id": batch.member_id,
        "member_code": batch.member.code,
        "filename": batch.filename,
        "source": batch.source,
        "checksum": batch.checksum,
        "release": batch.release,
        "report_id": batch.report_id,
        "platform": batch.platform,
        "begin": batch.begin.isoformat() if batch.begin else None,
        "end": batch.end.isoformat() if batch.end else None,
        "record_count": batch.record_count,
        "created_at": batch.created_at.isoformat(),
        "totals": dict(summary.get("totals") or {}),
        "unmatched_items": int(summary.get("unmatched_items") or 0),
        "replaced": dict(summary.get("replaced") or {}),
        "exceptions": list(summary.get("exceptions") or []),
        "warnings": list(summary.get("warnings") or []),
    }


def _window(last) -> figures.Window | None:
    """Return the months asked for, or the last twelve with usage; 400 for a bad month."""
    texts = {name: request.args.get(name) for name in ("begin", "end")}
    months = {name: figures.parse_month(text) for name, text in texts.items()}
    for name, text in texts.items():
        if text is not None and months[name] is None:
            raise BadRequest(f"'{name}' must be a month written YYYY-MM.")
    begin, end = months["begin"], months["end"]
    if begin and not end:
        end = figures.add_months(begin, figures.DEFAULT_MONTHS - 1)
    if end and not begin:
        begin = figures.add_months(end, -(figures.DEFAULT_MONTHS - 1))
    if begin and end:
        if end < begin or figures.Window(begin, end).size > figures.MAX_MONTHS:
            raise BadRequest(f"'end' must follow 'begin' by at most {figures.MAX_MONTHS} months.")
        return figures.Window(begin, end)
    return figures.Window.ending(last) if last else None


def _metric(available: list[str]) -> str:
    wanted = request.args.get("metric")
    if wanted is not None and wanted not in METRICS:
        raise BadRequest("'metric' must be a COUNTER R5 metric such as Total_Item_Requests.")
    return figures.pick_metric(wanted, available)


def _table_json(table: figures.Table | None, metric: str, metrics: list[str]) -> dict[str, Any]:
    window = table.window if table else None
    return {
        "metric": metric,
        "metrics": metrics,
        "begin": f"{window.begin:%Y-%m}" if window else None,
        "end": f"{window.end:%Y-%m}" if window else None,
        "rows": [],
    }


def _counts(row: figures.Row) -> dict[str, int]:
    return {f"{m:%Y-%m}": n for m, n in sorted(row.counts.items())}


@blueprint.route("/usage/imports", methods=["POST"])
@access("coordinator")
@document(
    "Import a COUNTER file (multipart: file; member code; platform)",
    {201: ref("UsageImport"), 400: ref("Error"), 409: ref("Error"), 422: ref("Error")},
    request_body={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "member": {"type": "string", "maxLength": 32},
                        "platform": {"type": "string", "maxLength": 255},
                    },
                }
            }
        },
    },
    tags=["usage"],
)
def upload_usage():
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("Send the COUNTER file as the multipart/form-data field 'file'.")
    session = get_session()
    member = None
    code = clean_text(request.form.get("member") or "")
    if code:
        member = session.scalar(select(Member).where(func.upper(Member.code) == code.upper()))
        if member is None:
            raise ServiceError(f"There is no member with the code {code[:32]}.", field="member")
    name = PurePath((upload.filename or "upload").replace("\\", "/")).name[:255] or "upload"
    try:
        imported = services.import_usage(
            session,
            upload.stream,
            filename=name,
            member=member,
            platform=request.form.get("platform"),
            source_kind="upload",
            user_id=current_user.id,
        )
    except services.DuplicateImport:
        session.rollback()
        raise
    session.commit()
    return jsonify(import_json(imported.batch)), 201


@blueprint.route("/usage/imports")
@access("staff")
@document(
    "Imported files, newest first; `member_id` limits to one member",
    {200: list_of("UsageImport")},
    [
        *PAGE_PARAMETERS,
        {"name": "member_id", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    ],
    tags=["usage"],
)
def usage_imports():
    query = (
        select(UsageImport)
        .options(selectinload(UsageImport.member))
        .order_by(UsageImport.created_at.desc(), UsageImport.id.desc())
    )
    if "member_id" in request.args:
        # An id no member can have (or not a number) lists nothing: no member has id 0.
        member_id = bounded_id(request.args.get("member_id", type=int)) or 0
        query = query.where(UsageImport.member_id == member_id)
    return paginated(query, import_json)


def _batch_or_404(import_id: int) -> UsageImport:
    batch = get_session().get(UsageImport, import_id, options=[selectinload(UsageImport.member)])
    if batch is None:
        abort(404)
    return batch


@blueprint.route("/usage/imports/<int:import_id>")
@access("staff")
@document("One imported file", {200: ref("UsageImport"), 404: ref("Error")}, tags=["usage"])
def usage_import(import_id: int):
    return jsonify(import_json(_batch_or_404(import_id)))


@blueprint.route("/usage/imports/<int:import_id>", methods=["DELETE"])
@access("coordinator")
@document(
    "Remove an imported file with its usage records",
    {204: None, 404: ref("Error")},
    tags=["usage"],
)
def delete_usage_import(import_id: int):
    session = get_session()
    services.remove_batch(session, _batch_or_404(import_id), user_id=current_user.id)
    session.commit()
    return "", 204


@blueprint.route("/usage/members/<int:member_id>")
@access("user")
@document(
    "A member's monthly usage per resource, with the consortium's average per member",
    {200: ref("UsageTable"), 400: ref("Error"), 404: ref("Error")},
    FIGURE_PARAMETERS,
    tags=["usage"],
)
def member_usage(member_id: int):
    ensure_member_visible(member_id)
    session = get_session()
    if session.get(Member, member_id) is None:
        abort(404)
    metrics = figures.metrics_of(session, member_id=member_id)
    metric = _metric(metrics)
    window = _window(figures.latest_month(session, member_id=member_id))
    if window is None:
        return jsonify(_table_json(None, metric, metrics))
    table = figures.member_table(session, member_id, metric, window)
    ids = [row.key for row in table.rows if isinstance(row.key, int)]
    averages = figures.consortium_averages(session, ids, metric, window)
    data = _table_json(table, metric, metrics)
    for row in table.rows:
        matched = isinstance(row.key, int)
        average = averages.get(row.key) if matched else None
        per_member = average.per_member if average else None
        data["rows"].append(
            {
                "resource_id": row.key if matched else None,
                "resource": row.label if matched else None,
                "platform": None if matched else row.label,
                "counts": _counts(row),
                "total": row.total,
                "reports": row.reports,
                "sources": row.source_label,
                "consortium_average_per_member": (
                    str(per_member) if per_member is not None else None
                ),
                "consortium_members": average.members if average else 0,
            }
        )
    return jsonify(data)


@blueprint.route("/usage/resources/<int:resource_id>")
@access("staff")
@document(
    "A resource's monthly usage per member",
    {200: ref("UsageTable"), 400: ref("Error"), 404: ref("Error")},
    FIGURE_PARAMETERS,
    tags=["usage"],
)
def resource_usage(resource_id: int):
    session = get_session()
    if session.get(Resource, resource_id) is None:
        abort(404)
    metrics = figures.metrics_of(session, resource_id=resource_id)
    metric = _metric(metrics)
    window = _window(figures.latest_month(session, resource_id=resource_id))
    if window is None:
        return jsonify(_table_json(None, metric, metrics))
    table = figures.resource_table(session, resource_id, metric, window)
    data = _table_json(table, metric, metrics)
    data["rows"] = [
        {
            "member_id": row.key,
            "member_code": row.label,
            "counts": _counts(row),
            "total": row.total,
            "reports": row.reports,
            "sources": row.source_label,
        }
        for row in table.rows
    ]
    return jsonify(data)


def _cost_json(row: figures.CostPerUse) -> dict[str, Any]:
    cost, consortium = row.cost_per_use, row.consortium_cost_per_use
    return {
        "offer_id": row.offer_id,
        "offer_title": row.offer_title,
        "resource_id": row.resource_id,
        "resource": row.resource_name,
        "currency": row.currency,
        "metric": row.metric,
        "begin": f"{row.window.begin:%Y-%m}",
        "end": f"{row.window.end:%Y-%m}",
        "member_id": row.member_id,
        "member_code": row.member_code,
        "years": row.years,
        "amount": str(row.amount),
        "uses": row.uses,
        "months_with_usage": row.months_with_usage,
        "cost_per_use": str(cost) if cost is not None else None,
        "consortium_cost_per_use": str(consortium) if consortium is not None else None,
        "consortium_members": row.consortium_members,
    }


ID_PARAMETER = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


@blueprint.route("/usage/cost-per-use")
@access("user")
@document(
    "Cost per use of offers with final allocations: a member's amount ÷ its uses over the"
    " term (or begin/end), beside the consortium's (a member user: its own rows only)",
    {
        200: list_of("CostPerUse"),
        400: ref("Error"),
        404: ref("Error"),
    },
    [
        {"name": "member_id", "in": "query", "schema": ID_PARAMETER},
        {"name": "offer_id", "in": "query", "schema": ID_PARAMETER},
        {"name": "resource_id", "in": "query", "schema": ID_PARAMETER},
        *FIGURE_PARAMETERS,
    ],
    tags=["usage"],
)
def usage_cost_per_use():
    ids = {}
    for name in ("member_id", "offer_id", "resource_id"):
        text = request.args.get(name)
        if text is not None:
            if not (text.isascii() and text.isdigit() and 0 < len(text) < 11):
                raise BadRequest(f"'{name}' must be an id.")
            ids[name] = int(text)
    member_id = ids.get("member_id")
    scope = member_scope()
    if scope is not None:
        if member_id is not None and member_id != scope:
            abort(404)
        member_id = scope
    elif member_id is not None:
        ensure_member_visible(member_id)
    metric = request.args.get("metric")
    if metric is not None and metric not in METRICS:
        raise BadRequest("'metric' must be a COUNTER R5 metric such as Total_Item_Requests.")
    window = _window(None) if ("begin" in request.args or "end" in request.args) else None
    rows = figures.cost_per_use(
        get_session(),
        member_id=member_id,
        offer_id=ids.get("offer_id"),
        resource_id=ids.get("resource_id"),
        metric=metric,
        window=window,
        for_member_user=scope is not None,
    )
    return whole_list([_cost_json(row) for row in rows])
