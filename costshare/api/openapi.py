"""The OpenAPI document, built from the real API routes and what each one declares.

A view declares its contract with `@document(...)`; `build_document` walks the
app's URL map, so a route cannot exist without appearing here, and a path
cannot appear here without a route.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask

from costshare.urls import MAX_ID

F = TypeVar("F", bound=Callable[..., Any])

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "details": {}},
}


def list_of(item_ref: str) -> dict[str, Any]:
    """Return the schema of a paginated list of `item_ref` objects."""
    return {
        "type": "object",
        "required": ["items", "count", "page", "per_page"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item_ref}"}},
            "count": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
        },
    }


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


PAGE_PARAMETERS = [
    {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000000},
    },
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
    },
]

#: Schemas shared by the endpoints; features add theirs with `SCHEMAS.update(...)`.
SCHEMAS: dict[str, Any] = {
    "Error": ERROR,
    "Money": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
}


def document(
    summary: str,
    responses: dict[int, Any],
    parameters: list[dict[str, Any]] | None = None,
    request_body: dict[str, Any] | None = None,
    tags: list[str] | None = None,
) -> Callable[[F], F]:
    """Attach the OpenAPI operation of the decorated view."""

    def decorate(view: F) -> F:
        view.openapi = {  # type: ignore[attr-defined]
            "summary": summary,
            "responses": responses,
            "parameters": parameters or [],
            "request_body": request_body,
            "tags": tags or [],
        }
        return view

    return decorate


def _response(status: int, spec: Any) -> dict[str, Any]:
    if status == 204:
        return {"description": "No content"}
    if isinstance(spec, dict) and "content" in spec:
        return {"description": spec.get("description", "OK"), "content": spec["content"]}
    description = {200: "OK", 201: "Created"}.get(status, "Error")
    return {"description": description, "content": {"application/json": {"schema": spec}}}


def _path_of(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema = (
            {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            if converter == "int"
            else {"type": "string"}
        )
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def build_document(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api."):
            continue
        view = app.view_functions[rule.endpoint]
        spec = getattr(view, "openapi", None)
        if spec is None:
            continue
        path, path_params = _path_of(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            responses = {
                str(status): _response(status, schema)
                for status, schema in spec["responses"].items()
            }
            if "public" not in spec["tags"]:
                responses.setdefault("401", _response(401, ref("Error")))
            operation: dict[str, Any] = {
                "operationId": rule.endpoint.removeprefix("api.") + "_" + method.lower(),
                "summary": spec["summary"],
                "parameters": path_params + spec["parameters"],
                "responses": responses,
            }
            if spec["tags"]:
                operation["tags"] = [t for t in spec["tags"] if t != "public"]
            if "public" in spec["tags"]:
                operation["security"] = []
            if spec["request_body"] is not None:
                operation["requestBody"] = spec["request_body"]
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "costshare API",
            "version": "1",
            "description": (
                "Members, offers, allocations, invoices and usage of a library consortium."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
