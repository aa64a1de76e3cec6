"""Usage as a formula input: the workspace, drafts, finals, the API — numbers worked by hand.

The deal: members A1, B1, C1 with FTE 3000, 1000, 2000 (2026; Σ 6,000) take an offer
billing 2027 for 12,000.00. Usage of its resource (Total_Item_Requests, the 12 months
before the term = 2026):
    A1: TR master report, 300 (2026-01) + 100 (2026-06) + 200 (2026-12) = 600
        (and 999 in 2027-01, outside the window)
    B1: TR master report for 2026-03 only, 150; a TR_J1 view says 500 for 2026-03 (the
        master wins) and 50 for 2026-04 (no master that month: the view counts) = 200
    C1: none.
Half FTE, half usage, a member without usage counting as zero:
    FTE half 6,000.00:   A1 3,000.00   B1 1,000.00   C1 2,000.00
    usage half 6,000.00: A1 4,500.00   B1 1,500.00   C1     0.00   (600 : 200 : 0)
    amounts:             A1 7,500.00   B1 2,500.00   C1 2,000.00
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from costshare.allocations import services
from costshare.allocations.inputs import engine_scenario
from costshare.engine import allocate, to_jsonable
from costshare.formulas.forms import USAGE_FIELDS, FormulaFields
from costshare.formulas.services import clean_definition, create_formula
from costshare.usage.importing import import_usage
from tests.allocations.helpers import rows
from tests.factories import create_member, create_offer, create_resource
from tests.usage.support import journal_report, usage_spec

D = Decimal
HALF_AND_HALF = {
    "formula": {
        "components": [
            {"kind": "attribute", "attribute": "fte", "weight": "1"},
            {"kind": "attribute", "attribute": "usage", "weight": "1"},
        ]
    }
}


def definition(**changes):
    return {**HALF_AND_HALF, "usage": usage_spec(**changes)}


def load(session, member, report) -> None:
    import_usage(
        session, report.tsv(), member=member, filename=f"{member.code}-{report.report_id}.tsv"
    )


class Deal:
    def __init__(self, session) -> None:
        self.resource = create_resource(
            session, name="Meridian Journals", kind="journals", counter_platform="Meridian Online"
        )
        self.a = create_member(session, code="A1", facts={(2026, "fte"): 3000})
        self.b = create_member(session, code="B1", facts={(2026, "fte"): 1000})
        self.c = create_member(session, code="C1", facts={(2026, "fte"): 2000})
        self.offer = create_offer(
            session,
            resource=self.resource,
            joined=[self.a, self.b, self.c],
            pricing={"total": "12000.00"},
            title="Meridian 2027",
        )
        months = {"2026-01": 300, "2026-06": 100, "2026-12": 200, "2027-01": 999}
        load(session, self.a, journal_report(months, institution_id="x:a1"))
        view = {"2026-03": 500, "2026-04": 50}
        load(session, self.b, journal_report(view, "TR_J1", institution_id="x:b1"))
        load(session, self.b, journal_report({"2026-03": 150}, institution_id="x:b1"))


@pytest.fixture
def deal(session) -> Deal:
    return Deal(session)


def amounts(split) -> dict[str, Decimal]:
    return {line["code"]: line["amount"] for line in split.result["lines"]}


def workspace_fields(**changes) -> dict[str, str]:
    """The workspace's formula panel: half FTE, half usage, as a person fills it in."""
    fields = {
        "action": "preview",
        "choice": "preset:equal",
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
        "usage_missing": "zero",
    }
    fields.update(changes)
    return fields


def _url(offer, term_year: int = 1) -> str:
    return f"/allocations/offers/{offer.id}/{term_year}"


# --- the split -----------------------------------------------------------------------------------


def test_the_split_by_usage_is_the_hand_computation(session, deal) -> None:
    split = services.preview(session, deal.offer, 1, definition())
    assert amounts(split) == {"A1": D("7500.00"), "B1": D("2500.00"), "C1": D("2000.00")}
    # The attribute the engine read: 600, 200 (master 150 + view 50) and 0 (counted as zero).
    attributes = {m["code"]: m["attributes"]["usage"] for m in split.scenario["members"]}
    assert attributes == {"A1": D(600), "B1": D(200), "C1": D(0)}
    assert "usage" not in split.scenario  # the engine never sees the settings


def test_the_master_report_counts_over_its_view_and_the_sources_say_so(session, deal) -> None:
    split = services.preview(session, deal.offer, 1, definition())
    figures = split.source.usage.as_json(split.source.members)
    assert figures["window"] == {"begin": "2026-01", "end": "2026-12"}
    assert figures["members"]["A1"] == {
        "uses": 600,
        "months": 3,
        "source": "TR, 3 months (2026-01 to 2026-12)",
    }
    # March from the master report (150, not the view's 500), April from the view (50).
    assert figures["members"]["B1"] == {
        "uses": 200,
        "months": 2,
        "source": "TR, 1 month (2026-03); TR_J1, 1 month (2026-04)",
    }
    assert figures["members"]["C1"] == {"uses": 0, "months": 0, "source": ""}


def test_a_stand_in_resources_usage_splits_a_new_product(session, deal) -> None:
    nova = create_resource(session, name="Nova Journals", counter_platform="Nova Host")
    new_product = create_offer(
        session, resource=nova, joined=[deal.a, deal.b, deal.c], pricing={"total": "12000.00"}
    )
    # Nova has no usage at all: with "refuse" every member is named.
    with pytest.raises(services.ServiceError) as refused:
        services.preview(session, new_product, 1, definition(missing="refuse"))
    assert refused.value.field == "usage.missing"
    assert "for A1, B1, C1: import their usage" in refused.value.message
    # Meridian's usage stands in for it: the very split of the Meridian deal.
    split = services.preview(session, new_product, 1, definition(resource_id=deal.resource.id))
    assert amounts(split) == {"A1": D("7500.00"), "B1": D("2500.00"), "C1": D("2000.00")}
    figures = split.source.usage.as_json(split.source.members)
    assert figures["stand_in"] is True and figures["resource"] == "Meridian Journals"


def test_refuse_names_the_members_without_usage(session, deal) -> None:
    with pytest.raises(services.ServiceError) as refused:
        services.preview(session, deal.offer, 1, definition(missing="refuse"))
    problem = refused.value
    assert problem.field == "usage.missing"
    assert problem.message == (
        "No usage of Meridian Journals (total item requests, 2026-01 to 2026-12) for C1:"
        " import their usage, or count members without usage as zero."
    )
    assert problem.details["members"] == ["C1"]


def test_a_window_before_the_billed_year_and_an_explicit_window(session, deal) -> None:
    # 12 months before the billed year 2027 are 2026 again: the same split.
    split = services.preview(
        session, deal.offer, 1, definition(window={"months": 12, "before_term": False})
    )
    assert amounts(split)["A1"] == D("7500.00")
    # 2026-06 to 2027-01: A1 100 + 200 + 999 = 1,299, B1 0, C1 0 → A1 takes the usage half.
    split = services.preview(
        session, deal.offer, 1, definition(window={"begin": "2026-06", "end": "2027-01"})
    )
    assert amounts(split) == {"A1": D("9000.00"), "B1": D("1000.00"), "C1": D("2000.00")}


# --- the workspace -------------------------------------------------------------------------------


def test_the_workspace_previews_and_shows_each_members_usage_and_source(
    as_coordinator, deal
) -> None:
    response = as_coordinator.post_form(_url(deal.offer), workspace_fields())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert {code: row["amount"] for code, row in rows(html).items()} == {
        "A1": D("7500.00"),
        "B1": D("2500.00"),
        "C1": D("2000.00"),
    }
    usage_rows = dict(
        re.findall(
            r'<tr data-code="(\w+)"><td>\w+</td>(.*?)</tr>', _section(html, "usage-used"), re.S
        )
    )
    assert "600" in usage_rows["A1"] and "TR, 3 months (2026-01 to 2026-12)" in usage_rows["A1"]
    assert "TR, 1 month (2026-03); TR_J1, 1 month (2026-04)" in usage_rows["B1"]
    assert "no usage" in usage_rows["C1"] and "counted as zero" in usage_rows["C1"]
    assert "Each member's Total_Item_Requests of <strong>Meridian Journals</strong>" in html
    assert 'id="usage-settings" open' in html  # the fieldset shows what is used


def test_the_workspace_names_the_members_without_usage_beside_the_field(
    as_coordinator, deal
) -> None:
    response = as_coordinator.post_form(_url(deal.offer), workspace_fields(usage_missing="refuse"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(r'<div class="error" id="usage_missing-error" role="alert">([^<]*)<', html)
    assert error is not None
    assert "for C1: import their usage, or count members without usage as zero." in error.group(1)
    assert 'id="split-table"' not in html  # no split, and no silent zero
    # No choice made for a member without usage is a sentence too, never a default.
    response = as_coordinator.post_form(_url(deal.offer), workspace_fields(usage_missing=""))
    assert response.status_code == 422
    assert re.search(
        r'id="usage_missing-error" role="alert">Say what a member without usage counts as',
        response.get_data(as_text=True),
    )


def test_the_settings_survive_save_reload_recompute_and_finalize(
    as_coordinator, session, deal
) -> None:
    response = as_coordinator.post_form(_url(deal.offer), workspace_fields(action="save"))
    assert response.status_code == 302
    draft = services.find(session, deal.offer.id, 1, "draft")
    assert draft.inputs["usage"] == usage_spec()
    assert services.definition_of(draft.inputs) == clean_definition(definition())
    assert {line.code: line.amount for line in draft.lines} == {
        "A1": D("7500.00"),
        "B1": D("2500.00"),
        "C1": D("2000.00"),
    }
    assert {line.code: line.attributes["usage"] for line in draft.lines} == {
        "A1": "600",
        "B1": "200",
        "C1": "0",
    }
    # Reloaded, the panel shows the same settings.
    html = as_coordinator.get(f"{_url(deal.offer)}?choice=draft").get_data(as_text=True)
    assert re.search(r'<option selected value="Total_Item_Requests">', html)
    assert re.search(r'<option selected value="zero">Counts as zero', html)
    assert re.search(r'<input id="usage_months"[^>]* value="12">', html)
    # C1's usage arrives: 200 in 2026-05. The draft says what changed, and recomputes.
    load(session, deal.c, journal_report({"2026-05": 200}, institution_id="x:c1"))
    assert services.input_changes(session, draft) == ["C1: usage 0 → 200."]
    response = as_coordinator.post_form(
        f"/allocations/{draft.id}/recompute", {"version": str(draft.version)}
    )
    assert response.status_code == 302
    session.refresh(draft)
    # Usage half by 600 : 200 : 200 → 3,600 / 1,200 / 1,200; plus the FTE half.
    assert {line.code: line.amount for line in draft.lines} == {
        "A1": D("6600.00"),
        "B1": D("2200.00"),
        "C1": D("3200.00"),
    }
    assert draft.inputs["usage"] == usage_spec()
    assert draft.inputs["usage_figures"]["members"]["C1"]["uses"] == 200
    response = as_coordinator.post_form(
        f"/allocations/{draft.id}/finalize", {"version": str(draft.version)}
    )
    assert response.status_code == 302
    session.refresh(draft)
    assert draft.is_final
    # The final keeps the usage it was computed with, whatever is imported later.
    load(session, deal.b, journal_report({"2026-08": 5000}, "TR", institution_id="x:b1"))
    html = as_coordinator.get(f"/allocations/{draft.id}").get_data(as_text=True)
    b1 = re.search(r'<tr data-code="B1"><td>B1</td>(.*?)</tr>', _section(html, "usage-used"), re.S)
    assert b1 is not None and '<td class="num">200</td>' in b1.group(1)
    assert "usage</code> = Total_Item_Requests of the offer's resource" in html
    # The stored scenario, without the settings, is exactly what the engine computed.
    assert to_jsonable(allocate(engine_scenario(draft.inputs))) == draft.result


def test_a_member_sees_its_own_usage_only(client, session, deal) -> None:
    from tests.factories import create_user

    draft = services.save_draft(session, deal.offer, 1, definition(), name="By usage")
    coordinator = create_user(session, "coordinator", email="c@usage.example.org")
    services.finalize(session, draft, coordinator, draft.version)
    create_user(session, "member", member=deal.b, email="finance@b1.example.org")
    client.login("finance@b1.example.org")
    html = client.get(f"/allocations/{draft.id}").get_data(as_text=True)
    used = _section(html, "usage-used")
    assert 'data-code="B1"' in used and "A1" not in used and "C1" not in used


def test_formulas_with_usage_compare_side_by_side(as_coordinator, session, deal) -> None:
    formula = create_formula(session, name="Half usage", definition=definition())
    html = as_coordinator.get(
        f"{_url(deal.offer)}?compare=formula:{formula.id}&compare=preset:equal"
    ).get_data(as_text=True)
    table = _section(html, "compare-table")
    a1 = re.search(r'<tr data-code="A1">(.*?)</tr>', table, re.S).group(1)
    # Half usage: 7,500.00; equal: 12,000 ÷ 3 = 4,000.00.
    assert "€7,500.00" in a1 and "€4,000.00" in a1
    splits = services.preview_many(
        session, deal.offer, 1, [definition(), definition(missing="refuse")]
    )
    assert amounts(splits[0])["B1"] == D("2500.00")
    assert splits[1].field == "usage.missing"


# --- the formula fields --------------------------------------------------------------------------


def test_the_fields_load_and_write_back_the_same_settings(app) -> None:
    with app.test_request_context():
        for spec in (
            usage_spec(),
            usage_spec(window={"months": 24, "before_term": False}, missing="refuse"),
            usage_spec(window={"begin": "2025-01", "end": "2025-12"}, resource_id=7),
            usage_spec(attribute="uses", metric="Searches_Regular"),
        ):
            form = FormulaFields(formdata=None, meta={"csrf": False})
            form.load({**HALF_AND_HALF, "usage": spec})
            written = form.definition()
            assert written["usage"] == spec
            assert clean_definition(written)["usage"] == spec
        form = FormulaFields(formdata=None, meta={"csrf": False})
        form.load(HALF_AND_HALF)
        assert "usage" not in form.definition()  # "— no usage —" writes none


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"usage_metric": "Downloads"}, "usage_metric", "Choose a COUNTER metric"),
        ({"usage_attribute": "Usage Count"}, "usage_attribute", "lower-case letters"),
        ({"usage_attribute": "solo_price"}, "usage_attribute", "filled in by the allocation"),
        ({"usage_months": "0"}, "usage_months", "The window is 1 to 120 months long."),
        ({"usage_months": "twelve"}, "usage_months", "Enter a whole number of months"),
        (
            {"usage_window": "between", "usage_begin": "2026-05", "usage_end": "2026-01"},
            "usage_end",
            "must follow its first",
        ),
        (
            {"usage_window": "between", "usage_begin": "2026-13", "usage_end": ""},
            "usage_begin",
            "first and last month as YYYY-MM",
        ),
        ({"usage_resource": "abc"}, "usage_resource", "Choose a resource from the list."),
        ({"usage_resource": "999999"}, "usage_resource", "There is no resource 999999"),
        ({"usage_missing": "maybe"}, "usage_missing", "Say what a member without usage"),
    ],
)
def test_each_wrong_usage_field_gets_its_sentence(
    as_coordinator, deal, fields, field, message
) -> None:
    response = as_coordinator.post_form(_url(deal.offer), workspace_fields(**fields))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<div class="error" id="{field}-error" role="alert">([^<]*)<', html)
    assert error is not None, field
    assert message in error.group(1)


USAGE_JUNK = ["", " ", "0", "-1", "9" * 40, "1e999", "NaN", "abc", "2026-1", "☃", "\x00", "x" * 500]


def test_junk_in_the_usage_fields_never_gives_500(as_coordinator, deal) -> None:
    for name in USAGE_FIELDS:
        for value in USAGE_JUNK:
            for window in ("before_term", "between"):
                fields = workspace_fields(**{"usage_window": window, name: value})
                response = as_coordinator.post_form(_url(deal.offer), fields)
                assert response.status_code in (200, 422), (name, value)
                editor = {**fields, "name": "Junk usage", "action": "check"}
                response = as_coordinator.post_form("/formulas/new", editor)
                assert response.status_code in (200, 422), (name, value)
                query = {k: v for k, v in fields.items() if k not in ("action", "choice")}
                response = as_coordinator.get(
                    "/formulas/check", query_string={**query, "offer_id": deal.offer.id}
                )
                if "\x00" in value:  # no address may hold a NUL: refused with a sentence
                    assert response.status_code == 400, (name, value)
                    assert "NUL character" in response.get_data(as_text=True)
                else:
                    assert response.status_code == 200 and response.is_json, (name, value)


# --- the API -------------------------------------------------------------------------------------


def test_the_api_saves_a_formula_with_usage_and_checks_it(client, session, world, deal) -> None:
    headers = {"Authorization": f"Bearer {world.tokens['coordinator']}"}
    response = client.post(
        "/api/v1/formulas",
        json={"name": "Half usage", "definition": definition(missing="refuse")},
        headers=headers,
    )
    assert response.status_code == 201
    assert response.json["definition"]["usage"] == usage_spec(missing="refuse")
    assert response.json["facts_needed"] == ["fte"]  # usage is no fact
    for spec, field in (
        (usage_spec(metric="Downloads"), "usage.metric"),
        (usage_spec(window={"months": 500}), "usage.window.months"),
        (usage_spec(resource_id=999999), "usage.resource_id"),
        ({**usage_spec(), "colour": "red"}, "usage.colour"),
        ("monthly", "usage"),
    ):
        response = client.post(
            "/api/v1/formulas",
            json={"name": f"Bad {field}", "definition": {**HALF_AND_HALF, "usage": spec}},
            headers=headers,
        )
        assert response.status_code == 422, field
        assert response.json["details"]["field"] == field
    missing = {k: v for k, v in usage_spec().items() if k != "missing"}
    response = client.post(
        "/api/v1/formulas",
        json={"name": "No choice", "definition": {**HALF_AND_HALF, "usage": missing}},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json["details"]["field"] == "usage.missing"


def test_the_api_computes_a_draft_with_usage(client, session, world, deal) -> None:
    headers = {"Authorization": f"Bearer {world.tokens['coordinator']}"}
    response = client.post(
        "/api/v1/allocations",
        json={"offer_id": deal.offer.id, "definition": definition(missing="refuse")},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json["details"]["field"] == "usage.missing"
    assert response.json["details"]["members"] == ["C1"]
    response = client.post(
        "/api/v1/allocations",
        json={"offer_id": deal.offer.id, "definition": definition(), "name": "Half usage"},
        headers=headers,
    )
    assert response.status_code == 201
    body = response.json
    assert {line["code"]: line["amount"] for line in body["lines"]} == {
        "A1": "7500.00",
        "B1": "2500.00",
        "C1": "2000.00",
    }
    assert body["formula"]["usage"] == usage_spec()
    assert body["inputs"]["usage_figures"]["members"]["B1"]["uses"] == 200
    # Recomputed through the API, the settings stay.
    load(session, deal.c, journal_report({"2026-05": 200}, institution_id="x:c1"))
    response = client.post(
        f"/api/v1/allocations/{body['id']}/recompute",
        json={"version": body["version"]},
        headers=headers,
    )
    assert response.status_code == 200
    assert {line["code"]: line["amount"] for line in response.json["lines"]}["C1"] == "3200.00"
    assert response.json["formula"]["usage"] == usage_spec()


def test_the_openapi_document_describes_the_usage_settings(client) -> None:
    document = client.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    assert schemas["Definition"]["properties"]["usage"] == {
        "$ref": "#/components/schemas/UsageSettings"
    }
    settings = schemas["UsageSettings"]
    assert settings["required"] == ["metric", "window", "missing"]
    assert settings["properties"]["missing"]["enum"] == ["zero", "refuse"]
    assert "Total_Item_Requests" in settings["properties"]["metric"]["enum"]


def _section(html: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert match is not None, table_id
    return match.group(0)


def test_a_usage_definition_is_plain_json(session, deal) -> None:
    draft = services.save_draft(session, deal.offer, 1, definition(), name="By usage")
    assert json.loads(json.dumps(draft.inputs)) == draft.inputs
