"""Demo data for the invoices feature (run by costshare.demo.seed_demo)."""

from __future__ import annotations

from costshare.demo import Demo


def seed(demo: Demo) -> None:
    """Add this feature's part of the demo consortium."""
