"""Formulas: presets, the editor that checks against an offer's members, the live check."""

from __future__ import annotations

import re

from sqlalchemy import select

from costshare.allocations.models import Formula
from costshare.audit.models import AuditEvent
from costshare.formulas.services import create_formula
from tests.factories import create_member, create_offer

HALF = {
    "formula": {
        "components": [
            {"kind": "equal", "weight": 1},
            {"kind": "attribute", "attribute": "fte", "weight": 1},
        ]
    }
}


def _offer_missing_budget(session):
    """Two members with FTE; only one with a budget."""
    a = create_member(session, code="FA", facts={(2026, "fte"): 100, (2026, "budget"): 5})
    b = create_member(session, code="FB", facts={(2026, "fte"): 300})
    return create_offer(session, joined=[a, b], title="Check offer")


def test_the_index_shows_presets_and_saved_formulas(as_negotiator, session) -> None:
    create_formula(session, name="Half and half", definition=HALF)
    html = as_negotiator.get("/formulas/").get_data(as_text=True)
    assert "Half and half" in html
    assert "90 % FTE, 10 % equal" in html and "Weighted FTE 10 : 3 : 1" in html
    assert "New formula" not in html  # negotiators read, coordinators edit
    preset = as_negotiator.get("/formulas/presets/caul-weighted-fte").get_data(as_text=True)
    assert "fte_research" in preset and "CAUL" in preset
    assert as_negotiator.get("/formulas/presets/nonsense").status_code == 404


def test_a_coordinator_saves_a_preset_as_a_formula(as_coordinator, session) -> None:
    page = as_coordinator.get("/formulas/new?preset=csu-fte-equal").get_data(as_text=True)
    assert 'value="90 % FTE, 10 % equal"' in page
    assert re.search(r'name="components-0-attribute"[^>]*value="fte"', page)
    response = as_coordinator.post_form(
        "/formulas/new?preset=csu-fte-equal",
        {
            "name": "CSU, capped",
            "action": "save",
            "method": "formula",
            "components-0-kind": "attribute",
            "components-0-attribute": "fte",
            "components-0-weight": "90",
            "components-1-kind": "equal",
            "components-1-weight": "10",
            "cap": "solo_price",
            "max_change": "5",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    formula = session.scalars(select(Formula).where(Formula.name == "CSU, capped")).one()
    assert formula.preset_key == "csu-fte-equal"
    assert formula.definition == {
        "formula": {
            "components": [
                {"kind": "attribute", "weight": "90", "attribute": "fte"},
                {"kind": "equal", "weight": "10"},
            ],
            "cap": "solo_price",
            "max_change": "0.05",
        }
    }
    detail = as_coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "± 5.0 %" in detail and "nobody pays more than alone" in detail
    events = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == formula.id))
    assert "formula.create" in list(events)


def test_the_editor_names_missing_facts_before_saving(as_coordinator, session) -> None:
    offer = _offer_missing_budget(session)
    response = as_coordinator.post_form(
        "/formulas/new",
        {
            "name": "Budget formula",
            "action": "save",
            "check_offer": str(offer.id),
            "components-0-kind": "attribute",
            "components-0-attribute": "budget",
            "components-1-kind": "attribute",
            "components-1-attribute": "articles",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(
        r'id="components-0-attribute-error"[^>]*>Member FB has no attribute &#39;budget', html
    )
    assert re.search(
        r'id="components-1-attribute-error"[^>]*>Members FA and FB have no attribute &#39;articles',
        html,
    )
    assert session.scalar(select(Formula.id).where(Formula.name == "Budget formula")) is None


def test_the_editor_refuses_malformed_fields_beside_them(as_coordinator, session) -> None:
    response = as_coordinator.post_form(
        "/formulas/new",
        {
            "name": "Broken",
            "action": "save",
            "components-0-kind": "tiers",
            "components-0-attribute": "fte",
            "components-0-options": "[{min: 0}",
            "components-1-kind": "attribute",
            "components-1-attribute": "fte",
            "components-1-weight": "-2",
            "max_change": "five",
            "derived": "[1, 2]",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="components-0-options-error"[^>]*>The tiers are not valid JSON', html)
    assert re.search(r'id="max_change-error"[^>]*>Enter a percentage', html)
    assert re.search(r'id="derived-error"[^>]*>Give a JSON object', html)


def test_editing_a_formula_keeps_allocations_as_computed(as_coordinator, session) -> None:
    formula = create_formula(session, name="Half and half", definition=HALF)
    page = as_coordinator.get(f"/formulas/{formula.id}/edit").get_data(as_text=True)
    assert re.search(r'name="components-1-attribute"[^>]*value="fte"', page)
    response = as_coordinator.post_form(
        f"/formulas/{formula.id}/edit",
        {
            "name": "Mostly FTE",
            "action": "save",
            "components-0-kind": "equal",
            "components-0-weight": "1",
            "components-1-kind": "attribute",
            "components-1-attribute": "fte",
            "components-1-weight": "4",
        },
    )
    assert response.status_code == 302
    session.refresh(formula)
    assert formula.name == "Mostly FTE"
    assert formula.definition["formula"]["components"][1]["weight"] == "4"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "formula.update")).one()
    assert event.before["name"] == "Half and half" and event.after["name"] == "Mostly FTE"


def test_the_live_check_answers_json_naming_members(as_negotiator, session) -> None:
    offer = _offer_missing_budget(session)
    response = as_negotiator.get(
        f"/formulas/check?offer_id={offer.id}&components-0-kind=attribute"
        "&components-0-attribute=budget&components-1-kind=equal&cap=solo_price"
    )
    body = response.get_json()
    assert body["ok"] is False and body["offer"] == "Check offer" and body["members"] == 2
    by_field = {p["field"]: p for p in body["problems"]}
    assert by_field["components-0-attribute"]["members"] == ["FB"]
    assert by_field["cap"]["attribute"] == "solo_price"
    assert body["needed"] == ["budget", "solo_price"]
    fine = as_negotiator.get(
        f"/formulas/check?offer_id={offer.id}&components-0-kind=attribute"
        "&components-0-attribute=fte"
    ).get_json()
    assert fine == {
        "ok": True,
        "problems": [],
        "messages": [],
        "needed": ["fte"],
        "offer": "Check offer",
        "members": 2,
    }


def test_the_formula_page_checks_against_an_offer(as_negotiator, session) -> None:
    offer = _offer_missing_budget(session)
    formula = create_formula(
        session,
        name="By budget",
        definition={"formula": {"components": [{"kind": "attribute", "attribute": "budget"}]}},
    )
    html = as_negotiator.get(f"/formulas/{formula.id}?offer={offer.id}").get_data(as_text=True)
    assert "Member FB has no attribute &#39;budget&#39;" in html
    assert 'id="needed-facts"' in html


def test_components_do_not_apply_to_the_other_methods(as_coordinator, session) -> None:
    response = as_coordinator.post_form(
        "/formulas/new",
        {
            "name": "Savings shared",
            "action": "save",
            "method": "proportional_savings",
            "components-0-kind": "attribute",
            "components-0-attribute": "fte",
            "cap": "solo_price",
        },
    )
    assert response.status_code == 302
    formula = session.scalars(select(Formula).where(Formula.name == "Savings shared")).one()
    assert formula.definition == {
        "formula": {"method": "proportional_savings", "cap": "solo_price"}
    }


def test_the_formula_pages_issue_a_fixed_number_of_queries(app, as_coordinator, session) -> None:
    from tests.factories import QueryCounter

    def count(url: str) -> int:
        session.expire_all()
        with QueryCounter(app) as counter:
            assert as_coordinator.get(url).status_code == 200
        return counter.count

    first = create_formula(session, name="F0", definition=HALF)
    offer = _offer_missing_budget(session)
    few = (count("/formulas/"), count(f"/formulas/{first.id}?offer={offer.id}"))
    for n in range(1, 15):
        create_formula(session, name=f"F{n}", definition=HALF)
    many = [
        create_member(session, code=f"FX{n:02d}", facts={(2026, "fte"): 10 + n}) for n in range(25)
    ]
    big = create_offer(session, joined=many, title="Big offer")
    assert (count("/formulas/"), count(f"/formulas/{first.id}?offer={big.id}")) == few
