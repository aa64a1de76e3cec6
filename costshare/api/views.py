"""The JSON API `/api/v1`: token authentication, the same access rules as the pages.

Each feature adds its endpoints to `blueprint` in its own module (`api_*.py`),
imported at the bottom of this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import Select

from costshare.access import access
from costshare.api.openapi import PAGE_PARAMETERS, build_document, document, list_of, ref
from costshare.db import get_session
from costshare.extensions import csrf
from costshare.pagination import page_args, paginate

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer tokens, never cookies, authenticate the API: a forged cross-site post has no way in.
csrf.exempt(blueprint)


def paginated(query: Select[Any], serialize: Callable[[Any], dict[str, Any]]):
    """Answer one page of `query` in the list shape scripts rely on."""
    number, per_page = page_args(50)
    page = paginate(get_session(), query, number, per_page)
    return jsonify(
        {
            "items": [serialize(item) for item in page.items],
            "count": page.total,
            "page": page.number,
            "per_page": page.per_page,
        }
    )


def whole_list(items: list[dict[str, Any]]):
    """Answer a short list that is never paged (an offer's rounds) in the same list shape."""
    return jsonify({"items": items, "count": len(items), "page": 1, "per_page": max(1, len(items))})


@blueprint.route("/openapi.json")
@access("public")
@document("This document", {200: {"type": "object"}}, tags=["public"])
def openapi():
    return jsonify(build_document(current_app))


__all__ = ["PAGE_PARAMETERS", "blueprint", "document", "list_of", "paginated", "ref"]

# Feature endpoints register themselves on `blueprint` when imported.
from costshare.api import (  # noqa: E402, F401
    api_allocations,
    api_invoices,
    api_members,
    api_negotiation,
    api_offers,
    api_usage,
)
