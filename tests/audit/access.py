"""Access entry of the audit log (consortium staff)."""

from __future__ import annotations

from tests.access_registry import Entry

ENTRIES = {"audit.index": Entry()}
