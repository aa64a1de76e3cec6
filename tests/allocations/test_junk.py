"""No input to the allocation and formula forms or API can produce a 500."""

from __future__ import annotations

import itertools
import json
import random

import pytest

from costshare.allocations import services
from tests.allocations.helpers import HALF_FTE_HALF_EQUAL, small_consortium

JUNK = [
    "",
    " ",
    "0",
    "-1",
    "1e999",
    "-1e-999",
    "NaN",
    "Infinity",
    "sNaN",
    "9" * 60,
    "0.000000000000000000001",
    "abc",
    "solo_price",
    "fte",
    "<script>alert(1)</script>",
    "☃ 中山大学",
    "{",
    "[]",
    "{}",
    "null",
    '[{"min": "x"}]',
    '{"a": -1}',
    '{"weighted": {"sum": {"fte": "NaN"}}}',
    '{"attribute": "sector", "shares": {"university": 1}}',
    "x" * 5000,
    "\x00",
]
FIELDS = [
    "method",
    "components-0-kind",
    "components-0-attribute",
    "components-0-weight",
    "components-0-transform",
    "components-0-name",
    "components-0-options",
    "components-1-kind",
    "components-99999999999999999999-kind",
    "fixed_fee",
    "floor",
    "cap",
    "max_change",
    "rounding_unit",
    "derived",
    "groups",
    "choice",
    "version",
    "check_offer",
    "action",
]
KINDS = ["equal", "attribute", "tiers", "table", "zz", ""]


def _forms(seed: int, count: int):
    rng = random.Random(seed)
    for field, value in zip(itertools.cycle(FIELDS), itertools.cycle(JUNK), strict=False):
        yield {field: value, "action": rng.choice(["preview", "save", "check", "zz"])}
        count -= 1
        if count == 0:
            return


def _random_form(rng: random.Random) -> dict[str, str]:
    form = {"action": rng.choice(["preview", "save", "check"])}
    for row in range(rng.randint(0, 3)):
        form[f"components-{row}-kind"] = rng.choice(KINDS)
        form[f"components-{row}-attribute"] = rng.choice(["fte", "budget", "", "solo_price"])
        form[f"components-{row}-weight"] = rng.choice(JUNK[:12])
        form[f"components-{row}-options"] = rng.choice(JUNK[16:24])
        form[f"components-{row}-transform"] = rng.choice(["none", "sqrt", "log1p", "zz"])
    for field in ("fixed_fee", "floor", "cap", "max_change", "rounding_unit", "method"):
        if rng.random() < 0.4:
            form[field] = rng.choice([*JUNK[:14], "shapley", "equal_savings", "0.05", "100"])
    for field in ("derived", "groups"):
        if rng.random() < 0.2:
            form[field] = rng.choice(JUNK[16:24])
    return form


@pytest.fixture
def small(session):
    return small_consortium(session)


def test_junk_to_the_workspace_never_gives_500(as_coordinator, small) -> None:
    url = f"/allocations/offers/{small.offer.id}/1"
    for form in _forms(1, len(FIELDS) * 2):
        response = as_coordinator.post_form(url, form)
        assert response.status_code in (200, 302, 409, 422), (form, response.status_code)
    rng = random.Random(7)
    for _ in range(120):
        form = _random_form(rng)
        response = as_coordinator.post_form(url, form)
        assert response.status_code in (200, 302, 409, 422), (form, response.status_code)
    for query in (
        "choice=zz",
        "choice=formula:99999999999",
        "choice=formula:abc",
        "compare=zz&compare=preset:equal",
        "compare=preset:equal&compare=preset:equal&compare=preset:equal&compare=draft",
        "compare=preset:ehlbc-per-fte&compare=preset:caul-weighted-fte",
        "compare_with=preset:equal",
    ):
        response = as_coordinator.get(f"{url}?{query}")
        assert response.status_code == 200, query
    assert as_coordinator.get(f"/allocations/offers/{small.offer.id}/2").status_code == 404
    assert as_coordinator.get("/allocations/offers/999999/1").status_code == 404
    assert as_coordinator.get("/allocations/?status=zz&page=-3").status_code == 200
    huge = "9" * 25
    for path in (
        f"/allocations/{huge}",
        f"/allocations/offers/{huge}",
        f"/allocations/offers/{huge}/1",
        f"/allocations/offers/{small.offer.id}/{huge}",
        f"/formulas/{huge}",
        f"/formulas/{huge}/edit",
        f"/api/v1/allocations/{huge}",
        f"/api/v1/formulas/{huge}",
    ):
        assert as_coordinator.get(path).status_code in (401, 404), path


def test_junk_to_the_formula_editor_and_check_never_gives_500(as_coordinator, small) -> None:
    rng = random.Random(11)
    for form in _forms(2, len(FIELDS) * 2):
        form.setdefault("name", "Junk")
        response = as_coordinator.post_form("/formulas/new", form)
        assert response.status_code in (200, 302, 422), (form, response.status_code)
    for _ in range(80):
        form = _random_form(rng)
        form["name"] = rng.choice(["Junk", "", "x" * 300, "☃"])
        form["check_offer"] = rng.choice(["", str(small.offer.id), "zz", "-1", "9" * 30])
        response = as_coordinator.post_form("/formulas/new", form)
        assert response.status_code in (200, 302, 422), (form, response.status_code)
        form.pop("action")
        form["offer_id"] = form.pop("check_offer")
        response = as_coordinator.get("/formulas/check", query_string=form)
        assert response.status_code == 200 and response.is_json, form
    for query in ("offer=zz", "offer=999999999", f"offer={small.offer.id}"):
        assert as_coordinator.get(f"/formulas/1?{query}").status_code in (200, 404)


def test_junk_to_the_allocation_actions_never_gives_500(as_coordinator, session, small) -> None:
    draft = services.save_draft(session, small.offer, 1, HALF_FTE_HALF_EQUAL, name="Half")
    for version in ("", "zz", "-1", "9" * 40, "1.5", str(draft.version + 3)):
        for action in ("recompute", "finalize"):
            response = as_coordinator.post_form(
                f"/allocations/{draft.id}/{action}", {"version": version}
            )
            assert response.status_code in (302, 409), (action, version, response.status_code)
    response = as_coordinator.post(f"/allocations/{draft.id}/finalize", data={"version": "1"})
    assert response.status_code == 400  # no CSRF token


BODIES = [
    None,
    [],
    "x",
    1,
    {},
    {"offer_id": "1"},
    {"offer_id": True},
    {"offer_id": -5},
    {"offer_id": 2**40},
    {"offer_id": 999999},
    {"offer_id": None},
    {"term_year": 0},
    {"preset": 5},
    {"preset": "nonsense"},
    {"formula_id": "abc"},
    {"formula_id": 2**63},
    {"definition": "x"},
    {"definition": {"formula": []}},
    {"definition": {"formula": {"components": "x"}}},
    {"definition": {"formula": {"components": [{"kind": "equal", "weight": "NaN"}]}}},
    {"definition": {"formula": {"components": [{"kind": "equal"}]}, "extra": 1}},
    {"definition": {"formula": {"method": "shapley"}, "groups": {"attribute": "sector"}}},
    {"definition": {"formula": {"method": "shapley"}}, "preset": "equal"},
    {"name": ["x"], "preset": "equal"},
    {"version": "abc", "preset": "equal"},
    {"version": -1, "preset": "equal"},
]


def test_junk_to_the_api_never_gives_500(client, session, world, small) -> None:
    headers = {"Authorization": f"Bearer {world.tokens['coordinator']}"}
    draft = services.save_draft(session, small.offer, 1, HALF_FTE_HALF_EQUAL, name="Half")
    for body in BODIES:
        for url in (
            "/api/v1/allocations",
            "/api/v1/formulas",
            f"/api/v1/allocations/{draft.id}/recompute",
            "/api/v1/calc",
        ):
            if isinstance(body, dict) and url == "/api/v1/allocations":
                body = {"offer_id": small.offer.id, **body}
            data = json.dumps(body) if body is not None else "{"
            response = client.post(url, data=data, headers=headers, content_type="application/json")
            assert response.status_code in (200, 201, 400, 404, 409, 422), (url, body)
            assert response.is_json
    for query in (
        "offer_id=zz",
        "offer_id=-1",
        "offer_id=99999999999999999999999",
        "status=zz",
        "page=0&per_page=100000",
    ):
        response = client.get(f"/api/v1/allocations?{query}", headers=headers)
        assert response.status_code in (200, 404), query
    response = client.post(f"/api/v1/allocations/{draft.id}/finalize", data="[", headers=headers)
    assert response.status_code == 400
    final = client.post(
        f"/api/v1/allocations/{draft.id}/finalize",
        json={"version": "x"},
        headers=headers,
    )
    assert final.status_code == 422
