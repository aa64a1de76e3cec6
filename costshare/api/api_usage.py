"""API: usage imports and figures."""

from __future__ import annotations

from costshare.api.views import blueprint  # noqa: F401 - endpoints are added to it here
