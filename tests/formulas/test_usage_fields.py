"""The formula editor's usage fields: saved, shown in words, checked against an offer's members.

Two members: UA with 40 Total_Item_Requests of the resource in 2026 (the 12 months
before a 2027 term), UB with none.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from costshare.allocations.models import Formula
from costshare.usage.importing import import_usage
from tests.factories import create_member, create_offer, create_resource
from tests.usage.support import journal_report

FIELDS = {
    "name": "Half usage",
    "method": "formula",
    "components-0-kind": "attribute",
    "components-0-attribute": "fte",
    "components-0-weight": "1",
    "components-1-kind": "attribute",
    "components-1-attribute": "usage",
    "components-1-weight": "1",
    "usage_metric": "Total_Item_Requests",
    "usage_attribute": "usage",
    "usage_window": "before_term",
    "usage_months": "12",
    "usage_resource": "",
    "usage_missing": "refuse",
}


@pytest.fixture
def offer(session):
    resource = create_resource(session, name="Checked Journals", counter_platform="Check Host")
    a = create_member(session, code="UA", facts={(2026, "fte"): 100})
    b = create_member(session, code="UB", facts={(2026, "fte"): 300})
    data = journal_report({"2026-04": 40}, platform="Check Host", institution_id="x:ua").tsv()
    import_usage(session, data, member=a, filename="ua.tsv")
    return create_offer(session, resource=resource, joined=[a, b], title="Usage check offer")


def test_a_coordinator_saves_a_formula_that_reads_usage(as_coordinator, session) -> None:
    response = as_coordinator.post_form("/formulas/new", {**FIELDS, "action": "save"})
    assert response.status_code == 302
    formula = session.scalar(select(Formula).where(Formula.name == "Half usage"))
    assert formula.definition["usage"] == {
        "attribute": "usage",
        "metric": "Total_Item_Requests",
        "window": {"months": 12, "before_term": True},
        "resource_id": None,
        "missing": "refuse",
    }
    html = as_coordinator.get(f"/formulas/{formula.id}").get_data(as_text=True)
    summary = re.search(r'<dd id="usage-summary">(.*?)</dd>', html, re.S).group(1)
    assert "Total_Item_Requests of the offer's resource" in summary
    assert "the 12 months before the term" in summary
    assert "a member without usage stops the split" in summary
    # Usage is no fact a member must have: only FTE is listed.
    assert re.search(r'<p id="needed-facts"><code>fte</code> </p>', html)
    index = as_coordinator.get("/formulas/").get_data(as_text=True)
    assert "usage: Total_Item_Requests" in index
    edit = as_coordinator.get(f"/formulas/{formula.id}/edit").get_data(as_text=True)
    assert 'id="usage-settings" open' in edit
    assert '<option selected value="refuse">' in edit


def test_a_stand_in_resource_is_named_in_words(as_coordinator, session, offer) -> None:
    stand_in = create_resource(session, name="Older Journals")
    response = as_coordinator.post_form(
        "/formulas/new",
        {**FIELDS, "usage_resource": str(stand_in.id), "action": "save"},
    )
    assert response.status_code == 302
    formula = session.scalar(select(Formula).where(Formula.name == "Half usage"))
    assert formula.definition["usage"]["resource_id"] == stand_in.id
    html = as_coordinator.get(f"/formulas/{formula.id}").get_data(as_text=True)
    assert "Older Journals (standing in)" in html
    edit = as_coordinator.get(f"/formulas/{formula.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{stand_in.id}">Older Journals (' in edit


def test_the_check_against_an_offer_names_the_members_without_usage(
    as_coordinator, session, offer
) -> None:
    response = as_coordinator.post_form(
        "/formulas/new", {**FIELDS, "check_offer": str(offer.id), "action": "check"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(r'id="usage_missing-error" role="alert">([^<]*)<', html).group(1)
    assert "for UB: import their usage, or count members without usage as zero." in error
    # The live check says the same, with the field's id for the page's script.
    query = {k: v for k, v in FIELDS.items() if k != "name"}
    outcome = as_coordinator.get(
        "/formulas/check", query_string={**query, "offer_id": offer.id}
    ).json
    assert outcome["ok"] is False
    assert outcome["problems"][0]["field"] == "usage_missing"
    assert outcome["problems"][0]["members"] == ["UB"]
    # Counting UB as zero, every member has what the formula reads.
    outcome = as_coordinator.get(
        "/formulas/check", query_string={**query, "usage_missing": "zero", "offer_id": offer.id}
    ).json
    assert outcome["ok"] is True and outcome["needed"] == ["fte"]


def test_without_a_metric_the_formula_reads_no_usage(as_coordinator, session) -> None:
    fields = {**FIELDS, "usage_metric": "", "components-1-kind": "", "action": "save"}
    response = as_coordinator.post_form("/formulas/new", fields)
    assert response.status_code == 302
    formula = session.scalar(select(Formula).where(Formula.name == "Half usage"))
    assert "usage" not in formula.definition
