"""A name of only spaces is no name: the form refuses it beside the field, nothing is stored."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from costshare.members.models import Member
from costshare.offers.models import Vendor


def test_a_member_named_only_spaces_is_refused_beside_the_field(as_coordinator, session) -> None:
    before = session.scalar(select(func.count()).select_from(Member))
    response = as_coordinator.post_form(
        "/members/new",
        {"code": "BLANK", "name": " \t  \u3000", "billing_currency": "EUR"},
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert re.search(r'id="name-error"[^>]*>Give the member&#39;s name\.', body)
    assert 'id="code-error"' not in body
    assert session.scalar(select(func.count()).select_from(Member)) == before
    assert session.scalar(select(Member).where(Member.code == "BLANK")) is None


def test_a_vendor_named_only_spaces_is_refused(as_coordinator, session) -> None:
    before = session.scalar(select(func.count()).select_from(Vendor))
    response = as_coordinator.post_form("/vendors/new", {"name": "   "})
    assert response.status_code == 422
    assert re.search(
        r'id="name-error"[^>]*>Give the vendor&#39;s name\.', response.get_data(as_text=True)
    )
    assert session.scalar(select(func.count()).select_from(Vendor)) == before


def test_a_name_with_spaces_around_it_is_kept_without_them(as_coordinator, session) -> None:
    response = as_coordinator.post_form(
        "/members/new", {"code": "TRIM", "name": "  Trimmed Library  ", "billing_currency": "EUR"}
    )
    assert response.status_code == 302
    assert session.scalar(select(Member.name).where(Member.code == "TRIM")) == "Trimmed Library"
