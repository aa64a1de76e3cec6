"""Every download names its file through the one Content-Disposition writer."""

from __future__ import annotations

from costshare.db import today
from costshare.downloads import content_disposition


def test_the_header_keeps_names_inert() -> None:
    assert content_disposition("统计 2027/1\r\n.pdf", "inline") == (
        "inline; filename=\"__ 2027_1__.pdf\"; filename*=UTF-8''%E7%BB%9F%E8%AE%A1%202027_1__.pdf"
    )


def test_the_members_export_uses_it(as_coordinator) -> None:
    response = as_coordinator.get("/members/export.csv")
    stamp = today().isoformat()
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=\"members-{stamp}.csv\"; filename*=UTF-8''members-{stamp}.csv"
    )
